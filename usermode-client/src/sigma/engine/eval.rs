//! Per-event evaluation with reusable scratch space.

use super::super::ir::{FieldName, Leaf, Test};
use super::super::modifiers::NumOp;
use super::super::pattern::lower_into;
use super::super::ruleset::RuleId;
use super::index::{CLeaf, CRule, CatIndex, Gate, Node};
use super::memo::{self, Memo};
use crate::event::{Event, Field, Value, itoa_buf};

/// Buffers reused from event to event.
#[derive(Debug)]
pub(super) struct Scratch {
    /// Per probe: `stamp` when it hit in the current event.
    hit: Vec<u32>,
    touched: Vec<u32>,
    /// Hits of the field being scanned (for the memo).
    field_hits: Vec<u32>,
    memo: Memo,
    /// Per category: its first memo slot (one slot per scanned field).
    memo_base: Vec<usize>,
    /// Per rule of the current category: `stamp` when already a candidate.
    cand_stamp: Vec<u32>,
    stamp: u32,
    cands: Vec<u32>,
    /// Lowercased text of each known field, valid when `lowered_stamp` is `stamp`.
    lowered: Vec<String>,
    lowered_stamp: Vec<u32>,
    tmp: String,
    tmp2: String,
    num: itoa_buf::Buffer,
    num2: itoa_buf::Buffer,
}

impl Scratch {
    pub fn new(cats: &[CatIndex]) -> Scratch {
        let probes = cats.iter().map(|c| c.n_probes).max().unwrap_or(0);
        let rules = cats.iter().map(|c| c.rules.len()).max().unwrap_or(0);
        let mut memo_base = Vec::with_capacity(cats.len());
        let mut slots = 0;
        for c in cats {
            memo_base.push(slots);
            slots += c.fields.len();
        }
        Scratch {
            hit: vec![0; probes],
            touched: Vec::new(),
            field_hits: Vec::new(),
            memo: Memo::new(slots),
            memo_base,
            cand_stamp: vec![0; rules],
            stamp: 0,
            cands: Vec::new(),
            lowered: vec![String::new(); Field::COUNT],
            lowered_stamp: vec![0; Field::COUNT],
            tmp: String::new(),
            tmp2: String::new(),
            num: itoa_buf::Buffer::new(),
            num2: itoa_buf::Buffer::new(),
        }
    }

