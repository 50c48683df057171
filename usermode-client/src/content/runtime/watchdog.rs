//! Batch evaluation under a per-rule time budget.
//!
//! Every event's evaluation is timed (one clock read per event). An event
//! that took the whole engine longer than one rule may take
//! ([`Budget::max_ns`]) is a suspect; the rules of its category are then
//! bisected on the suspect events to find the rule(s) that are over budget
//! alone, confirmed by a second measurement (the faster one counts), and
//! quarantined: a new snapshot without them is swapped in and the rest keep
//! running. The batch that revealed them was fully evaluated; its matches
//! stand.
//!
//! Evaluation always ends: the regex engine runs in linear time, globs do
//! not backtrack, and compile limits bound every automaton. A "hang" is a
//! rule whose bounded cost is huge on some event; the watchdog stops paying
//! it after the first batch in which it shows.

use super::ContentAlert;
use super::active::{ActiveContent, Snapshot};
use crate::content::check::Budget;
use crate::event::Event;
use crate::sigma::{Engine, RuleId, RuleSet};
use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Instant;

/// What one batch produced.
#[derive(Clone, Debug, Default)]
pub struct BatchOutcome {
    /// Generation of the snapshot the whole batch was evaluated with.
    pub generation: u64,
    /// `(event index, rule)` for every match, in event order.
    pub hits: Vec<(usize, RuleId)>,
    /// Time spent evaluating, in nanoseconds.
    pub eval_ns: u64,
    /// Rules quarantined because of this batch.
    pub alerts: Vec<ContentAlert>,
}

/// Evaluates batches with the active snapshot (one per thread).
///
/// Batch pipelines call [`Evaluator::run`]. Pipelines that match record by
/// record (the live consumer maps and matches inside its ring callback) call
/// [`Evaluator::begin_batch`] before each batch, [`Evaluator::matches`] per
/// event and [`Evaluator::end_batch`] after it; an event over budget is
/// copied aside for the watchdog, nothing else is.
#[derive(Debug)]
pub struct Evaluator {
    active: Arc<ActiveContent>,
    snapshot: Arc<Snapshot>,
    engine: Engine,
    budget: Budget,
    hits: Vec<RuleId>,
    suspects: Vec<Event>,
}

fn elapsed_ns(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl Evaluator {
    /// An evaluator of `active` under `budget`.
    pub fn new(active: Arc<ActiveContent>, budget: Budget) -> Self {
        let snapshot = active.load();
        let engine = snapshot.engine.clone();
        Self { active, snapshot, engine, budget, hits: Vec::new(), suspects: Vec::new() }
    }

    /// The snapshot the current batch is evaluated with (its rule set names
    /// the [`RuleId`]s [`Evaluator::matches`] returns).
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// Starts a batch: takes the current snapshot if it changed. Returns its generation.
    pub fn begin_batch(&mut self) -> u64 {
        let snap = self.active.load();
        if snap.generation != self.snapshot.generation {
            self.engine = snap.engine.clone();
            self.snapshot = snap;
        }
        self.suspects.clear();
        self.snapshot.generation
    }

    /// Matches one event of the batch into `out` (cleared first); returns
    /// the nanoseconds it took.
    pub fn matches(&mut self, event: &Event, out: &mut Vec<RuleId>) -> u64 {
        let t = Instant::now();
        self.engine.matches(event, out);
        let ns = elapsed_ns(t);
        if ns > self.budget.max_ns {
            self.suspects.push(event.clone());
        }
        ns
    }

    /// Ends a batch: finds the rules over budget on its suspect events, if
    /// any, and quarantines them.
    pub fn end_batch(&mut self) -> Vec<ContentAlert> {
        if self.suspects.is_empty() {
            return Vec::new();
        }
        let suspects: Vec<&Event> = self.suspects.iter().collect();
        let snap = &self.snapshot;
        let candidates: Vec<RuleId> = snap
            .rules()
            .ids()
            .filter(|&r| snap.is_active(r) && suspects.iter().any(|e| e.category() == snap.rules().category(r)))
            .collect();
        let culprits = over_budget(snap.rules(), &candidates, &suspects, &self.budget);
        let mut alerts = Vec::new();
        let ids: Vec<RuleId> = culprits.iter().map(|c| c.0).collect();
        if !ids.is_empty() && self.active.quarantine(snap.generation, &ids).is_some() {
            let pack = snap.pack.as_ref().map(|p| p.short_id()).unwrap_or_default();
            for (id, ns) in culprits {
                let m = snap.rules().meta(id);
                alerts.push(ContentAlert::RuleQuarantined {
                    pack: pack.clone(),
                    rule_id: m.id.clone(),
                    title: m.title.clone(),
                    cost_ns: ns,
                    budget_ns: self.budget.max_ns,
                });
            }
        }
        self.suspects.clear();
        alerts
    }

    /// Evaluates `events` (owned or borrowed) with the current snapshot,
    /// then quarantines any rule found over budget.
    pub fn run<E: Borrow<Event>>(&mut self, events: &[E]) -> BatchOutcome {
        let mut out = BatchOutcome { generation: self.begin_batch(), ..BatchOutcome::default() };
        let mut hits = std::mem::take(&mut self.hits);
        for (i, ev) in events.iter().enumerate() {
            let ns = self.matches(ev.borrow(), &mut hits);
            out.eval_ns = out.eval_ns.saturating_add(ns);
            out.hits.extend(hits.iter().map(|&r| (i, r)));
        }
        self.hits = hits;
        out.alerts = self.end_batch();
        out
    }
}

/// Slowest time of `engine` over `events`.
fn worst(engine: &mut Engine, events: &[&Event]) -> u64 {
    let mut hits = Vec::new();
    events
        .iter()
        .map(|e| {
            let t = Instant::now();
            engine.matches(e, &mut hits);
            elapsed_ns(t)
        })
        .max()
        .unwrap_or(0)
}

/// The rules of `ids` that alone take longer than `budget.max_ns` on one
/// of `events`, with the (faster of two) time measured.
pub fn over_budget(set: &RuleSet, ids: &[RuleId], events: &[&Event], budget: &Budget) -> Vec<(RuleId, u64)> {
    if ids.is_empty() {
        return Vec::new();
    }
    let mut engine = Engine::with_filter(set, |r| ids.binary_search(&r).is_ok());
    let t = worst(&mut engine, events);
    if t <= budget.max_ns {
        return Vec::new();
    }
    if let [id] = ids {
        let again = worst(&mut engine, events).min(t);
        return if again > budget.max_ns { vec![(*id, again)] } else { Vec::new() };
    }
    let (a, b) = ids.split_at(ids.len() / 2);
    let mut out = over_budget(set, a, events, budget);
    out.extend(over_budget(set, b, events, budget));
    out
}
