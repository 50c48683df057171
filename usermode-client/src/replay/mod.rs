//! Replay: inputs → events → Sigma engine → alerts.
//!
//! Inputs are Vigil captures (mapped with [`crate::mapping::Mapper`], which
//! starts from the capture's volume and account tables), Windows event JSON
//! and EVTX (read by [`crate::input`]); the format is detected from the
//! first bytes. Every input is read in order; problems are reported through
//! `on_error` and reading goes on. With `threads > 1` matching runs on
//! worker threads while this thread reads and maps; alerts still come out in
//! input order.

mod alert;
pub mod demo_rules;
mod sink;
mod stats;

pub use alert::{Alert, OwnedValue};
pub use stats::ReplayStats;

use crate::capture::{CaptureError, CaptureReader, Item, format::MAGIC};
use crate::enrich::{AccountTable, PeCache, VolumeTable};
use crate::input::{self, InputError};
use crate::mapping::Mapper;
use crate::sigma::Engine;
use sink::{Inline, Parallel, Sink};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

/// An input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A Vigil capture (`VIGILCAP`).
    Capture,
    /// Windows event JSON.
    Json,
    /// A Windows event log (`ElfFile`).
    Evtx,
}

impl InputKind {
    /// The format of `path`, from its first bytes.
    pub fn detect(path: &Path) -> std::io::Result<Self> {
        let mut head = [0u8; 8];
        let mut f = std::fs::File::open(path)?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..])? {
                0 => break,
                k => n += k,
            }
        }
        let head = &head[..n];
        Ok(if head == MAGIC {
            InputKind::Capture
        } else {
            match input::detect(head) {
                input::Format::Evtx => InputKind::Evtx,
                input::Format::Json => InputKind::Json,
            }
        })
    }
}

/// A problem with one input; the replay goes on with the rest.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A capture problem (file and record named).
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// A JSON/EVTX problem (file, record and line named).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The input could not be opened.
    #[error("{}: {source}", path.display())]
    Io {
        /// The input.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// How to replay.
#[derive(Clone, Copy, Debug)]
pub struct ReplayOptions {
    /// Matching threads (1: everything on the calling thread).
    pub threads: usize,
    /// Read PE metadata (version strings, hashes) of images on this machine.
    pub pe_metadata: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self { threads: 1, pe_metadata: true }
    }
}

/// Callbacks of a replay.
pub struct Callbacks<'a> {
    /// Each alert, in input order.
    pub on_alert: &'a mut dyn FnMut(&Alert),
    /// Each problem.
    pub on_error: &'a mut dyn FnMut(ReplayError),
    /// Bytes of input consumed since the last call (for a progress bar).
    pub on_progress: &'a mut dyn FnMut(u64),
}

impl std::fmt::Debug for Callbacks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Callbacks")
    }
}

/// Replays `inputs` through `engine`.
pub fn replay(inputs: &[PathBuf], engine: &Engine, opts: ReplayOptions, cb: Callbacks<'_>) -> ReplayStats {
    let start = Instant::now();
    let mut stats = ReplayStats::default();
    let Callbacks { on_alert, on_error, on_progress } = cb;
    let mut errors = 0u64;
    let on_error = &mut |e: ReplayError| {
        errors += 1;
        on_error(e);
    };
    let threads = opts.threads.max(1);
    if threads == 1 {
        let mut sink = Inline::new(engine.clone(), on_alert);
        read_all(inputs, opts, &mut sink, &mut stats, on_error, on_progress);
    } else {
        std::thread::scope(|s| {
            let (to_workers, rx) = mpsc::sync_channel(threads * 2);
            let (tx, from_workers) = mpsc::channel();
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..threads {
                let (e, rx, tx) = (engine.clone(), Arc::clone(&rx), tx.clone());
                s.spawn(move || sink::worker(e, rx, tx));
            }
            drop(tx);
            let mut sink = Parallel::new(to_workers, from_workers, on_alert);
            read_all(inputs, opts, &mut sink, &mut stats, on_error, on_progress);
        });
    }
    stats.errors = errors;
    stats.elapsed = start.elapsed();
    stats
}

fn read_all(
    inputs: &[PathBuf],
    opts: ReplayOptions,
    sink: &mut dyn Sink,
    stats: &mut ReplayStats,
    on_error: &mut dyn FnMut(ReplayError),
    on_progress: &mut dyn FnMut(u64),
) {
    for (i, path) in inputs.iter().enumerate() {
        stats.inputs += 1;
        let ok = match InputKind::detect(path) {
            Ok(InputKind::Capture) => read_capture(i, path, opts, sink, stats, on_error, on_progress),
            Ok(_) => read_events(i, path, sink, stats, on_error, on_progress),
            Err(source) => {
                on_error(ReplayError::Io { path: path.clone(), source });
                false
            }
        };
        if !ok {
            stats.inputs_failed += 1;
        }
    }
    sink.finish(stats);
}

fn read_capture(
    input: usize,
    path: &Path,
    opts: ReplayOptions,
    sink: &mut dyn Sink,
    stats: &mut ReplayStats,
    on_error: &mut dyn FnMut(ReplayError),
    on_progress: &mut dyn FnMut(u64),
) -> bool {
    let mut reader = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            on_error(e.into());
            return false;
        }
    };
    let info = reader.info().clone();
    let mut volumes = VolumeTable::new();
    for v in &info.volumes {
        volumes.insert(&v.device, &v.dos);
    }
    let mut accounts = AccountTable::new();
    for (sid, name) in &info.accounts {
        accounts.insert(sid, name);
    }
    let mut mapper = Mapper::new(volumes, accounts);
    mapper.pe = opts.pe_metadata.then(PeCache::default);
    mapper.set_computer(Some(info.host));
    let mut reported = reader.stats().bytes;
    on_progress(reported);
    while reader.read_block(&mut |item| match item {
        Item::Record { number, record, .. } => {
            if mapper.map(&record, sink.slot()).is_ok() {
                sink.commit(input, number, stats);
            }
        }
        Item::Volumes(v) => v.iter().for_each(|v| mapper.volumes.insert(&v.device, &v.dos)),
        Item::Accounts(a) => a.iter().for_each(|(sid, name)| mapper.accounts.insert(sid, name)),
        Item::Error(e) => on_error(e.into()),
    }) {
        let now = reader.stats().bytes;
        on_progress(now - reported);
        reported = now;
    }
    let r = reader.stats();
    on_progress(r.bytes - reported);
    stats.bytes += r.bytes;
    stats.records += r.records + r.bad_records;
    stats.records_skipped += r.bad_records + r.skipped_records;
    stats.mapping.add(mapper.stats());
    true
}

fn read_events(
    input: usize,
    path: &Path,
    sink: &mut dyn Sink,
    stats: &mut ReplayStats,
    on_error: &mut dyn FnMut(ReplayError),
    on_progress: &mut dyn FnMut(u64),
) -> bool {
    let mut n = 0u64;
    let r = input::read_path(
        path,
        &mut |ev| {
            n += 1;
            sink.slot().clone_from(ev);
            sink.commit(input, n, stats);
        },
        &mut |e| on_error(e.into()),
    );
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    on_progress(size);
    match r {
        Ok(s) => {
            stats.bytes += size;
            stats.records += s.records;
            stats.records_skipped += s.errors;
            stats.records_not_events += s.skipped;
            true
        }
        Err(e) => {
            on_error(e.into());
            false
        }
    }
}
