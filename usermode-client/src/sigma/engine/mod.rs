//! The matcher: routes an event to its category, scans the fields rules
//! use for their probes (anchored literals with tries, `contains` literals
//! with a 4-gram filter, see [`index`]), evaluates only the rules one of
//! whose trigger probes hit (plus the few that have none), and answers
//! literal leaves from the scan where it covers them. Regexes and globs run
//! only when their required literal was seen. After warm-up nothing is
//! allocated per event.

mod eval;
mod grams;
mod index;
mod memo;
mod trie;

use super::ruleset::{RuleId, RuleSet};
use crate::event::{Category, Event};
use std::sync::Arc;

/// A compiled, indexed rule set plus per-thread scratch space.
///
/// `Engine` is cheap to [`Clone`]: clones share the compiled index and get
/// their own scratch, so each thread can own one.
#[derive(Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    scratch: eval::Scratch,
}

#[derive(Debug)]
struct Shared {
    cats: Vec<index::CatIndex>,
}

/// Counters describing an engine's index (for tests, tuning and docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Rules indexed.
    pub rules: usize,
    /// Distinct literals scanned for (over all categories and fields).
    pub needles: usize,
    /// Rules evaluated on every event of their category (no trigger needle).
    pub unfiltered_rules: usize,
}

impl Clone for Engine {
    fn clone(&self) -> Self {
        Engine { shared: Arc::clone(&self.shared), scratch: eval::Scratch::new(&self.shared.cats) }
    }
}

impl Engine {
    /// Indexes every rule of `set`.
    pub fn new(set: &RuleSet) -> Engine {
        Self::with_filter(set, |_| true)
    }

    /// Indexes only the rules `keep` accepts (ids stay those of `set`).
    pub fn with_filter(set: &RuleSet, keep: impl Fn(RuleId) -> bool) -> Engine {
        let cats = index::build(set, &keep);
        let scratch = eval::Scratch::new(&cats);
        Engine { shared: Arc::new(Shared { cats }), scratch }
    }

    /// An engine evaluating one rule alone (e.g. to measure its cost).
    pub fn single(set: &RuleSet, id: RuleId) -> Engine {
        Self::with_filter(set, |r| r == id)
    }

    /// Index statistics.
    pub fn stats(&self) -> EngineStats {
        let cats = &self.shared.cats;
        EngineStats {
            rules: cats.iter().map(|c| c.rules.len()).sum(),
            needles: cats.iter().map(|c| c.n_scanned).sum(),
            unfiltered_rules: cats.iter().map(|c| c.always.len()).sum(),
        }
    }

    /// Heap bytes of the scanning structures (tries, gram tables,
    /// automata), not counting the compiled rules themselves.
    pub fn index_bytes(&self) -> usize {
        let cats = &self.shared.cats;
        cats.iter()
            .flat_map(|c| &c.fields)
            .map(|f| f.starts.heap_bytes() + f.ends.heap_bytes() + f.grams.heap_bytes())
            .sum()
    }

    /// Clears `out` and fills it with the ids of the rules `event` matches,
    /// in ascending order.
    pub fn matches(&mut self, event: &Event, out: &mut Vec<RuleId>) {
        out.clear();
        let ci = cat_index(event.category());
        self.scratch.run(ci, &self.shared.cats[ci], event, out);
        out.sort_unstable();
    }

    /// Evaluates `events` on up to `threads` threads (each with its own
    /// scratch). Returns one `(event index, rule id)` pair per match, sorted.
    pub fn matches_batch(&self, events: &[Event], threads: usize) -> Vec<(usize, RuleId)> {
        let threads = threads.clamp(1, events.len().max(1));
        let chunk = events.len().div_ceil(threads).max(1);
        let mut parts: Vec<Vec<(usize, RuleId)>> = Vec::new();
        std::thread::scope(|s| {
            let handles: Vec<_> = events
                .chunks(chunk)
                .enumerate()
                .map(|(ci, evs)| {
                    let mut engine = self.clone();
                    s.spawn(move || {
                        let mut out = Vec::new();
                        let mut hits = Vec::new();
                        for (i, e) in evs.iter().enumerate() {
                            engine.matches(e, &mut hits);
                            out.extend(hits.iter().map(|&r| (ci * chunk + i, r)));
                        }
                        out
                    })
                })
                .collect();
            for h in handles {
                // A panicking worker is a bug in the engine; re-raise it.
                parts.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
        });
        parts.concat()
    }
}

fn cat_index(c: Category) -> usize {
    // `Category::ALL` lists the variants in declaration order.
    c as usize
}
