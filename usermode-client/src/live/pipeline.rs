//! The live analyzer loop: records from an [`EventSource`] through mapping
//! and the Sigma engine to alerts, optionally recorded as a capture, until
//! asked to stop; then the ring is drained and everything flushed.
//!
//! Matching goes through the content runtime's watchdog [`Evaluator`]:
//! each batch the source delivers is evaluated with one content snapshot
//! (taken when the batch starts), rules over budget are quarantined when it
//! ends, and between batches the caller may install new content
//! ([`Notice::Batch`]). A swap never touches the ring: no record is lost or
//! read twice because of it.
//!
//! One thread does it all, in delivery order: mapping must see records in
//! stream order, and on a small machine a second thread costs more in
//! hand-offs than it wins. Each event's latency is measured from its commit
//! (the producer's timestamp) to the engine's decision, and each alert's to
//! the moment the alert callback returned (see [`super::clock`]).

use super::latency::Histogram;
use super::source::{EventSource, SourceEvent, SourceStats};
use super::{HostInfo, clock};
use crate::capture::{CaptureError, CaptureInfo, CaptureWriter};
use crate::content::runtime::{ContentAlert, Evaluator};
use crate::enrich::{AccountTable, PeCache, VolumeTable};
use crate::event::{Category, Event};
use crate::mapping::{MapStats, Mapper};
use crate::replay::Alert;
use crate::sigma::{RuleId, RuleSet};
use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use vigil_protocol::control::DriverStats;
use vigil_protocol::decode;
use vigil_protocol::schema::Heartbeat;

/// How to run.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Write every record to this capture (with the host's volume and
    /// account tables), for `vigil replay`.
    pub record: Option<PathBuf>,
    /// Read PE metadata of images on this machine (the producer's host).
    pub pe_metadata: bool,
    /// Look account names up on this machine (Windows).
    pub account_lookup: bool,
    /// Call `on_notice` with [`Notice::Tick`] this often.
    pub tick: Option<Duration>,
    /// Longest sleep before the stop flag is checked again.
    pub poll_timeout: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            record: None,
            pe_metadata: false,
            account_lookup: false,
            tick: None,
            poll_timeout: Duration::from_millis(100),
        }
    }
}

/// What a live run counted.
#[derive(Clone, Debug, Default)]
pub struct LiveStats {
    /// Records delivered by the source (Lost and Heartbeat included).
    pub records: u64,
    /// Events evaluated, by category.
    pub events: [u64; Category::COUNT],
    /// Alerts by rule (Sigma id: rule indices change when content does).
    pub alerts_by_rule: BTreeMap<String, RuleAlerts>,
    /// What the mapper saw.
    pub mapping: MapStats,
    /// The source's counters (attaches, Lost records, gaps, resyncs).
    pub source: SourceStats,
    /// Commit (record timestamp) to the engine's decision, every event.
    pub commit_to_match: Histogram,
    /// Commit to the alert having been emitted, every alert.
    pub commit_to_alert: Histogram,
    /// The last heartbeat the producer sent.
    pub last_heartbeat: Option<Heartbeat>,
    /// Records written to the capture.
    pub captured: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// From the first batch of records to the last: the time spent
    /// analyzing a stream (throughput is `records / active`).
    pub active: Duration,
}

/// Alerts of one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleAlerts {
    /// Its title.
    pub title: String,
    /// Its level.
    pub level: Option<String>,
    /// Alerts raised.
    pub count: u64,
}

impl LiveStats {
    /// Events evaluated.
    pub fn total_events(&self) -> u64 {
        self.events.iter().sum()
    }

    /// Alerts raised.
    pub fn total_alerts(&self) -> u64 {
        self.alerts_by_rule.values().map(|r| r.count).sum()
    }
}

/// Something the caller may want to log.
#[derive(Debug)]
pub enum Notice<'a> {
    /// The source attached, detached, or failed to attach.
    Source(&'a SourceEvent),
    /// Periodic statistics ([`LiveOptions::tick`]).
    Tick(&'a LiveStats, Option<&'a DriverStats>),
    /// The watchdog quarantined a rule.
    Content(&'a ContentAlert),
    /// A batch ended; `records` were delivered so far. Content installed
    /// now is used from the next record on.
    Batch {
        /// Records delivered so far.
        records: u64,
    },
}

/// Callbacks of a live run.
pub struct Callbacks<'a> {
    /// Each alert, as it is raised, with the rule set its rule is in.
    pub on_alert: &'a mut dyn FnMut(&Alert, &RuleSet),
    /// Source events and periodic statistics.
    pub on_notice: &'a mut dyn FnMut(Notice<'_>),
}

impl std::fmt::Debug for Callbacks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Callbacks")
    }
}

type Writer = CaptureWriter<BufWriter<std::fs::File>>;

/// Mapping, matching and recording state.
struct Pipeline {
    eval: Evaluator,
    mapper: Mapper,
    event: Event,
    hits: Vec<RuleId>,
    record: Option<PathBuf>,
    writer: Option<Writer>,
    capture_error: Option<CaptureError>,
    host: Option<HostInfo>,
    stats: LiveStats,
    /// When the first batch arrived, and the record count after the last.
    first_batch: Option<Instant>,
    seen: u64,
}

impl Pipeline {
    fn new(eval: Evaluator, opts: &LiveOptions) -> Self {
        let accounts = if opts.account_lookup { AccountTable::with_host_lookup() } else { AccountTable::new() };
        let mut mapper = Mapper::new(VolumeTable::new(), accounts);
        mapper.pe = opts.pe_metadata.then(PeCache::default);
        Self {
            eval,
            mapper,
            event: Event::new(Category::ProcessCreation),
            hits: Vec::new(),
            record: opts.record.clone(),
            writer: None,
            capture_error: None,
            host: None,
            stats: LiveStats::default(),
            first_batch: None,
            seen: 0,
        }
    }

