//! Per-category index.
//!
//! Every literal a leaf needs becomes a *probe*: a lowercased text that
//! must occur in one field at an anchor (anywhere, at the start, at the
//! end, or as the whole value) whenever the leaf is true. Each rule gets a
//! *trigger* set of probes, one of which hits whenever the rule matches,
//! chosen to be rare (anchored, long, in a field with many distinct
//! values). Per event, the engine scans each field for its probes and
//! evaluates only the rules one of whose triggers hit.
//!
//! Scanned are all anchored probes (a trie walk costs the same for one
//! needle or thousands) and the `contains` probes that are triggers.
//! A leaf whose own probe is scanned is decided by the scan (a
//! case-insensitive literal) or skipped when it did not hit (globs, regexes,
//! `cased`); other leaves are evaluated directly on the value.

use super::super::ir::{Expr, FieldName, Leaf, Test};
use super::super::pattern::{self, Anchor, Pattern};
use super::super::ruleset::{RuleId, RuleSet};
use super::grams::Grams;
use super::trie::{Trie, TrieBuilder};
use crate::event::{Category, Field};
use std::collections::HashMap;

/// Where a probe's text must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Contains,
    Prefix,
    Suffix,
    Exact,
}

impl Kind {
    fn of(a: Anchor) -> Kind {
        match a {
            Anchor::Contains => Kind::Contains,
            Anchor::Prefix => Kind::Prefix,
            Anchor::Suffix => Kind::Suffix,
            Anchor::Exact => Kind::Exact,
        }
    }
}

/// Which scanned probe(s) must have hit for a leaf to be true.
#[derive(Clone, Debug)]
pub(super) enum Gate {
    None,
    One(u32),
    Any(Box<[u32]>),
}

/// A leaf with its gate; `fast` is the probe whose hit alone decides it;
/// `finder` searches a case-insensitive `contains` literal the scan does
/// not decide (built once: building one per search costs more than it);
/// `pre` finds the literals of which a regex needs one (in the lowercased
/// value) before the regex runs.
#[derive(Clone, Debug)]
pub(super) struct CLeaf {
    pub gate: Gate,
    pub fast: Option<u32>,
    pub finder: Option<Box<memchr::memmem::Finder<'static>>>,
    pub pre: Box<[memchr::memmem::Finder<'static>]>,
}

/// A rule as the engine evaluates it: `src[i]` is leaf `i` as compiled
/// (shared with the rule set), `leaves[i]` what the engine adds to it.
#[derive(Clone, Debug)]
pub(super) struct CRule {
    pub id: RuleId,
    pub expr: Node,
    pub src: std::sync::Arc<[Leaf]>,
    pub leaves: Vec<CLeaf>,
}

/// A rule's condition as the engine evaluates it: leaves the scan decides
/// become probe checks, merged where an `or` has several, and the children
/// of `and`/`or` are ordered cheapest first (they have no side effects, so
/// the order does not change the result, only how soon it is known).
#[derive(Clone, Debug)]
pub(super) enum Node {
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    Const(bool),
    /// This probe hit.
    Hit(u32),
    /// One of these probes hit.
    AnyHit(Box<[u32]>),
    /// A leaf evaluated on the event.
    Leaf(u32),
}

impl Node {
    fn of(e: &Expr, leaves: &[CLeaf], src: &[Leaf]) -> Node {
        match e {
            Expr::Leaf(i) => match leaves.get(*i as usize).and_then(|l| l.fast) {
                Some(p) => Node::Hit(p),
                None => Node::Leaf(*i),
            },
            Expr::Const(b) => Node::Const(*b),
            Expr::Not(x) => Node::Not(Box::new(Node::of(x, leaves, src))),
            Expr::And(xs) => {
                let mut v: Vec<Node> = xs.iter().map(|x| Node::of(x, leaves, src)).collect();
                v.sort_by_key(|n| n.cost(src));
                Node::And(v.into())
            }
            Expr::Or(xs) => {
                let mut hits = Vec::new();
                let mut rest = Vec::new();
                for x in xs {
                    match Node::of(x, leaves, src) {
                        Node::Hit(p) => hits.push(p),
                        Node::AnyHit(ps) => hits.extend(ps.iter()),
                        n => rest.push(n),
                    }
                }
                hits.sort_unstable();
                hits.dedup();
                match hits.as_slice() {
                    [] => {}
                    [one] => rest.push(Node::Hit(*one)),
                    _ => rest.push(Node::AnyHit(hits.into())),
                }
                rest.sort_by_key(|n| n.cost(src));
                if rest.len() == 1 { rest.pop().unwrap_or(Node::Const(false)) } else { Node::Or(rest.into()) }
            }
        }
    }

