//! A set of compiled rules, loaded from a directory or from sources.

use super::compile::CompileOptions;
use super::error::RuleError;
use super::ir::FieldName;
use super::rule::{self, Rule, RuleMeta};
use crate::event::Category;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A rule's index in its [`RuleSet`]; stable for the set's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

impl RuleId {
    /// The index as `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Compiled rules. Build an [`crate::sigma::Engine`] from it to match events.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
}

impl RuleSet {
    /// Loads every `*.yml`/`*.yaml` under `dir` (recursively, in path
    /// order) with default options. Rules that fail come back as errors; the
    /// rest load.
    pub fn load_dir(dir: impl AsRef<Path>) -> (RuleSet, Vec<RuleError>) {
        Self::load_dir_with(dir, &CompileOptions::default())
    }

    /// [`RuleSet::load_dir`] with explicit compile options.
    pub fn load_dir_with(dir: impl AsRef<Path>, opts: &CompileOptions) -> (RuleSet, Vec<RuleError>) {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        collect_files(dir.as_ref(), &mut files, &mut errors);
        files.sort();
        let mut sources = Vec::with_capacity(files.len());
        for f in files {
            match std::fs::read(&f) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(s) => sources.push((f, s)),
                    Err(_) => errors.push(RuleError { path: f, line: 0, reason: "file is not UTF-8".into() }),
                },
                Err(e) => errors.push(RuleError { path: f, line: 0, reason: format!("cannot read: {e}") }),
            }
        }
        let (set, more) = Self::from_sources_with(sources, opts);
        errors.extend(more);
        (set, errors)
    }

    /// Compiles rules from `(name, YAML text)` pairs with default options.
    pub fn from_sources<I, P, S>(sources: I) -> (RuleSet, Vec<RuleError>)
    where
        I: IntoIterator<Item = (P, S)>,
        P: Into<PathBuf>,
        S: AsRef<str>,
    {
        Self::from_sources_with(sources, &CompileOptions::default())
    }

    /// [`RuleSet::from_sources`] with explicit compile options. A rule whose
    /// `id` repeats an earlier rule's is rejected.
    pub fn from_sources_with<I, P, S>(sources: I, opts: &CompileOptions) -> (RuleSet, Vec<RuleError>)
    where
        I: IntoIterator<Item = (P, S)>,
        P: Into<PathBuf>,
        S: AsRef<str>,
    {
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        for (path, text) in sources {
            let path: PathBuf = path.into();
            match rule::parse_rule(text.as_ref(), path.clone(), opts) {
                Ok(r) => {
                    if !r.meta.id.is_empty() {
                        if let Some(first) = seen.get(&r.meta.id) {
                            let reason = format!("duplicate rule id '{}' (first in {})", r.meta.id, first.display());
                            errors.push(RuleError { path, line: 0, reason });
                            continue;
                        }
                        seen.insert(r.meta.id.clone(), path);
                    }
                    rules.push(r);
                }
                Err(e) => errors.push(e.at(path)),
            }
        }
        (RuleSet { rules }, errors)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every rule id, in load order.
    pub fn ids(&self) -> impl Iterator<Item = RuleId> + '_ {
        (0..self.rules.len() as u32).map(RuleId)
    }

    /// A rule's metadata. Panics if `id` is not from this set.
    pub fn meta(&self, id: RuleId) -> &RuleMeta {
        &self.rules[id.index()].meta
    }

    /// The category a rule is routed to.
    pub fn category(&self, id: RuleId) -> Category {
        self.rules[id.index()].category
    }

    /// The fields a compiled rule reads (sorted, deduplicated; includes
    /// `fieldref` targets).
    pub fn fields(&self, id: RuleId) -> &[FieldName] {
        &self.rules[id.index()].fields
    }

    /// The rule with this Sigma `id`.
    pub fn find(&self, sigma_id: &str) -> Option<RuleId> {
        self.rules.iter().position(|r| r.meta.id == sigma_id).map(|i| RuleId(i as u32))
    }

    /// A set holding only the rules `keep` accepts (ids are renumbered;
    /// use [`RuleMeta::id`] to relate them).
    pub fn subset(&self, mut keep: impl FnMut(RuleId, &RuleMeta) -> bool) -> RuleSet {
        let rules = self
            .rules
            .iter()
            .enumerate()
            .filter(|(i, r)| keep(RuleId(*i as u32), &r.meta))
            .map(|(_, r)| r.clone())
            .collect();
        RuleSet { rules }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<RuleError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(RuleError { path: dir.to_owned(), line: 0, reason: format!("cannot read directory: {e}") });
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_files(&p, out, errors);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}
