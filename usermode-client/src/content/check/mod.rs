//! `content check`: every rule compiles with the runtime's compiler, reads
//! only fields its category's events carry, stays within the cost budget on
//! the benchmark corpus, and behaves as its own examples declare.
//!
//! The analyzer runs the same static checks ([`static_checks`]) again when
//! it loads a pack; only the cost measurement is build-time only (the
//! runtime has its watchdog instead).

pub mod cost;
pub mod examples;

use super::corpus::Corpus;
use super::schema::{self, UnknownField};
use crate::sigma::{CompileOptions, RuleId, RuleSet};
pub use cost::{Budget, Cost};
use examples::ExampleFailure;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// Why a rule failed its check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// It does not compile (this includes regexes over the size limits).
    Compile {
        /// 1-based line, 0 for the whole file.
        line: u32,
        /// Why.
        reason: String,
    },
    /// It reads a field its category's events never carry.
    UnknownField(UnknownField),
    /// It costs more than the budget on the benchmark corpus.
    OverBudget {
        /// What it cost.
        cost: Cost,
        /// What it may cost.
        budget: Budget,
    },
    /// One of its examples misbehaves or cannot be read.
    Example(ExampleFailure),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Compile { line, reason } => write!(f, "line {line}: does not compile: {reason}"),
            Problem::UnknownField(u) => u.fmt(f),
            Problem::OverBudget { cost, budget } => write!(
                f,
                "over budget: mean {} / max {} per event over {} events (budget {} / {})",
                ns(cost.mean_ns),
                ns(cost.max_ns),
                cost.events,
                ns(budget.mean_ns),
                ns(budget.max_ns)
            ),
            Problem::Example(e) => write!(f, "example at {e}"),
        }
    }
}

/// Nanoseconds for people.
pub fn ns(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} ns"),
        1_000..1_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        _ => format!("{:.1} ms", n as f64 / 1e6),
    }
}

/// The verdict on one rule file.
#[derive(Clone, Debug, Default)]
pub struct RuleReport {
    /// The file, relative to the rules directory.
    pub path: PathBuf,
    /// Its Sigma id (empty if it did not compile).
    pub id: String,
    /// Its title (empty if it did not compile).
    pub title: String,
    /// Everything that fails it.
    pub problems: Vec<Problem>,
    /// Things worth knowing that do not fail it.
    pub warnings: Vec<String>,
    /// Measured cost, when measured.
    pub cost: Option<Cost>,
    /// Examples run.
    pub examples: usize,
}

impl RuleReport {
    /// Whether the rule passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The verdict on a set of rules, one report per file in path order.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// Per rule.
    pub rules: Vec<RuleReport>,
}

impl CheckReport {
    /// Whether every rule passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.rules.is_empty() && self.rules.iter().all(RuleReport::passed)
    }

    /// Rules that failed.
    pub fn failed(&self) -> usize {
        self.rules.iter().filter(|r| !r.passed()).count()
    }
}

/// How to check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Compile limits (regex size and DFA cache).
    pub compile: CompileOptions,
    /// Per-rule cost budget.
    pub budget: Budget,
}

/// Schema and example checks of one compiled rule: what both `content
/// check` and the runtime loader run. Returns problems, warnings and the
/// number of examples.
pub fn static_checks(set: &RuleSet, id: RuleId, text: &str) -> (Vec<Problem>, Vec<String>, usize) {
    let mut problems: Vec<Problem> =
        schema::unknown_fields(set, id, text).into_iter().map(Problem::UnknownField).collect();
    let mut warnings = Vec::new();
    let examples = match examples::parse(text) {
        Ok(ex) => ex,
        Err(e) => {
            problems.push(Problem::Example(e));
            return (problems, warnings, 0);
        }
    };
    problems.extend(examples::run(set, id, &examples).into_iter().map(Problem::Example));
    if examples.is_empty() {
        warnings.push("no examples".into());
    } else {
        let uncovered = examples::uncovered_fields(set, id, &examples);
        if !uncovered.is_empty() {
            warnings.push(format!("no example sets {}", uncovered.join(", ")));
        }
    }
    (problems, warnings, examples.len())
}

/// Checks `(path, text)` sources; with a `corpus`, also measures each
/// rule's cost. Returns the report and the rules that compiled.
pub fn check_sources(
    sources: &[(PathBuf, String)],
    opts: &CheckOptions,
    corpus: Option<&Corpus>,
) -> (CheckReport, RuleSet) {
    let (set, errors) = RuleSet::from_sources_with(sources.iter().map(|(p, t)| (p.clone(), t.as_str())), &opts.compile);
    let mut by_path: HashMap<&PathBuf, RuleReport> = HashMap::new();
    for e in errors {
        let Some((path, _)) = sources.iter().find(|(p, _)| *p == e.path) else { continue };
        let report = by_path.entry(path).or_insert_with(|| RuleReport { path: path.clone(), ..RuleReport::default() });
        report.problems.push(Problem::Compile { line: e.line, reason: e.reason });
    }
    let texts: HashMap<&PathBuf, &str> = sources.iter().map(|(p, t)| (p, t.as_str())).collect();
    for id in set.ids() {
        let meta = set.meta(id);
        let Some((path, text)) = texts.get_key_value(&meta.path) else { continue };
        let (problems, warnings, examples) = static_checks(&set, id, text);
        let cost = corpus.map(|c| cost::measure(&set, id, c.of(set.category(id)), c.stress(), &opts.budget));
        let mut report = RuleReport {
            path: (*path).clone(),
            id: meta.id.clone(),
            title: meta.title.clone(),
            problems,
            warnings,
            cost,
            examples,
        };
        if let Some(c) = cost.filter(|c| !c.within(&opts.budget)) {
            report.problems.push(Problem::OverBudget { cost: c, budget: opts.budget });
        }
        by_path.insert(path, report);
    }
    let mut rules: Vec<RuleReport> = by_path.into_values().collect();
    rules.sort_by(|a, b| a.path.cmp(&b.path));
    (CheckReport { rules }, set)
}
