//! Where mapped events go: matched at once on this thread ([`Inline`]), or
//! in batches on worker threads ([`Parallel`]) with alerts delivered in
//! input order either way.

use super::alert::Alert;
use super::stats::ReplayStats;
use crate::event::{Category, Event};
use crate::sigma::{Engine, RuleId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, mpsc};

/// A consumer of events: fill [`Sink::slot`], then [`Sink::commit`] it.
pub(super) trait Sink {
    /// The event to fill next.
    fn slot(&mut self) -> &mut Event;
    /// The slot holds an event of `input`'s record `record`: match it.
    fn commit(&mut self, input: usize, record: u64, stats: &mut ReplayStats);
    /// Waits for every committed event to be matched.
    fn finish(&mut self, stats: &mut ReplayStats);
}

fn count_alert(stats: &mut ReplayStats, a: &Alert) {
    *stats.alerts_by_rule.entry(a.rule.0).or_default() += 1;
}

/// Matches on the calling thread.
pub(super) struct Inline<'a> {
    engine: Engine,
    event: Event,
    hits: Vec<RuleId>,
    on_alert: &'a mut dyn FnMut(&Alert),
}

impl<'a> Inline<'a> {
    pub(super) fn new(engine: Engine, on_alert: &'a mut dyn FnMut(&Alert)) -> Self {
        Self { engine, event: Event::new(Category::ProcessCreation), hits: Vec::new(), on_alert }
    }
}

impl Sink for Inline<'_> {
    fn slot(&mut self) -> &mut Event {
        &mut self.event
    }

    fn commit(&mut self, input: usize, record: u64, stats: &mut ReplayStats) {
        stats.count_event(self.event.category());
        self.engine.matches(&self.event, &mut self.hits);
        for &rule in &self.hits {
            let a = Alert::new(rule, input, record, &self.event);
            count_alert(stats, &a);
            (self.on_alert)(&a);
        }
    }

    fn finish(&mut self, _stats: &mut ReplayStats) {}
}

/// Events per batch handed to a worker.
const BATCH: usize = 2048;

/// A batch of events; its `Event`s are reused from batch to batch.
pub(super) struct Batch {
    seq: u64,
    events: Vec<Event>,
    origins: Vec<(usize, u64)>,
}

impl Batch {
    fn new() -> Self {
        Self { seq: 0, events: Vec::new(), origins: Vec::with_capacity(BATCH) }
    }
}

/// A matched batch coming back.
pub(super) struct Done {
    seq: u64,
    alerts: Vec<Alert>,
    batch: Batch,
}

/// The worker loop: match batches until the channel closes.
pub(super) fn worker(mut engine: Engine, rx: Arc<Mutex<mpsc::Receiver<Batch>>>, tx: mpsc::Sender<Done>) {
    let mut hits = Vec::new();
    loop {
        let next = rx.lock().map(|r| r.recv());
        let Ok(Ok(batch)) = next else { return };
        let mut alerts = Vec::new();
        for (ev, &(input, record)) in batch.events.iter().zip(&batch.origins) {
            engine.matches(ev, &mut hits);
            alerts.extend(hits.iter().map(|&rule| Alert::new(rule, input, record, ev)));
        }
        if tx.send(Done { seq: batch.seq, alerts, batch }).is_err() {
            return;
        }
    }
}

/// Hands batches to workers and delivers their alerts in order.
pub(super) struct Parallel<'a> {
    to_workers: Option<mpsc::SyncSender<Batch>>,
    from_workers: mpsc::Receiver<Done>,
    pool: Vec<Batch>,
    current: Batch,
    next_seq: u64,
    next_emit: u64,
    pending: BTreeMap<u64, Vec<Alert>>,
    on_alert: &'a mut dyn FnMut(&Alert),
}

impl<'a> Parallel<'a> {
    pub(super) fn new(
        to_workers: mpsc::SyncSender<Batch>,
        from_workers: mpsc::Receiver<Done>,
        on_alert: &'a mut dyn FnMut(&Alert),
    ) -> Self {
        Self {
            to_workers: Some(to_workers),
            from_workers,
            pool: Vec::new(),
            current: Batch::new(),
            next_seq: 0,
            next_emit: 0,
            pending: BTreeMap::new(),
            on_alert,
        }
    }

    fn take_done(&mut self, done: Done, stats: &mut ReplayStats) {
        self.pending.insert(done.seq, done.alerts);
        self.pool.push(done.batch);
        while let Some(alerts) = self.pending.remove(&self.next_emit) {
            for a in &alerts {
                count_alert(stats, a);
                (self.on_alert)(a);
            }
            self.next_emit += 1;
        }
    }

    fn send_current(&mut self, stats: &mut ReplayStats) {
        if self.current.origins.is_empty() {
            return;
        }
        let fresh = self.pool.pop().unwrap_or_else(Batch::new);
        let mut batch = std::mem::replace(&mut self.current, fresh);
        self.current.origins.clear();
        batch.seq = self.next_seq;
        self.next_seq += 1;
        if let Some(tx) = &self.to_workers {
            // Blocks when every worker is busy and the queue is full: the
            // reader slows down to the matchers' pace.
            let _ = tx.send(batch);
        }
        while let Ok(done) = self.from_workers.try_recv() {
            self.take_done(done, stats);
        }
    }
}

impl Sink for Parallel<'_> {
    fn slot(&mut self) -> &mut Event {
        let n = self.current.origins.len();
        if self.current.events.len() <= n {
            self.current.events.push(Event::new(Category::ProcessCreation));
        }
        &mut self.current.events[n]
    }

    fn commit(&mut self, input: usize, record: u64, stats: &mut ReplayStats) {
        let n = self.current.origins.len();
        if let Some(ev) = self.current.events.get(n) {
            stats.count_event(ev.category());
        }
        self.current.origins.push((input, record));
        if self.current.origins.len() >= BATCH {
            self.send_current(stats);
        }
    }

    fn finish(&mut self, stats: &mut ReplayStats) {
        self.send_current(stats);
        while self.next_emit < self.next_seq {
            match self.from_workers.recv() {
                Ok(done) => self.take_done(done, stats),
                Err(_) => break,
            }
        }
        self.to_workers = None;
    }
}
