//! Windows event JSON to [`Event`]s.
//!
//! Two shapes are understood, detected per record:
//! - nested, as `evtx_dump` writes it: `{"Event": {"System": {...},
//!   "EventData": {...}}}` with `Provider.#attributes.Name`, `EventID` (an
//!   integer, or an object with `#text`/`#value`), `Channel`, `Computer`;
//! - flat, as SIEM exports write it: EventData fields at the top level
//!   beside `EventID`, `Provider`/`Provider_Name`, `Channel`, `Computer`.
//!
//! A file may hold one object, an array of objects, concatenated
//! (pretty-printed) objects, or JSON lines. A malformed record is reported
//! with its record number and line, skipped, and reading goes on.

pub use super::framing::{CHUNK, MAX_RECORD};

use super::framing::Framer;
use super::lexer::{Lexer, Res, Scalar, SyntaxError};
use super::{InputError, ReadStats};
use crate::event::{Category, Event, Field, Value};
use std::io::Read;
use std::path::Path;

/// Reads Windows event JSON, reusing one [`Event`] for every record.
#[derive(Debug)]
pub struct JsonReader {
    event: Event,
    buf: String,
    key: String,
    chunk: usize,
}

impl Default for JsonReader {
    fn default() -> Self {
        Self::new()
    }
}

/// What one record turned out to be.
pub(super) enum Outcome {
    /// An event Vigil matches.
    Event,
    /// Valid, but not an event Vigil matches (unknown EventID or provider).
    Skipped,
}

/// What the record said about its origin.
#[derive(Default)]
struct Header {
    event_id: Option<i64>,
    provider_ok: bool,
    provider_seen: bool,
}

impl JsonReader {
    /// A reader with empty buffers.
    pub fn new() -> Self {
        JsonReader {
            event: Event::new(Category::ProcessCreation),
            buf: String::new(),
            key: String::new(),
            chunk: CHUNK,
        }
    }

    /// Sets how many bytes [`JsonReader::read_stream`] reads at a time
    /// (default [`CHUNK`]; at least 1).
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// Reads every record of `data` (named `name` in errors). Each event is
    /// passed to `on_event`; each malformed record to `on_error`.
    pub fn read(
        &mut self,
        name: &Path,
        data: &[u8],
        on_event: &mut dyn FnMut(&Event),
        on_error: &mut dyn FnMut(InputError),
    ) -> ReadStats {
        let mut stats = ReadStats::default();
        let mut framer = Framer::new();
        framer.scan(self, name, data, true, &mut stats, on_event, on_error);
        stats
    }

    /// Reads every record from `src` in chunks, holding only the records
    /// not yet parsed in memory (about one chunk, more only
    /// while one record is larger; a record over [`MAX_RECORD`]
    /// bytes is an error). Same results as [`JsonReader::read`] on the
    /// whole input; only a failing `src` is an `Err`.
    pub fn read_stream(
        &mut self,
        name: &Path,
        src: &mut dyn Read,
        on_event: &mut dyn FnMut(&Event),
        on_error: &mut dyn FnMut(InputError),
    ) -> Result<ReadStats, InputError> {
        let mut stats = ReadStats::default();
        let mut framer = Framer::new();
        // `buf[..filled]` is data; the rest is spare room, kept initialized
        // so reads need no zeroing.
        let mut buf: Vec<u8> = Vec::new();
        let mut filled = 0;
        let mut eof = false;
        while !eof {
            let mut failed = None;
            // At least double a pending partial record, so a large record
            // costs linear time.
            let target = filled + self.chunk.max(filled);
            if buf.len() < target {
                buf.resize(target, 0);
            }
            while filled < target {
                match src.read(&mut buf[filled..target]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let used = framer.scan(self, name, &buf[..filled], eof, &mut stats, on_event, on_error);
            framer.consumed(used);
            buf.copy_within(used..filled, 0);
            filled -= used;
            if let Some(e) = failed {
                // What was read before the failure has been handled.
                let line = framer.line();
                return Err(InputError::new(name, stats.records + 1, line, format!("cannot read: {e}")));
            }
        }
        Ok(stats)
    }

    /// Parses one record starting at `start`; on success gives its end.
    /// `text` is a prefix of `data` already known to be UTF-8.
    pub(super) fn record(&mut self, data: &[u8], text: &str, start: usize) -> Result<(usize, Outcome), SyntaxError> {
        let mut lx = Lexer::new(data, text, std::mem::take(&mut self.buf));
        lx.pos = start;
        let res = parse_record(&mut lx, &mut self.event, &mut self.key);
        let pos = lx.pos;
        self.buf = lx.into_buf();
        match res {
            Ok(outcome) => Ok((pos, outcome)),
            Err(mut e) => {
                e.at = e.at.max(start);
                Err(e)
            }
        }
    }

    /// The event the last successful [`JsonReader::record`] filled.
    pub(super) fn event(&self) -> &Event {
        &self.event
    }
}

fn parse_record(lx: &mut Lexer<'_>, ev: &mut Event, key: &mut String) -> Res<Outcome> {
    ev.reset(Category::ProcessCreation);
    if lx.value()? != Scalar::ObjStart {
        return Err(SyntaxError { at: lx.pos, reason: "a record must be a JSON object" });
    }
    let mut h = Header::default();
    if lx.first_member()? {
        loop {
            let mn = member_name(lx, key)?;
            match mn.as_str(key) {
                "Event" => nested_event(lx, ev, key, &mut h)?,
                "System" => system(lx, ev, key, &mut h)?,
                "EventData" | "UserData" => data_section(lx, ev, key)?,
                "EventID" => h.event_id = event_id(lx, key)?,
                "Provider" | "Provider_Name" | "ProviderName" => provider(lx, ev, key, &mut h)?,
                k => member_value(lx, ev, Name::of(k))?,
            }
            if !lx.next_member()? {
                break;
            }
        }
    }
    Ok(finish(ev, &h))
}

/// Where a member's name is: in the input (no escapes, the rule) or
/// copied into the caller's `key` buffer.
enum MemberName<'a> {
    Input(&'a str),
    Copied,
}

impl<'a> MemberName<'a> {
    fn as_str<'s>(&self, key: &'s str) -> &'s str
    where
        'a: 's,
    {
        match self {
            MemberName::Input(s) => s,
            MemberName::Copied => key,
        }
    }
}

/// Reads a member's name and the `:` after it.
fn member_name<'a>(lx: &mut Lexer<'a>, key: &mut String) -> Res<MemberName<'a>> {
    lx.string()?;
    let name = match lx.last_borrowed() {
        Some(s) => MemberName::Input(s),
        None => {
            key.clear();
            key.push_str(lx.last_str());
            MemberName::Copied
        }
    };
    lx.expect(b':', "expected ':'")?;
    Ok(name)
}