    /// A rough evaluation cost rank.
    fn cost(&self, src: &[Leaf]) -> u32 {
        match self {
            Node::Const(_) | Node::Hit(_) | Node::AnyHit(_) => 0,
            Node::Not(x) => x.cost(src),
            Node::And(xs) | Node::Or(xs) => xs.iter().map(|x| x.cost(src)).max().unwrap_or(0),
            Node::Leaf(i) => src.get(*i as usize).map_or(0, |l| match (&l.field, &l.test) {
                (None, _) => 8,
                (_, Test::Null | Test::Exists(_)) => 1,
                (_, Test::NumEq(_) | Test::NumCmp(..) | Test::Bool(_)) => 2,
                (_, Test::Str { pat: Pattern::Lit { .. }, .. }) => 3,
                (_, Test::Str { .. } | Test::FieldRef { .. } | Test::Cidr(_)) => 4,
                (_, Test::Regex { .. }) => 6,
            }),
        }
    }
}

/// The scanners of one field of a category.
#[derive(Debug)]
pub(super) struct FieldScan {
    pub field: Field,
    /// Prefix and whole-value probes.
    pub starts: Trie,
    /// Suffix probes.
    pub ends: Trie,
    /// `contains` probes.
    pub grams: Grams,
}

/// Everything for one category.
#[derive(Debug, Default)]
pub(super) struct CatIndex {
    pub rules: Vec<CRule>,
    pub fields: Vec<FieldScan>,
    /// `probe_rules[probe_start[p]..probe_start[p + 1]]`: rules triggered by probe `p`.
    pub probe_start: Vec<u32>,
    pub probe_rules: Vec<u32>,
    /// Rules with no trigger set: evaluated on every event of the category.
    pub always: Vec<u32>,
    /// Probe ids in use (scanned or not).
    pub n_probes: usize,
    /// Probes scanned.
    pub n_scanned: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Probe {
    field: Field,
    kind: Kind,
    text: String,
}

/// A leaf's probes before it is known which are scanned: one of `any` is
/// needed; `decides` if a hit of the (single) probe alone makes it true.
#[derive(Clone, Debug, Default)]
struct Needs {
    any: Vec<u32>,
    decides: bool,
}

#[derive(Default)]
struct Builder {
    ids: HashMap<Probe, u32>,
    probes: Vec<Probe>,
}

impl Builder {
    fn probe(&mut self, field: Field, kind: Kind, text: String) -> u32 {
        let p = Probe { field, kind, text };
        if let Some(&id) = self.ids.get(&p) {
            return id;
        }
        let id = self.probes.len() as u32;
        self.probes.push(p.clone());
        self.ids.insert(p, id);
        id
    }

    /// The probe a case-sensitive needle implies on the lowercased value.
    /// Lowercasing is not substring-preserving for every non-ASCII
    /// character (final sigma), so only ASCII needles qualify.
    fn cased_probe(&mut self, field: Field, kind: Kind, needle: &str) -> Option<u32> {
        needle.is_ascii().then(|| self.probe(field, kind, needle.to_ascii_lowercase()))
    }

    fn needs(&mut self, leaf: &Leaf) -> Needs {
        let Some(FieldName::Known(f)) = leaf.field else { return Needs::default() };
        match &leaf.test {
            Test::Str { pat: Pattern::Lit { text, anchor }, cased } if !text.is_empty() => {
                let kind = Kind::of(*anchor);
                match cased {
                    false => Needs { any: vec![self.probe(f, kind, text.clone())], decides: true },
                    true => Needs { any: self.cased_probe(f, kind, text).into_iter().collect(), decides: false },
                }
            }
            Test::Str { pat: pat @ Pattern::Glob(_), cased } => {
                let Some(n) = pat.needle() else { return Needs::default() };
                let id = if *cased {
                    self.cased_probe(f, Kind::Contains, n)
                } else {
                    Some(self.probe(f, Kind::Contains, n.to_owned()))
                };
                Needs { any: id.into_iter().collect(), decides: false }
            }
            Test::Regex { needles, .. } => {
                let any = needles.iter().map(|n| self.probe(f, Kind::Contains, pattern::lower(n))).collect();
                Needs { any, decides: false }
            }
            _ => Needs::default(),
        }
    }

