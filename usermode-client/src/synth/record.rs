//! An owned record: what the workload yields. It implements the protocol's
//! [`Encode`], so it can go to a capture writer or, exactly as the driver's
//! records do, to [`vigil_protocol::ring::Producer::push`].

use vigil_protocol::encode::{Encode, Plan, Record, RecordOut, Stamp, Var};
use vigil_protocol::schema::{
    FileCreate, FileDelete, FileLink, FileRename, FileSetInfo, FileWrite, ImageLoad, Kind, MAX_VARS, ProcessExit,
    ProcessStart,
};

/// The fixed body of a synthetic record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "each variant is named after its body type")]
pub enum Body {
    ProcessStart(ProcessStart),
    ProcessExit(ProcessExit),
    ImageLoad(ImageLoad),
    FileCreate(FileCreate),
    FileWrite(FileWrite),
    FileRename(FileRename),
    FileLink(FileLink),
    FileDelete(FileDelete),
    FileSetInfo(FileSetInfo),
}

/// Variable-length data, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarData {
    /// Unknown.
    Absent,
    /// Text (encoded as UTF-16LE).
    Text(Vec<u16>),
    /// Bytes (a SID).
    Bytes(Vec<u8>),
}

impl VarData {
    /// Text from a `&str`.
    pub fn text(s: &str) -> Self {
        Self::Text(s.encode_utf16().collect())
    }

    fn as_var(&self) -> Var<'_> {
        match self {
            VarData::Absent => Var::Absent,
            VarData::Text(t) => Var::Utf16(t),
            VarData::Bytes(b) => Var::Bytes(b),
        }
    }
}

/// A record with owned data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthRecord {
    /// Header fields.
    pub stamp: Stamp,
    /// Fixed body.
    pub body: Body,
    /// Variable data in the body's `VARS` order.
    pub vars: Vec<VarData>,
}

macro_rules! with_record {
    ($self:ident, $r:ident => $e:expr) => {{
        let mut vars = [Var::Absent; MAX_VARS];
        for (slot, v) in vars.iter_mut().zip(&$self.vars) {
            *slot = v.as_var();
        }
        match $self.body {
            Body::ProcessStart(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::ProcessExit(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::ImageLoad(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::FileCreate(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::FileWrite(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::FileRename(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::FileLink(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::FileDelete(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
            Body::FileSetInfo(b) => {
                let $r = Record { stamp: $self.stamp, body: b, vars };
                $e
            }
        }
    }};
}

impl Encode for SynthRecord {
    fn kind(&self) -> Kind {
        with_record!(self, r => r.kind())
    }

    fn stamp(&self) -> Stamp {
        self.stamp
    }

    fn plan(&self, max_size: usize) -> Option<Plan> {
        with_record!(self, r => r.plan(max_size))
    }

    fn write<O: RecordOut + ?Sized>(&self, plan: &Plan, seq: u64, out: &mut O) {
        with_record!(self, r => r.write(plan, seq, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_protocol::decode::{Event, decode};
    use vigil_protocol::encode::encode_to_vec;

    #[test]
    fn encodes_like_the_borrowed_record() {
        let r = SynthRecord {
            stamp: Stamp { timestamp: 5, pid: 8, tid: 12, process_key: 3 },
            body: Body::FileRename(FileRename { info_class: 10, ..FileRename::ZERO }),
            vars: vec![VarData::text(r"\a"), VarData::text(r"\b")],
        };
        let mut bytes = Vec::new();
        encode_to_vec(&r, 9, 4096, &mut bytes).unwrap();
        let Ok(Event::FileRename(v)) = decode(&bytes) else { panic!() };
        assert_eq!(v.header.seq, 9);
        assert_eq!(v.text(v.body.target).unwrap().to_string_lossy(), r"\b");
        assert_eq!(r.kind(), Kind::FileRename);
    }
}