    fn next_stamp(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.hit.fill(0);
            self.cand_stamp.fill(0);
            self.lowered_stamp.fill(0);
            self.stamp = 1;
        }
    }

    pub fn run(&mut self, ci: usize, cat: &CatIndex, event: &Event, out: &mut Vec<RuleId>) {
        self.next_stamp();
        self.touched.clear();
        let base = self.memo_base.get(ci).copied().unwrap_or(0);
        for (k, fs) in cat.fields.iter().enumerate() {
            let Some(v) = event.get(fs.field) else { continue };
            let f = fs.field as usize;
            let text = v.as_str(&mut self.num);
            let (hit, touched, stamp) = (&mut self.hit, &mut self.touched, self.stamp);
            let mut mark = |p: u32| {
                if let Some(h) = hit.get_mut(p as usize)
                    && *h != stamp
                {
                    *h = stamp;
                    touched.push(p);
                }
            };
            let remember = text.len() <= memo::MAX_LEN;
            let h = if remember { memo::hash(text.as_bytes()) } else { 0 };
            if remember && let Some(hits) = self.memo.get(base + k, h, text.as_bytes()) {
                hits.iter().for_each(|&p| mark(p));
                continue;
            }
            // ASCII text is scanned as is (the scanners fold ASCII case);
            // other text is lowercased first, as the matcher compares it.
            let hay = if text.is_ascii() {
                text.as_bytes()
            } else {
                lower_into(text, &mut self.lowered[f]);
                self.lowered_stamp[f] = self.stamp;
                self.lowered[f].as_bytes()
            };
            let field_hits = &mut self.field_hits;
            field_hits.clear();
            let mut note = |p: u32| {
                field_hits.push(p);
                mark(p);
            };
            fs.starts.walk(hay, &mut note);
            fs.ends.walk(hay, &mut note);
            fs.grams.scan(hay, &mut note);
            if remember {
                field_hits.sort_unstable();
                field_hits.dedup();
                self.memo.put(base + k, h, text.as_bytes(), field_hits);
            }
        }
        self.cands.clear();
        for &p in &self.touched {
            let (a, b) = (cat.probe_start[p as usize] as usize, cat.probe_start[p as usize + 1] as usize);
            for &r in &cat.probe_rules[a..b] {
                let s = &mut self.cand_stamp[r as usize];
                if *s != self.stamp {
                    *s = self.stamp;
                    self.cands.push(r);
                }
            }
        }
        for &r in &cat.always {
            let s = &mut self.cand_stamp[r as usize];
            if *s != self.stamp {
                *s = self.stamp;
                self.cands.push(r);
            }
        }
        let cands = std::mem::take(&mut self.cands);
        for &r in &cands {
            let rule = &cat.rules[r as usize];
            if self.expr(&rule.expr, rule, event) {
                out.push(rule.id);
            }
        }
        self.cands = cands;
    }

    fn expr(&mut self, n: &Node, rule: &CRule, event: &Event) -> bool {
        match n {
            Node::Hit(p) => self.was_hit(*p),
            Node::AnyHit(ps) => ps.iter().any(|&p| self.was_hit(p)),
            Node::Leaf(i) => {
                let i = *i as usize;
                match (rule.src.get(i), rule.leaves.get(i)) {
                    (Some(leaf), Some(cl)) => self.leaf(leaf, cl, event),
                    _ => false,
                }
            }
            Node::And(xs) => xs.iter().all(|x| self.expr(x, rule, event)),
            Node::Or(xs) => xs.iter().any(|x| self.expr(x, rule, event)),
            Node::Not(x) => !self.expr(x, rule, event),
            Node::Const(b) => *b,
        }
    }

    fn was_hit(&self, p: u32) -> bool {
        self.hit.get(p as usize) == Some(&self.stamp)
    }

    fn gate_open(&self, g: &Gate) -> bool {
        match g {
            Gate::None => true,
            Gate::One(p) => self.was_hit(*p),
            Gate::Any(ps) => ps.iter().any(|&p| self.was_hit(p)),
        }
    }

    fn leaf(&mut self, leaf: &Leaf, cl: &CLeaf, event: &Event) -> bool {
        if let Some(p) = cl.fast {
            return self.was_hit(p);
        }
        if !self.gate_open(&cl.gate) {
            return false;
        }
        let Some(field) = &leaf.field else { return self.keywords(&leaf.test, event) };
        let value = match field {
            FieldName::Known(f) => event.get(*f),
            FieldName::Other(name) => event.get_named(name),
        };
        match &leaf.test {
            Test::Null => value.is_none(),
            Test::Exists(b) => value.is_some() == *b,
            Test::Str { pat, cased } => {
                let Some(v) = value else { return false };
                if *cased {
                    return pat.matches(v.as_str(&mut self.num));
                }
                let lowered = self.lowered_of(field, v);
                match &cl.finder {
                    Some(f) => f.find(lowered.as_bytes()).is_some(),
                    None => pat.matches(lowered),
                }
            }
            Test::Regex { re, .. } => {
                let Some(v) = value else { return false };
                if !cl.pre.is_empty() {
                    let low = self.lowered_of(field, v).as_bytes();
                    if !cl.pre.iter().any(|f| f.find(low).is_some()) {
                        return false;
                    }
                }
                re.is_match(v.as_str(&mut self.num))
            }
            Test::NumEq(n) => value.and_then(number).is_some_and(|x| x == *n),
            Test::NumCmp(op, n) => value.and_then(number).is_some_and(|x| match op {
                NumOp::Lt => x < *n,
                NumOp::Lte => x <= *n,
                NumOp::Gt => x > *n,
                NumOp::Gte => x >= *n,
            }),
            Test::Bool(b) => match value {
                Some(Value::Str(s)) => {
                    lower_into(s, &mut self.tmp);
                    match self.tmp.as_str() {
                        "true" | "1" | "yes" => *b,
                        "false" | "0" | "no" => !*b,
                        _ => false,
                    }
                }
                _ => false,
            },
            Test::Cidr(net) => matches!(value, Some(Value::Str(s)) if net.contains(s)),
            Test::FieldRef { other, anchor, cased } => {
                let Some(v) = value else { return false };
                let o = match other {
                    FieldName::Known(f) => event.get(*f),
                    FieldName::Other(name) => event.get_named(name),
                };
                let Some(o) = o else { return false };
                let (a, b) = (v.as_str(&mut self.num), o.as_str(&mut self.num2));
                if *cased {
                    anchor.test(a, b)
                } else {
                    lower_into(a, &mut self.tmp);
                    lower_into(b, &mut self.tmp2);
                    anchor.test(&self.tmp, &self.tmp2)
                }
            }
        }
    }

    /// The lowercased text of a field value, computed once per event and
    /// known field.
    fn lowered_of(&mut self, field: &FieldName, v: Value<'_>) -> &str {
        if let FieldName::Known(f) = field {
            let i = *f as usize;
            if self.lowered_stamp[i] != self.stamp {
                lower_into(v.as_str(&mut self.num), &mut self.lowered[i]);
                self.lowered_stamp[i] = self.stamp;
            }
            return &self.lowered[i];
        }
        lower_into(v.as_str(&mut self.num), &mut self.tmp);
        &self.tmp
    }

    /// A fieldless (keyword) test: true if any field's text matches.
    fn keywords(&mut self, test: &Test, event: &Event) -> bool {
        let Test::Str { pat, .. } = test else { return false };
        for (_, v) in event.fields() {
            lower_into(v.as_str(&mut self.num), &mut self.tmp);
            if pat.matches(&self.tmp) {
                return true;
            }
        }
        false
    }
}

fn number(v: Value<'_>) -> Option<f64> {
    match v {
        Value::Int(i) => Some(i as f64),
        Value::Str(s) => s.parse().ok(),
    }
}
