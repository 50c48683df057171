//! Per-category prefilter index: every literal a rule needs becomes a needle
//! of an Aho-Corasick automaton over one (category, field); each rule gets a
//! trigger set of needles of which at least one occurs whenever it matches.

use super::super::ir::{Expr, FieldName, Leaf, Test};
use super::super::pattern::{self, Pattern};
use super::super::ruleset::{RuleId, RuleSet};
use crate::event::{Category, Field};
use aho_corasick::{AhoCorasick, MatchKind};
use std::collections::HashMap;

/// When a leaf can be true: which needle(s) must have been seen.
#[derive(Clone, Debug)]
pub(super) enum Gate {
    None,
    One(u32),
    Any(Box<[u32]>),
}

/// A leaf with its gate; `fast` holds the needle flag bit that alone
/// decides a case-insensitive literal leaf.
#[derive(Clone, Debug)]
pub(super) struct CLeaf {
    pub leaf: Leaf,
    pub gate: Gate,
    pub fast: Option<(u32, u8)>,
}

/// A rule as the engine evaluates it.
#[derive(Clone, Debug)]
pub(super) struct CRule {
    pub id: RuleId,
    pub expr: Expr,
    pub leaves: Vec<CLeaf>,
}

/// One scanned field of a category.
#[derive(Debug)]
pub(super) struct FieldScan {
    pub field: Field,
    pub ac: Option<AhoCorasick>,
    /// Automaton pattern index to needle id.
    pub ids: Vec<u32>,
    /// The needle texts, searched one by one only if the automaton could
    /// not be built (too large), so gates stay sound.
    pub fallback: Vec<String>,
}

/// Everything for one category.
#[derive(Debug, Default)]
pub(super) struct CatIndex {
    pub rules: Vec<CRule>,
    pub fields: Vec<FieldScan>,
    /// `needle_rules[needle_start[n]..needle_start[n + 1]]`: rules triggered by needle `n`.
    pub needle_start: Vec<u32>,
    pub needle_rules: Vec<u32>,
    /// Rules with no trigger set: evaluated on every event of the category.
    pub always: Vec<u32>,
    pub n_needles: usize,
}

pub(super) const ANY: u8 = 1;
pub(super) const START: u8 = 2;
pub(super) const END: u8 = 4;
pub(super) const EXACT: u8 = 8;

fn anchor_bit(a: pattern::Anchor) -> u8 {
    match a {
        pattern::Anchor::Contains => ANY,
        pattern::Anchor::Prefix => START,
        pattern::Anchor::Suffix => END,
        pattern::Anchor::Exact => EXACT,
    }
}

#[derive(Default)]
struct Builder {
    needles: HashMap<(Field, String), u32>,
    /// Per field: (needle text, id) in insertion order.
    per_field: HashMap<Field, Vec<(String, u32)>>,
    /// Fields whose lowered text leaves read even without needles.
    text_fields: Vec<Field>,
}

impl Builder {
    fn needle(&mut self, f: Field, text: &str) -> u32 {
        let next = self.needles.len() as u32;
        let id = *self.needles.entry((f, text.to_owned())).or_insert(next);
        if id == next {
            self.per_field.entry(f).or_default().push((text.to_owned(), id));
        }
        id
    }

    fn text_field(&mut self, f: Field) {
        if !self.text_fields.contains(&f) {
            self.text_fields.push(f);
        }
    }

    fn compile_leaf(&mut self, leaf: &Leaf) -> CLeaf {
        let Some(FieldName::Known(f)) = leaf.field else {
            return CLeaf { leaf: leaf.clone(), gate: Gate::None, fast: None };
        };
        let (gate, fast) = match &leaf.test {
            Test::Str { pat, cased } => {
                self.text_field(f);
                match pat.needle() {
                    Some(n) => {
                        let id = self.needle(f, &pattern::lower(n));
                        let fast = match pat {
                            Pattern::Lit { anchor, .. } if !cased => Some((id, anchor_bit(*anchor))),
                            _ => None,
                        };
                        (Gate::One(id), fast)
                    }
                    None => (Gate::None, None),
                }
            }
            Test::Regex { needles, .. } => {
                self.text_field(f);
                let ids: Vec<u32> = needles.iter().map(|n| self.needle(f, n)).collect();
                match ids.as_slice() {
                    [] => (Gate::None, None),
                    [one] => (Gate::One(*one), None),
                    _ => (Gate::Any(ids.into_boxed_slice()), None),
                }
            }
            _ => (Gate::None, None),
        };
        CLeaf { leaf: leaf.clone(), gate, fast }
    }
}

