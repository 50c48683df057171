//! A rule's evaluation cost: the time [`Engine::single`] takes per event of
//! the rule's category, over a corpus.
//!
//! Wall time is noisy, so the gate is built not to flake: budgets sit two
//! orders of magnitude above what ordinary rules cost, and a rule that
//! looks over budget is measured twice more, keeping the fastest time seen
//! for each event. Interference only ever makes a rule look slower, so the
//! minimum is the honest estimate; a rule still over budget after three
//! passes really is.

use crate::event::Event;
use crate::sigma::{Engine, RuleId, RuleSet};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What one rule may cost per event of its category. The same budget gates
/// `content check` and drives the runtime watchdog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Mean over the benchmark corpus, in nanoseconds.
    pub mean_ns: u64,
    /// Any single event, in nanoseconds.
    pub max_ns: u64,
}

impl Default for Budget {
    /// 50 µs mean, 10 ms on any event: ordinary rules cost well under a
    /// microsecond per event in release builds and a few in debug builds.
    fn default() -> Self {
        Self { mean_ns: 50_000, max_ns: 10_000_000 }
    }
}

/// A rule's measured cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Events of the rule's category measured.
    pub events: usize,
    /// Mean nanoseconds per event.
    pub mean_ns: u64,
    /// Slowest single event, in nanoseconds.
    pub max_ns: u64,
}

impl Cost {
    /// Whether this cost fits `budget`.
    pub fn within(&self, budget: &Budget) -> bool {
        self.mean_ns <= budget.mean_ns && self.max_ns <= budget.max_ns
    }
}

/// Times each event once; `best` keeps the per-event minimum.
fn pass(engine: &mut Engine, events: &[&Event], best: &mut [u64]) {
    let mut hits = Vec::new();
    for (ev, b) in events.iter().zip(best.iter_mut()) {
        let t = Instant::now();
        engine.matches(ev, &mut hits);
        let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        *b = (*b).min(ns);
    }
}

fn summarize(best: &[u64], ordinary: usize) -> Cost {
    let total: u128 = best[..ordinary].iter().map(|&n| u128::from(n)).sum();
    let mean = total.checked_div(ordinary as u128).unwrap_or(0);
    Cost {
        events: best.len(),
        mean_ns: u64::try_from(mean).unwrap_or(u64::MAX),
        max_ns: best.iter().copied().max().unwrap_or(0),
    }
}

/// Measures rule `id` alone: the mean over `ordinary` events, the maximum
/// over those and the `stress` events (only events of the rule's category
/// count); re-measures up to twice when the first pass is over `budget`.
pub fn measure<'e>(
    set: &RuleSet,
    id: RuleId,
    ordinary: impl IntoIterator<Item = &'e Event>,
    stress: impl IntoIterator<Item = &'e Event>,
    budget: &Budget,
) -> Cost {
    let category = set.category(id);
    let mut events: Vec<&Event> = ordinary.into_iter().filter(|e| e.category() == category).collect();
    let n_ordinary = events.len();
    events.extend(stress.into_iter().filter(|e| e.category() == category));
    let Some(first) = events.first() else { return Cost::default() };
    let mut engine = Engine::single(set, id);
    let mut hits = Vec::new();
    engine.matches(first, &mut hits);
    let mut best = vec![u64::MAX; events.len()];
    for _ in 0..3 {
        pass(&mut engine, &events, &mut best);
        if summarize(&best, n_ordinary).within(budget) {
            break;
        }
    }
    summarize(&best, n_ordinary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::corpus;
    use crate::event::Category;

    fn rule(detection: &str) -> RuleSet {
        let text = format!(
            "title: t\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n{detection}"
        );
        let (set, errors) = RuleSet::from_sources([("r.yml", text)]);
        assert!(errors.is_empty(), "{errors:?}");
        set
    }

    #[test]
    fn a_catastrophic_regex_is_over_budget_on_a_long_command_line_only() {
        let cheap = rule("    sel:\n        CommandLine|contains: ' -enc '\n    condition: sel\n");
        let slow = rule("    sel:\n        CommandLine|re: '(?i)[a-z].{300}[0-9]{3}[%&!]'\n    condition: sel\n");
        let short: Vec<Event> = (0..50)
            .map(|i| {
                let mut e = Event::new(Category::ProcessCreation);
                e.set_str(crate::event::Field::CommandLine, &corpus::long_text(i, 200));
                e
            })
            .collect();
        let long = corpus::stress_event(Category::ProcessCreation, corpus::STRESS_FIELD_LEN);
        let budget = Budget::default();
        let id = RuleId(0);
        assert!(measure(&cheap, id, &short, [&long], &budget).within(&budget));
        assert!(measure(&slow, id, &short, [], &budget).within(&budget), "harmless on ordinary events");
        let c = measure(&slow, id, &short, [&long], &budget);
        assert!(c.max_ns > budget.max_ns, "{c:?}");
        assert!(c.mean_ns < budget.mean_ns, "the stress event counts for the maximum only: {c:?}");
        assert_eq!(c.events, 51);
        let other = Event::new(Category::FileEvent);
        assert_eq!(measure(&slow, id, [&other], [], &budget), Cost::default(), "other categories do not count");
    }
}
