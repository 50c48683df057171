//! Vigil records → Sysmon-named [`Event`]s, one Sigma category each.
//!
//! Which record becomes which category, and why, is written down in
//! `docs/mapping.md`; the short form:
//!
//! | record | condition | category |
//! |---|---|---|
//! | `ProcessStart` | always | `process_creation` |
//! | `ProcessExit` | always | `process_termination` |
//! | `ImageLoad` | user-mode image | `image_load` |
//! | `FileCreate` | created, overwritten or superseded a file | `file_event` |
//! | `FileCreate` | opened an existing file | `file_access` |
//! | `FileLink` | succeeded | `file_event` (a new name appeared) |
//! | `FileWrite` | any | `file_change` |
//! | `FileSetInfo` | FileBasicInformation (times, attributes) | `file_change` |
//! | `FileRename` | succeeded | `file_rename` |
//! | `FileDelete` | any | `file_delete` |
//!
//! Everything else (failed operations, directories, driver loads, `Lost`,
//! `Heartbeat`) produces no event and is counted in [`MapStats`].
//!
//! The mapper owns the enrichment state ([`ProcessTable`], volumes, accounts,
//! PE cache) because mapping *is* what feeds it: records must be mapped in
//! stream order.

mod file;
mod image;
mod process;
mod time;

pub use time::format_utc_time;

use crate::enrich::{AccountTable, PeCache, ProcessTable, VolumeTable};
use crate::event::{Category, Event, Field};
use vigil_protocol::decode;
use vigil_protocol::schema::{Kind, RecordHeader};

/// Why a record produced no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// The operation failed (NTSTATUS error); nothing happened to the file.
    Failed,
    /// A directory was opened or created.
    Directory,
    /// A kernel-mode image (driver load: Sigma's `driver_load`, not modelled).
    DriverLoad,
    /// A kind or information class with no Sigma category.
    NoCategory,
    /// `Lost` or `Heartbeat`: about the stream, not the system.
    StreamRecord,
}

impl Skip {
    /// Every reason.
    pub const ALL: [Skip; 5] = [Skip::Failed, Skip::Directory, Skip::DriverLoad, Skip::NoCategory, Skip::StreamRecord];

    /// A short name for statistics.
    pub const fn name(self) -> &'static str {
        match self {
            Skip::Failed => "failed operation",
            Skip::Directory => "directory",
            Skip::DriverLoad => "driver load",
            Skip::NoCategory => "no Sigma category",
            Skip::StreamRecord => "stream record (lost/heartbeat)",
        }
    }
}

/// Counters of what the mapper saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapStats {
    /// Records seen, by kind (index: `Kind as usize`; every kind is < 64).
    pub records_by_kind: [u64; 64],
    /// Events produced, by category.
    pub events: [u64; Category::COUNT],
    /// Records that produced no event, by reason.
    pub skipped: [u64; Skip::ALL.len()],
    /// Records the driver reported lost (sum of `Lost` counts).
    pub lost: u64,
    /// Records whose variable data the driver cut to fit.
    pub truncated: u64,
    /// Events whose subject process was not in the process table (no
    /// `Image`).
    pub unknown_process: u64,
}

impl Default for MapStats {
    fn default() -> Self {
        Self {
            records_by_kind: [0; 64],
            events: [0; Category::COUNT],
            skipped: [0; Skip::ALL.len()],
            lost: 0,
            truncated: 0,
            unknown_process: 0,
        }
    }
}

impl MapStats {
    fn count_kind(&mut self, kind: Kind) {
        if let Some(n) = self.records_by_kind.get_mut(kind as usize) {
            *n += 1;
        }
    }

    /// Records seen of `kind`.
    pub fn records_of(&self, kind: Kind) -> u64 {
        self.records_by_kind.get(kind as usize).copied().unwrap_or(0)
    }

    /// Total records seen.
    pub fn total_records(&self) -> u64 {
        self.records_by_kind.iter().sum()
    }

    /// Adds another mapper's counters (parallel replays of several inputs).
    pub fn add(&mut self, o: &MapStats) {
        self.records_by_kind.iter_mut().zip(&o.records_by_kind).for_each(|(a, b)| *a += b);
        self.events.iter_mut().zip(&o.events).for_each(|(a, b)| *a += b);
        self.skipped.iter_mut().zip(&o.skipped).for_each(|(a, b)| *a += b);
        self.lost += o.lost;
        self.truncated += o.truncated;
        self.unknown_process += o.unknown_process;
    }

    /// Total events produced.
    pub fn total_events(&self) -> u64 {
        self.events.iter().sum()
    }

    /// Events produced for `category`.
    pub fn events_of(&self, category: Category) -> u64 {
        self.events.get(category as usize).copied().unwrap_or(0)
    }

    /// Records skipped for `reason`.
    pub fn skipped_for(&self, reason: Skip) -> u64 {
        self.skipped.get(reason as usize).copied().unwrap_or(0)
    }
}

/// Maps records to events, keeping the enrichment state.
#[derive(Debug, Default)]
pub struct Mapper {
    /// Device → drive letters.
    pub volumes: VolumeTable,
    /// SID → account names.
    pub accounts: AccountTable,
    /// Live processes.
    pub processes: ProcessTable,
    /// PE metadata of images on this machine; `None` turns it off.
    pub pe: Option<PeCache>,
    computer: Option<String>,
    stats: MapStats,
    /// Reused for paths on their way into an event.
    scratch: String,
    /// `UtcTime` text of the last second formatted, and that second.
    time_cache: (u64, [u8; 23]),
}

