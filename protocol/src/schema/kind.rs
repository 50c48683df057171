//! Record kinds.

/// The kind of a record, stored as `u16` in [`super::RecordHeader::kind`].
///
/// Kinds below 32 are events that [`crate::config::DriverConfig::capture_mask`]
/// can switch off (bit `1 << kind`); kinds from 32 up describe the stream
/// itself and are always on.
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Ring-internal filler from the end of a lap to the end of the buffer.
    /// Never leaves the ring.
    Pad = 0,
    /// A process was created (PsSetCreateProcessNotifyRoutineEx).
    ProcessStart = 1,
    /// A process exited.
    ProcessExit = 2,
    /// An image was mapped (PsSetLoadImageNotifyRoutine).
    ImageLoad = 3,
    /// IRP_MJ_CREATE completed (post-operation).
    FileCreate = 16,
    /// First write on a stream handle, or a modified file at cleanup.
    FileWrite = 17,
    /// A rename (FileRenameInformation[Ex]).
    FileRename = 18,
    /// A hard link (FileLinkInformation[Ex]).
    FileLink = 19,
    /// A delete: delete-on-close, or a disposition set.
    FileDelete = 20,
    /// Other IRP_MJ_SET_INFORMATION classes Vigil captures (end of file, ...).
    FileSetInfo = 21,
    /// Records dropped on this shard since the previous `Lost` record.
    Lost = 32,
    /// Periodic driver heartbeat with counters.
    Heartbeat = 33,
}

impl Kind {
    /// Every kind, in numeric order.
    pub const ALL: [Kind; 12] = [
        Kind::Pad,
        Kind::ProcessStart,
        Kind::ProcessExit,
        Kind::ImageLoad,
        Kind::FileCreate,
        Kind::FileWrite,
        Kind::FileRename,
        Kind::FileLink,
        Kind::FileDelete,
        Kind::FileSetInfo,
        Kind::Lost,
        Kind::Heartbeat,
    ];

    /// Bits of the event kinds a capture mask may name.
    pub const CAPTURE_MASK_ALL: u32 = (1 << Kind::ProcessStart as u32)
        | (1 << Kind::ProcessExit as u32)
        | (1 << Kind::ImageLoad as u32)
        | (1 << Kind::FileCreate as u32)
        | (1 << Kind::FileWrite as u32)
        | (1 << Kind::FileRename as u32)
        | (1 << Kind::FileLink as u32)
        | (1 << Kind::FileDelete as u32)
        | (1 << Kind::FileSetInfo as u32);

    /// The kind with this wire value, if any.
    pub const fn from_u16(v: u16) -> Option<Kind> {
        Some(match v {
            0 => Kind::Pad,
            1 => Kind::ProcessStart,
            2 => Kind::ProcessExit,
            3 => Kind::ImageLoad,
            16 => Kind::FileCreate,
            17 => Kind::FileWrite,
            18 => Kind::FileRename,
            19 => Kind::FileLink,
            20 => Kind::FileDelete,
            21 => Kind::FileSetInfo,
            32 => Kind::Lost,
            33 => Kind::Heartbeat,
            _ => return None,
        })
    }

    /// This kind's bit in a capture mask, or 0 for stream kinds that cannot
    /// be masked.
    pub const fn capture_bit(self) -> u32 {
        let k = self as u32;
        if k >= 1 && k < 32 { (1 << k) & Self::CAPTURE_MASK_ALL } else { 0 }
    }

    /// A short lowercase name, for logs and statistics.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Pad => "pad",
            Kind::ProcessStart => "process_start",
            Kind::ProcessExit => "process_exit",
            Kind::ImageLoad => "image_load",
            Kind::FileCreate => "file_create",
            Kind::FileWrite => "file_write",
            Kind::FileRename => "file_rename",
            Kind::FileLink => "file_link",
            Kind::FileDelete => "file_delete",
            Kind::FileSetInfo => "file_set_info",
            Kind::Lost => "lost",
            Kind::Heartbeat => "heartbeat",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn wire_values_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_u16(k as u16), Some(k));
        }
        assert_eq!(Kind::from_u16(4), None);
        assert_eq!(Kind::from_u16(u16::MAX), None);
    }

    #[test]
    fn stream_kinds_cannot_be_masked() {
        assert_eq!(Kind::Lost.capture_bit(), 0);
        assert_eq!(Kind::Heartbeat.capture_bit(), 0);
        assert_eq!(Kind::Pad.capture_bit(), 0);
        assert_eq!(Kind::FileCreate.capture_bit(), 1 << 16);
    }
}