    /// Estimated chance that probe `p` hits on an ordinary event (only the
    /// order matters): longer literals are rarer, not counting fragments
    /// every path or command line has; anchored ones rarer than `contains`;
    /// any literal is common in a field with few distinct values.
    fn rarity_cost(&self, p: u32) -> f64 {
        let Some(probe) = self.probes.get(p as usize) else { return 1.0 };
        let info = informative_len(&probe.text) as f64;
        let kind = match probe.kind {
            Kind::Contains => 1.0,
            Kind::Prefix | Kind::Suffix => 0.5,
            Kind::Exact => 0.3,
        };
        let field = match probe.field {
            Field::IntegrityLevel
            | Field::Signed
            | Field::SignatureStatus
            | Field::User
            | Field::ParentUser
            | Field::LogonId
            | Field::TerminalSessionId
            | Field::Provider_Name
            | Field::Channel
            | Field::EventID
            | Field::Company
            | Field::Signature => 100.0,
            Field::Product | Field::Description | Field::CurrentDirectory | Field::FileVersion => 10.0,
            // A few long-lived processes start most others.
            Field::ParentImage => 3.0,
            _ => 1.0,
        };
        field * kind / ((1.0 + info) * (1.0 + info))
    }

    fn cost(&self, set: &[u32]) -> f64 {
        set.iter().map(|&p| self.rarity_cost(p)).sum()
    }

