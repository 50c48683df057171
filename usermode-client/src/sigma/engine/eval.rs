//! Per-event evaluation with reusable scratch space.

use super::super::ir::{Expr, FieldName, Test};
use super::super::modifiers::NumOp;
use super::super::pattern::lower_into;
use super::super::ruleset::RuleId;
use super::index::{ANY, CLeaf, CRule, CatIndex, END, EXACT, FieldScan, Gate, START};
use crate::event::{Event, Field, Value, itoa_buf};

/// Buffers reused from event to event.
#[derive(Debug)]
pub(super) struct Scratch {
    /// Per needle: seen flags for the current event (0 = not seen).
    flags: Vec<u8>,
    touched: Vec<u32>,
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
        let needles = cats.iter().map(|c| c.n_needles).max().unwrap_or(0);
        let rules = cats.iter().map(|c| c.rules.len()).max().unwrap_or(0);
        Scratch {
            flags: vec![0; needles],
            touched: Vec::new(),
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
            self.cand_stamp.fill(0);
            self.lowered_stamp.fill(0);
            self.stamp = 1;
        }
    }

    pub fn run(&mut self, cat: &CatIndex, event: &Event, out: &mut Vec<RuleId>) {
        self.next_stamp();
        for fs in &cat.fields {
            self.scan(fs, event);
        }
        self.cands.clear();
        for &n in &self.touched {
            let (a, b) = (cat.needle_start[n as usize] as usize, cat.needle_start[n as usize + 1] as usize);
            for &r in &cat.needle_rules[a..b] {
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
        for &n in &self.touched {
            self.flags[n as usize] = 0;
        }
        self.touched.clear();
    }

    fn scan(&mut self, fs: &FieldScan, event: &Event) {
        let Some(v) = event.get(fs.field) else { return };
        let f = fs.field as usize;
        let text = v.as_str(&mut self.num);
        lower_into(text, &mut self.lowered[f]);
        self.lowered_stamp[f] = self.stamp;
        let hay = self.lowered[f].as_str();
        let len = hay.len();
        let mut mark = |id: u32, start: usize, end: usize| {
            let mut fl = ANY;
            if start == 0 {
                fl |= START;
            }
            if end == len {
                fl |= END;
            }
            if start == 0 && end == len {
                fl |= EXACT;
            }
            let slot = &mut self.flags[id as usize];
            if *slot == 0 {
                self.touched.push(id);
            }
            *slot |= fl;
        };
        match &fs.ac {
            Some(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    mark(fs.ids[m.pattern().as_usize()], m.start(), m.end());
                }
            }
            None => {
                for (i, needle) in fs.fallback.iter().enumerate() {
                    for start in memchr::memmem::find_iter(hay.as_bytes(), needle.as_bytes()) {
                        mark(fs.ids[i], start, start + needle.len());
                    }
                }
            }
        }
    }

    fn expr(&mut self, e: &Expr, rule: &CRule, event: &Event) -> bool {
        match e {
            Expr::Leaf(i) => rule.leaves.get(*i as usize).is_some_and(|l| self.leaf(l, event)),
            Expr::And(xs) => xs.iter().all(|x| self.expr(x, rule, event)),
            Expr::Or(xs) => xs.iter().any(|x| self.expr(x, rule, event)),
            Expr::Not(x) => !self.expr(x, rule, event),
            Expr::Const(b) => *b,
        }
    }

    fn gate_open(&self, g: &Gate) -> bool {
        match g {
            Gate::None => true,
            Gate::One(n) => self.flags[*n as usize] != 0,
            Gate::Any(ns) => ns.iter().any(|&n| self.flags[n as usize] != 0),
        }
    }

    fn leaf(&mut self, cl: &CLeaf, event: &Event) -> bool {
        if let Some((n, bit)) = cl.fast {
            return self.flags[n as usize] & bit != 0;
        }
        if !self.gate_open(&cl.gate) {
            return false;
        }
        let leaf = &cl.leaf;
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
                pat.matches(lowered)
            }
            Test::Regex { re, .. } => value.is_some_and(|v| re.is_match(v.as_str(&mut self.num))),
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

    /// The lowercased text of a field value: from the scan when the field
    /// was scanned for this event, else computed into `tmp`.
    fn lowered_of(&mut self, field: &FieldName, v: Value<'_>) -> &str {
        if let FieldName::Known(f) = field {
            let i = *f as usize;
            if self.lowered_stamp[i] == self.stamp {
                return &self.lowered[i];
            }
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