impl Mapper {
    /// A mapper with these tables, the default process table and PE metadata
    /// on.
    pub fn new(volumes: VolumeTable, accounts: AccountTable) -> Self {
        Self { volumes, accounts, pe: Some(PeCache::default()), ..Self::default() }
    }

    /// Sets the `Computer` field every event carries (the capture's host).
    pub fn set_computer(&mut self, name: Option<String>) {
        self.computer = name.filter(|n| !n.is_empty());
    }

    /// Counters so far.
    pub fn stats(&self) -> &MapStats {
        &self.stats
    }

    /// Maps one record into `out` (reset first). Returns the category of the
    /// event produced, or why there is none (then `out` is unspecified).
    pub fn map(&mut self, record: &decode::Event<'_>, out: &mut Event) -> Result<Category, Skip> {
        self.stats.count_kind(record.kind());
        let header = record.header();
        if header.flags & vigil_protocol::schema::RecordFlags::TRUNCATED != 0 {
            self.stats.truncated += 1;
        }
        let result = match record {
            decode::Event::ProcessStart(v) => Ok(self.process_start(v, out)),
            decode::Event::ProcessExit(v) => Ok(self.process_exit(v, out)),
            decode::Event::ImageLoad(v) => self.image_load(v, out),
            decode::Event::FileCreate(v) => self.file_create(v, out),
            decode::Event::FileWrite(v) => Ok(self.file_write(v, out)),
            decode::Event::FileRename(v) => self.file_rename(v, out),
            decode::Event::FileLink(v) => self.file_link(v, out),
            decode::Event::FileDelete(v) => Ok(self.file_delete(v, out)),
            decode::Event::FileSetInfo(v) => self.file_set_info(v, out),
            decode::Event::Lost(v) => {
                self.stats.lost += v.body.count;
                Err(Skip::StreamRecord)
            }
            decode::Event::Heartbeat(_) => Err(Skip::StreamRecord),
        };
        match result {
            Ok(c) => {
                if let Some(n) = self.stats.events.get_mut(c as usize) {
                    *n += 1;
                }
            }
            Err(s) => {
                if let Some(n) = self.stats.skipped.get_mut(s as usize) {
                    *n += 1;
                }
            }
        }
        result
    }

    /// Resets `out` as `category` and sets the fields every event has:
    /// `EventID` (Sysmon's, for categories Sysmon has), `UtcTime`,
    /// `Computer`, `ProcessId`.
    fn begin(&mut self, out: &mut Event, category: Category, header: &RecordHeader) {
        out.reset(category);
        let event_id = match category {
            Category::ProcessCreation => Some(1),
            Category::FileChange => Some(2),
            Category::ProcessTermination => Some(5),
            Category::ImageLoad => Some(7),
            Category::FileEvent => Some(11),
            Category::FileDelete => Some(26),
            Category::FileRename | Category::FileAccess => None,
        };
        if let Some(id) = event_id {
            out.set_int(Field::EventID, id);
        }
        out.set_str(Field::UtcTime, self.utc_time(header.timestamp));
        if let Some(c) = &self.computer {
            out.set_str(Field::Computer, c);
        }
        out.set_int(Field::ProcessId, i64::from(header.pid));
        self.processes.advance(header.timestamp);
    }

    /// `UtcTime` of FILETIME `ft`; the date and time of day are formatted
    /// once per second, only the milliseconds per event.
    fn utc_time(&mut self, ft: u64) -> &str {
        let (sec, buf) = &mut self.time_cache;
        if *sec != ft / 10_000_000 || buf[0] == 0 {
            *sec = ft / 10_000_000;
            format_utc_time(ft, buf);
        } else {
            let ms = ft / 10_000 % 1000;
            buf[20] = b'0' + (ms / 100) as u8;
            buf[21] = b'0' + (ms / 10 % 10) as u8;
            buf[22] = b'0' + (ms % 10) as u8;
        }
        std::str::from_utf8(&buf[..]).unwrap_or("")
    }

    /// Sets `field` to the DOS form of NT path `p`, leaving it in `scratch`.
    fn set_path(&mut self, out: &mut Event, field: Field, p: vigil_protocol::decode::Utf16Str<'_>) {
        self.scratch.clear();
        self.volumes.translate_into(p, &mut self.scratch);
        out.set_str(field, &self.scratch);
    }

    /// Sets `Image` and `User` of the subject process from the table.
    fn subject(&mut self, out: &mut Event, header: &RecordHeader) {
        match self.processes.get(header.pid, header.process_key) {
            Some(p) => {
                out.set_str(Field::Image, &p.image);
                if let Some(u) = &p.user {
                    out.set_str(Field::User, u);
                }
            }
            None if header.pid == SYSTEM_PID => {
                out.set_str(Field::Image, "System");
                out.set_str(Field::User, r"NT AUTHORITY\SYSTEM");
            }
            None => self.stats.unknown_process += 1,
        }
    }
}

/// The System process: kernel-initiated I/O has it as subject, and Sysmon
/// names its image `System`.
const SYSTEM_PID: u32 = 4;

#[cfg(test)]
mod tests;