    /// A set of probes of which one hits whenever `e` is true (`None`: no such set).
    fn trigger(&self, e: &Expr, needs: &[Needs]) -> Option<Vec<u32>> {
        match e {
            Expr::Leaf(i) => {
                let n = needs.get(*i as usize)?;
                (!n.any.is_empty()).then(|| n.any.clone())
            }
            Expr::Const(false) => Some(Vec::new()),
            Expr::Const(true) | Expr::Not(_) => None,
            Expr::Or(xs) => {
                let mut all = Vec::new();
                for x in xs {
                    all.extend(self.trigger(x, needs)?);
                }
                all.sort_unstable();
                all.dedup();
                Some(all)
            }
            Expr::And(xs) => {
                xs.iter().filter_map(|x| self.trigger(x, needs)).min_by(|a, b| self.cost(a).total_cmp(&self.cost(b)))
            }
        }
    }
}

/// Fragments that ordinary paths and command lines are full of.
const GENERIC: &[&str] = &[
    "c:\\windows\\system32\\",
    "c:\\windows\\syswow64\\",
    "c:\\windows\\",
    "c:\\program files (x86)\\",
    "c:\\program files\\",
    "c:\\programdata\\",
    "c:\\users\\",
    "\\windows\\",
    "\\system32\\",
    "\\syswow64\\",
    "\\program files",
    "\\appdata\\local\\",
    "\\appdata\\roaming\\",
    "\\appdata\\",
    "\\microsoft\\",
    "\\users\\",
    "\\temp\\",
    "\\local\\",
    "\\roaming\\",
    ".exe",
    ".dll",
    "c:\\",
    ":\\",
    "http",
];

/// The length of `text` not made of [`GENERIC`] fragments or spaces (0
/// if it is part of one).
fn informative_len(text: &str) -> usize {
    if GENERIC.iter().any(|g| g.contains(text)) {
        return 0;
    }
    let mut rest = text.to_owned();
    for g in GENERIC {
        if rest.contains(g) {
            rest = rest.replace(g, " ");
        }
    }
    rest.chars().filter(|c| !c.is_whitespace()).count()
}

/// Builds the index of every category for the rules `keep` accepts.
pub(super) fn build(set: &RuleSet, keep: &dyn Fn(RuleId) -> bool) -> Vec<CatIndex> {
    Category::ALL
        .iter()
        .map(|&cat| {
            let chosen: Vec<RuleId> = set
                .rules
                .iter()
                .enumerate()
                .map(|(i, _)| RuleId(i as u32))
                .filter(|&id| set.rules[id.index()].category == cat && keep(id))
                .collect();
            build_category(set, &chosen)
        })
        .collect()
}

fn build_category(set: &RuleSet, chosen: &[RuleId]) -> CatIndex {
    let mut b = Builder::default();
    let needs: Vec<Vec<Needs>> =
        chosen.iter().map(|id| set.rules[id.index()].compiled.leaves.iter().map(|l| b.needs(l)).collect()).collect();
    let n_probes = b.probes.len();
    let mut scanned: Vec<bool> = b.probes.iter().map(|p| p.kind != Kind::Contains).collect();
    let mut by_probe: Vec<Vec<u32>> = vec![Vec::new(); n_probes];
    let mut always = Vec::new();
    for (ri, id) in chosen.iter().enumerate() {
        match b.trigger(&set.rules[id.index()].compiled.expr, &needs[ri]) {
            Some(trig) => {
                for p in trig {
                    scanned[p as usize] = true;
                    by_probe[p as usize].push(ri as u32);
                }
            }
            None => always.push(ri as u32),
        }
    }
    let rules = chosen
        .iter()
        .zip(&needs)
        .map(|(id, leaf_needs)| {
            let r = &set.rules[id.index()].compiled;
            let leaves = r
                .leaves
                .iter()
                .zip(leaf_needs)
                .map(|(leaf, n)| {
                    let usable = !n.any.is_empty() && n.any.iter().all(|&p| scanned[p as usize]);
                    let gate = match n.any.as_slice() {
                        _ if !usable => Gate::None,
                        [one] => Gate::One(*one),
                        many => Gate::Any(many.into()),
                    };
                    let fast = match gate {
                        Gate::One(p) if n.decides => Some(p),
                        _ => None,
                    };
                    let finder = match &leaf.test {
                        Test::Str { pat: Pattern::Lit { text, anchor: Anchor::Contains }, cased: false }
                            if fast.is_none() && !text.is_empty() =>
                        {
                            Some(Box::new(memchr::memmem::Finder::new(text.as_bytes()).into_owned()))
                        }
                        _ => None,
                    };
                    let pre = match &leaf.test {
                        Test::Regex { pre, .. } => {
                            pre.iter().map(|p| memchr::memmem::Finder::new(p.as_bytes()).into_owned()).collect()
                        }
                        _ => Box::default(),
                    };
                    CLeaf { gate, fast, finder, pre }
                })
                .collect::<Vec<_>>();
            CRule { id: *id, expr: Node::of(&r.expr, &leaves, &r.leaves), src: r.leaves.clone(), leaves }
        })
        .collect();
    let mut probe_start = Vec::with_capacity(n_probes + 1);
    let mut probe_rules = Vec::new();
    for list in by_probe {
        probe_start.push(probe_rules.len() as u32);
        probe_rules.extend(list);
    }
    probe_start.push(probe_rules.len() as u32);
    CatIndex {
        rules,
        fields: field_scans(&b.probes, &scanned),
        probe_start,
        probe_rules,
        always,
        n_probes,
        n_scanned: scanned.iter().filter(|&&s| s).count(),
    }
}

fn field_scans(probes: &[Probe], scanned: &[bool]) -> Vec<FieldScan> {
    let mut fields: Vec<Field> =
        probes.iter().zip(scanned).filter(|(_, s)| **s).map(|(p, _)| p.field).collect::<Vec<_>>();
    fields.sort_unstable();
    fields.dedup();
    fields
        .into_iter()
        .map(|f| {
            let (mut starts, mut ends) = (TrieBuilder::default(), TrieBuilder::default());
            let mut contains: Vec<(&str, u32)> = Vec::new();
            for (id, p) in probes.iter().enumerate() {
                if p.field != f || !scanned[id] {
                    continue;
                }
                let id = id as u32;
                match p.kind {
                    Kind::Prefix => starts.add(&p.text, id, false),
                    Kind::Exact => starts.add(&p.text, id, true),
                    Kind::Suffix => ends.add(&p.text, id, false),
                    Kind::Contains => contains.push((&p.text, id)),
                }
            }
            FieldScan { field: f, starts: starts.build(false), ends: ends.build(true), grams: Grams::build(&contains) }
        })
        .collect()
}