/// A field name, looked up once.
#[derive(Clone, Copy)]
enum Name<'k> {
    Known(Field),
    Other(&'k str),
}

impl<'k> Name<'k> {
    fn of(name: &'k str) -> Name<'k> {
        Field::from_name(name).map_or(Name::Other(name), Name::Known)
    }
}

fn finish(ev: &mut Event, h: &Header) -> Outcome {
    if h.provider_seen && !h.provider_ok {
        return Outcome::Skipped;
    }
    let Some(cat) = h.event_id.and_then(|id| u32::try_from(id).ok()).and_then(Category::from_sysmon_event_id) else {
        return Outcome::Skipped;
    };
    ev.set_category(cat);
    if let Some(id) = h.event_id {
        ev.set_int(Field::EventID, id);
    }
    Outcome::Event
}

fn note_provider(h: &mut Header, ev: &mut Event, name: &str) {
    h.provider_seen = true;
    h.provider_ok = name.eq_ignore_ascii_case("Microsoft-Windows-Sysmon");
    ev.set_str(Field::Provider_Name, name);
}

/// Reads a member's value into field `name`: a string of a known field is
/// unescaped straight into the event; other values go through [`set_scalar`].
fn member_value(lx: &mut Lexer<'_>, ev: &mut Event, name: Name<'_>) -> Res<()> {
    if let Name::Known(f) = name
        && lx.peek() == Some(b'"')
    {
        return ev.set_str_with(f, |text| lx.string_into(text));
    }
    let s = lx.value()?;
    set_scalar(lx, ev, name, s)
}

/// Sets a scalar as a field; containers are skipped.
fn set_scalar(lx: &mut Lexer<'_>, ev: &mut Event, name: Name<'_>, s: Scalar) -> Res<()> {
    let v = match s {
        Scalar::Str => Value::Str(lx.last_str()),
        Scalar::Int(i) => Value::Int(i),
        Scalar::Num => Value::Str(lx.last_num()),
        Scalar::Bool(b) => Value::Str(if b { "true" } else { "false" }),
        Scalar::Null | Scalar::ObjStart | Scalar::ArrStart => return skip_rest(lx, s),
    };
    match (name, v) {
        (Name::Known(f), Value::Str(t)) => ev.set_str(f, t),
        (Name::Known(f), Value::Int(i)) => ev.set_int(f, i),
        (Name::Other(n), v) => ev.set_named(n, v),
    }
    Ok(())
}

/// Skips the rest of a value whose first token was `s`.
fn skip_rest(lx: &mut Lexer<'_>, s: Scalar) -> Res<()> {
    match s {
        Scalar::ObjStart => lx.skip_container(true),
        Scalar::ArrStart => lx.skip_container(false),
        _ => Ok(()),
    }
}

/// An EventID: an integer, a numeric string, or `{"#text": ..}` / `{"#value": ..}`.
fn event_id(lx: &mut Lexer<'_>, key: &mut String) -> Res<Option<i64>> {
    match lx.value()? {
        Scalar::Int(i) => Ok(Some(i)),
        Scalar::Str => Ok(lx.last_str().trim().parse().ok()),
        Scalar::ObjStart => {
            let mut id = None;
            if lx.first_member()? {
                loop {
                    let mn = member_name(lx, key)?;
                    if matches!(mn.as_str(key), "#text" | "#value" | "value" | "Value") {
                        id = event_id(lx, key)?;
                    } else {
                        lx.skip_value()?;
                    }
                    if !lx.next_member()? {
                        break;
                    }
                }
            }
            Ok(id)
        }
        Scalar::ArrStart => {
            lx.skip_container(false)?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// `Provider`: a string, or `{"#attributes": {"Name": ..}}` / `{"Name": ..}`.
fn provider(lx: &mut Lexer<'_>, ev: &mut Event, key: &mut String, h: &mut Header) -> Res<()> {
    match lx.value()? {
        Scalar::Str => {
            note_provider(h, ev, lx.last_str());
        }
        Scalar::ObjStart if lx.first_member()? => loop {
            let mn = member_name(lx, key)?;
            let s = lx.value()?;
            match (mn.as_str(key), s) {
                ("#attributes", Scalar::ObjStart) => provider_attrs(lx, ev, h)?,
                ("Name" | "@Name", Scalar::Str) => note_provider(h, ev, lx.last_str()),
                _ => skip_rest(lx, s)?,
            }
            if !lx.next_member()? {
                break;
            }
        },
        Scalar::ArrStart => lx.skip_container(false)?,
        _ => {}
    }
    Ok(())
}

fn provider_attrs(lx: &mut Lexer<'_>, ev: &mut Event, h: &mut Header) -> Res<()> {
    if lx.first_member()? {
        loop {
            lx.string()?;
            let is_name = lx.last_str() == "Name";
            lx.expect(b':', "expected ':'")?;
            let s = lx.value()?;
            if is_name && s == Scalar::Str {
                note_provider(h, ev, lx.last_str());
            } else {
                skip_rest(lx, s)?;
            }
            if !lx.next_member()? {
                break;
            }
        }
    }
    Ok(())
}

fn nested_event(lx: &mut Lexer<'_>, ev: &mut Event, key: &mut String, h: &mut Header) -> Res<()> {
    if lx.value()? != Scalar::ObjStart {
        return Err(SyntaxError { at: lx.pos, reason: "'Event' must be an object" });
    }
    if lx.first_member()? {
        loop {
            let mn = member_name(lx, key)?;
            match mn.as_str(key) {
                "System" => system(lx, ev, key, h)?,
                "EventData" | "UserData" => data_section(lx, ev, key)?,
                _ => lx.skip_value()?,
            }
            if !lx.next_member()? {
                break;
            }
        }
    }
    Ok(())
}

fn system(lx: &mut Lexer<'_>, ev: &mut Event, key: &mut String, h: &mut Header) -> Res<()> {
    match lx.value()? {
        Scalar::ObjStart => {}
        Scalar::ArrStart => return lx.skip_container(false),
        _ => return Ok(()),
    }
    if lx.first_member()? {
        loop {
            let mn = member_name(lx, key)?;
            match mn.as_str(key) {
                "EventID" => h.event_id = event_id(lx, key)?,
                "Provider" => provider(lx, ev, key, h)?,
                "Channel" => {
                    let s = lx.value()?;
                    set_scalar(lx, ev, Name::Known(Field::Channel), s)?;
                }
                "Computer" => {
                    let s = lx.value()?;
                    set_scalar(lx, ev, Name::Known(Field::Computer), s)?;
                }
                _ => lx.skip_value()?,
            }
            if !lx.next_member()? {
                break;
            }
        }
    }
    Ok(())
}

/// `EventData`: `{"Field": value, ...}`.
fn data_section(lx: &mut Lexer<'_>, ev: &mut Event, key: &mut String) -> Res<()> {
    match lx.value()? {
        Scalar::ObjStart => {}
        Scalar::ArrStart => return lx.skip_container(false),
        _ => return Ok(()),
    }
    if lx.first_member()? {
        loop {
            let mn = member_name(lx, key)?;
            let k = mn.as_str(key);
            if k == "#attributes" {
                lx.skip_value()?;
            } else {
                member_value(lx, ev, Name::of(k))?;
            }
            if !lx.next_member()? {
                break;
            }
        }
    }
    Ok(())
}