    /// A ring was attached: take in what the host says, and start the
    /// capture on the first attach.
    fn attached(&mut self, host: HostInfo) {
        for v in &host.volumes {
            self.mapper.volumes.insert(&v.device, &v.dos);
        }
        for (sid, name) in &host.accounts {
            self.mapper.accounts.insert(sid, name);
        }
        self.mapper.set_computer(Some(host.name.clone()));
        let changed = self.host.as_ref().is_some_and(|h| h.volumes != host.volumes);
        if let Some(path) = self.record.take() {
            let mut info = CaptureInfo::new(host.name.clone(), clock::now_filetime());
            info.volumes = host.volumes.clone();
            info.accounts = host.accounts.clone();
            match CaptureWriter::create(&path, &info) {
                Ok(w) => self.writer = Some(w),
                Err(e) => self.capture_error = Some(e),
            }
        } else if changed && let Some(w) = &mut self.writer {
            let r = w.add_volumes(&host.volumes);
            self.keep_capture_error(r);
        }
        self.host = Some(host);
    }

    fn keep_capture_error(&mut self, r: Result<(), CaptureError>) {
        if let Err(e) = r {
            self.writer = None;
            self.capture_error.get_or_insert(e);
        }
    }

    fn record(&mut self, rec: &decode::Event<'_>, on_alert: &mut dyn FnMut(&Alert, &RuleSet)) {
        self.stats.records += 1;
        if let Some(w) = &mut self.writer {
            let r = w.push_bytes(rec.bytes());
            if r.is_ok() {
                self.stats.captured += 1;
            }
            self.keep_capture_error(r);
        }
        if let decode::Event::Heartbeat(h) = rec {
            self.stats.last_heartbeat = Some(h.body);
        }
        let committed = rec.header().timestamp;
        let Ok(category) = self.mapper.map(rec, &mut self.event) else { return };
        if let Some(n) = self.stats.events.get_mut(category as usize) {
            *n += 1;
        }
        self.eval.matches(&self.event, &mut self.hits);
        self.stats.commit_to_match.record_filetime(committed, clock::now_filetime());
        let snapshot = self.eval.snapshot();
        for &rule in &self.hits {
            let a = Alert::new(rule, 0, self.stats.records, &self.event);
            let m = snapshot.rules().meta(rule);
            let counted = self.stats.alerts_by_rule.entry(m.id.clone()).or_insert_with(|| RuleAlerts {
                title: m.title.clone(),
                level: m.level.clone(),
                count: 0,
            });
            counted.count += 1;
            on_alert(&a, snapshot.rules());
            self.stats.commit_to_alert.record_filetime(committed, clock::now_filetime());
        }
    }

    /// After each batch: the watchdog judges it (quarantines are told to
    /// `on_notice`), account names looked up meanwhile go to the capture,
    /// the active time is updated.
    fn after_batch(&mut self, on_notice: &mut dyn FnMut(Notice<'_>)) {
        for a in self.eval.end_batch() {
            on_notice(Notice::Content(&a));
        }
        if self.stats.records > self.seen {
            self.seen = self.stats.records;
            let now = Instant::now();
            self.stats.active = now - *self.first_batch.get_or_insert(now);
        }
        let new = self.mapper.accounts.take_new();
        if !new.is_empty()
            && let Some(w) = &mut self.writer
        {
            let r = w.add_accounts(&new);
            self.keep_capture_error(r);
        }
    }

    fn snapshot(&self, source: SourceStats, started: Instant) -> LiveStats {
        let mut s = self.stats.clone();
        s.mapping = self.mapper.stats().clone();
        s.source = source;
        s.elapsed = started.elapsed();
        s
    }
}

/// Runs until `stop` is set: reads `source`, matches with `eval`, calls
/// back for alerts and notices. On stop the source is detached and drained
/// and the capture finished. A capture that cannot be written stops the
/// recording, not the analysis; its first error is returned at the end with
/// the statistics.
pub fn run(
    source: &mut dyn EventSource,
    eval: Evaluator,
    opts: &LiveOptions,
    stop: &AtomicBool,
    cb: Callbacks<'_>,
) -> (LiveStats, Option<CaptureError>) {
    let started = Instant::now();
    let Callbacks { on_alert, on_notice } = cb;
    let mut p = Pipeline::new(eval, opts);
    let mut next_tick = opts.tick.map(|t| Instant::now() + t);
    while !stop.load(Ordering::Relaxed) {
        p.eval.begin_batch();
        let ev = source.next(opts.poll_timeout, &mut |rec| p.record(rec, on_alert));
        match &ev {
            SourceEvent::Delivered(_) | SourceEvent::Idle => {}
            SourceEvent::Attached { .. } => {
                p.attached(source.host());
                on_notice(Notice::Source(&ev));
            }
            SourceEvent::Detached { .. } | SourceEvent::Retry { .. } => on_notice(Notice::Source(&ev)),
        }
        p.after_batch(on_notice);
        on_notice(Notice::Batch { records: p.stats.records });
        if let (Some(at), Some(every)) = (next_tick, opts.tick)
            && Instant::now() >= at
        {
            let driver = source.driver_stats();
            on_notice(Notice::Tick(&p.snapshot(source.stats(), started), driver.as_ref()));
            next_tick = Some(at + every);
        }
    }
    p.eval.begin_batch();
    source.stop(&mut |rec| p.record(rec, on_alert));
    p.after_batch(on_notice);
    if let Some(w) = p.writer.take() {
        let r = w.finish().map(drop);
        p.keep_capture_error(r);
    }
    let stats = p.snapshot(source.stats(), started);
    (stats, p.capture_error)
}