/// Estimated cost of a trigger set: short needles occur often.
fn cost(set: &[u32], lens: &[usize]) -> f64 {
    set.iter()
        .map(|&n| {
            let l = lens.get(n as usize).copied().unwrap_or(1).clamp(1, 24) as f64;
            1.0 / (l * l)
        })
        .sum()
}

/// A set of needles of which one occurs whenever `e` is true (`None`: no such set).
fn trigger(e: &Expr, leaves: &[CLeaf], lens: &[usize]) -> Option<Vec<u32>> {
    match e {
        Expr::Leaf(i) => match &leaves.get(*i as usize)?.gate {
            Gate::None => None,
            Gate::One(n) => Some(vec![*n]),
            Gate::Any(ns) => Some(ns.to_vec()),
        },
        Expr::Const(false) => Some(Vec::new()),
        Expr::Const(true) | Expr::Not(_) => None,
        Expr::Or(xs) => {
            let mut all = Vec::new();
            for x in xs {
                all.extend(trigger(x, leaves, lens)?);
            }
            all.sort_unstable();
            all.dedup();
            Some(all)
        }
        Expr::And(xs) => {
            xs.iter().filter_map(|x| trigger(x, leaves, lens)).min_by(|a, b| cost(a, lens).total_cmp(&cost(b, lens)))
        }
    }
}

/// Builds the index of every category for the rules `keep` accepts.
pub(super) fn build(set: &RuleSet, keep: &dyn Fn(RuleId) -> bool) -> Vec<CatIndex> {
    Category::ALL
        .iter()
        .map(|&cat| {
            let mut b = Builder::default();
            let mut rules = Vec::new();
            for (i, r) in set.rules.iter().enumerate() {
                let id = RuleId(i as u32);
                if r.category != cat || !keep(id) {
                    continue;
                }
                let leaves = r.compiled.leaves.iter().map(|l| b.compile_leaf(l)).collect();
                rules.push(CRule { id, expr: r.compiled.expr.clone(), leaves });
            }
            finish(b, rules)
        })
        .collect()
}

fn finish(b: Builder, rules: Vec<CRule>) -> CatIndex {
    let n_needles = b.needles.len();
    let mut lens = vec![0usize; n_needles];
    for ((_, text), &id) in &b.needles {
        lens[id as usize] = text.len();
    }
    let mut by_needle: Vec<Vec<u32>> = vec![Vec::new(); n_needles];
    let mut always = Vec::new();
    for (ri, r) in rules.iter().enumerate() {
        match trigger(&r.expr, &r.leaves, &lens) {
            Some(set) => {
                for n in set {
                    by_needle[n as usize].push(ri as u32);
                }
            }
            None => always.push(ri as u32),
        }
    }
    let mut needle_start = Vec::with_capacity(n_needles + 1);
    let mut needle_rules = Vec::new();
    for list in by_needle {
        needle_start.push(needle_rules.len() as u32);
        needle_rules.extend(list);
    }
    needle_start.push(needle_rules.len() as u32);
    let mut fields: Vec<FieldScan> = Vec::new();
    let mut text_fields = b.text_fields;
    text_fields.sort();
    for f in text_fields {
        let list = b.per_field.get(&f).map(Vec::as_slice).unwrap_or_default();
        let ac = if list.is_empty() {
            None
        } else {
            AhoCorasick::builder().match_kind(MatchKind::Standard).build(list.iter().map(|(t, _)| t.as_str())).ok()
        };
        let ids = list.iter().map(|(_, id)| *id).collect();
        let fallback = if ac.is_none() { list.iter().map(|(t, _)| t.clone()).collect() } else { Vec::new() };
        fields.push(FieldScan { field: f, ac, ids, fallback });
    }
    CatIndex { rules, fields, needle_start, needle_rules, always, n_needles }
}
