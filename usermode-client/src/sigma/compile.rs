//! Detection section to [`Compiled`]: selections to leaves, the condition
//! to an expression over them.

use super::condition::{self, Cond};
use super::error::{CResult, Located};
use super::ir::{Cidr, Expr, FieldName, Leaf, Test};
use super::modifiers::{self, Modifiers, Position};
use super::pattern::{self, Anchor, Pattern, Tok};
use super::regex_lit;
use super::regex_trim;
use super::yaml::{Kind, Node};

/// Limits applied while compiling rules.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Approximate compiled size limit of one regex, in bytes
    /// (`regex::RegexBuilder::size_limit`). A larger regex rejects its rule.
    pub regex_size_limit: usize,
    /// Lazy-DFA cache limit of one regex, in bytes (`regex::RegexBuilder::dfa_size_limit`).
    pub regex_dfa_size_limit: usize,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self { regex_size_limit: 10 << 20, regex_dfa_size_limit: 2 << 20 }
    }
}

/// One rule's compiled detection.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub expr: Expr,
    /// Shared with the engines built from the rule set.
    pub leaves: std::sync::Arc<[Leaf]>,
}

/// Compiles a `detection:` mapping.
pub(crate) fn compile_detection(det: &Node, opts: &CompileOptions) -> CResult<Compiled> {
    let Kind::Map(entries) = &det.kind else {
        return Err(Located::new(det.line, "'detection' must be a mapping"));
    };
    let mut c = Compiler { opts, leaves: Vec::new() };
    let mut idents: Vec<(String, Expr)> = Vec::new();
    let mut conditions: Option<&Node> = None;
    for (k, v) in entries {
        let name = k.scalar_text().unwrap_or_default();
        match name.as_str() {
            "condition" => conditions = Some(v),
            "timeframe" => return Err(Located::new(k.line, "'timeframe' (aggregation over time) is not supported")),
            _ => {
                let e = c.selection(v)?;
                idents.push((name, e));
            }
        }
    }
    let Some(cond_node) = conditions else {
        return Err(Located::new(det.line, "detection has no 'condition'"));
    };
    let texts: Vec<(&str, u32)> = match &cond_node.kind {
        Kind::Str(s) => vec![(s.as_str(), cond_node.line)],
        Kind::Seq(items) => items
            .iter()
            .map(|n| match &n.kind {
                Kind::Str(s) => Ok((s.as_str(), n.line)),
                _ => Err(Located::new(n.line, "condition list items must be strings")),
            })
            .collect::<CResult<_>>()?,
        _ => return Err(Located::new(cond_node.line, "'condition' must be a string or a list of strings")),
    };
    if texts.is_empty() {
        return Err(Located::new(cond_node.line, "empty condition list"));
    }
    let mut alts = Vec::new();
    for (text, line) in texts {
        let cond = condition::parse(text).map_err(|r| Located::new(line, format!("condition: {r}")))?;
        alts.push(resolve(&cond, &idents).map_err(|r| Located::new(line, format!("condition: {r}")))?);
    }
    Ok(Compiled { expr: Expr::Or(alts).simplify(), leaves: c.leaves.into() })
}

fn resolve(cond: &Cond, idents: &[(String, Expr)]) -> Result<Expr, String> {
    Ok(match cond {
        Cond::And(a, b) => Expr::And(vec![resolve(a, idents)?, resolve(b, idents)?]),
        Cond::Or(a, b) => Expr::Or(vec![resolve(a, idents)?, resolve(b, idents)?]),
        Cond::Not(a) => Expr::Not(Box::new(resolve(a, idents)?)),
        Cond::Ident(name) => match idents.iter().find(|(n, _)| n == name) {
            Some((_, e)) => e.clone(),
            None => return Err(format!("unknown detection identifier '{name}'")),
        },
        Cond::Of { count, pattern } => {
            let chosen: Vec<Expr> = idents
                .iter()
                .filter(|(n, _)| if pattern == "them" { !n.starts_with('_') } else { ident_glob(pattern, n) })
                .map(|(_, e)| e.clone())
                .collect();
            if chosen.is_empty() {
                return Err(format!("'{pattern}' matches no detection identifier"));
            }
            match count {
                None => Expr::And(chosen),
                Some(1) => Expr::Or(chosen),
                Some(n) => at_least(*n as usize, chosen),
            }
        }
    })
}

/// `N of` for N > 1: an OR over every way to pick N (bounded).
fn at_least(n: usize, xs: Vec<Expr>) -> Expr {
    if n > xs.len() {
        return Expr::Const(false);
    }
    if n == xs.len() {
        return Expr::And(xs);
    }
    // C(len, n) terms; identifier lists are short in practice.
    let mut out = Vec::new();
    let mut pick = Vec::with_capacity(n);
    fn rec(xs: &[Expr], n: usize, start: usize, pick: &mut Vec<usize>, out: &mut Vec<Expr>) {
        if pick.len() == n {
            out.push(Expr::And(pick.iter().map(|&i| xs[i].clone()).collect()));
            return;
        }
        for i in start..xs.len() {
            if out.len() >= 4096 {
                return;
            }
            pick.push(i);
            rec(xs, n, i + 1, pick, out);
            pick.pop();
        }
    }
    rec(&xs, n, 0, &mut pick, &mut out);
    Expr::Or(out)
}

/// Identifier patterns use `*` only.
fn ident_glob(pattern: &str, name: &str) -> bool {
    let toks: Vec<Tok> = pattern
        .split('*')
        .enumerate()
        .flat_map(|(i, part)| {
            let star = (i > 0).then_some(Tok::Star);
            star.into_iter().chain((!part.is_empty()).then(|| Tok::Lit(part.to_owned())))
        })
        .collect();
    Pattern::from_toks(toks).matches(name)
}

struct Compiler<'o> {
    opts: &'o CompileOptions,
    leaves: Vec<Leaf>,
}

impl Compiler<'_> {
    fn leaf(&mut self, field: Option<FieldName>, test: Test) -> Expr {
        let id = u32::try_from(self.leaves.len()).unwrap_or(u32::MAX);
        self.leaves.push(Leaf { field, test });
        Expr::Leaf(id)
    }

    fn selection(&mut self, v: &Node) -> CResult<Expr> {
        match &v.kind {
            Kind::Map(items) => self.field_map(items),
            Kind::Seq(xs) if xs.is_empty() => Err(Located::new(v.line, "empty selection list")),
            Kind::Seq(xs) if xs.iter().all(|x| matches!(x.kind, Kind::Map(_))) => {
                let mut alts = Vec::new();
                for x in xs {
                    if let Kind::Map(items) = &x.kind {
                        alts.push(self.field_map(items)?);
                    }
                }
                Ok(Expr::Or(alts))
            }
            Kind::Seq(xs) => {
                let mut alts = Vec::new();
                for x in xs {
                    alts.push(self.keyword(x)?);
                }
                Ok(Expr::Or(alts))
            }
            Kind::Null => Err(Located::new(v.line, "selection is empty (null)")),
            _ => self.keyword(v),
        }
    }

    fn keyword(&mut self, x: &Node) -> CResult<Expr> {
        let Some(raw) = x.scalar_text().filter(|_| !matches!(x.kind, Kind::Null)) else {
            return Err(Located::new(x.line, "keyword lists must hold only scalar values"));
        };
        let pat = Pattern::from_toks(wrap(pattern::tokenize(&raw), Position::Contains)).lowered();
        Ok(self.leaf(None, Test::Str { pat, cased: false }))
    }

    fn field_map(&mut self, items: &[(Node, Node)]) -> CResult<Expr> {
        let mut all = Vec::with_capacity(items.len());
        for (k, v) in items {
            let key = k.scalar_text().unwrap_or_default();
            let mut parts = key.split('|');
            let field = parts.next().unwrap_or_default();
            if field.is_empty() {
                return Err(Located::new(k.line, format!("field name missing in '{key}'")));
            }
            let mods = Modifiers::parse(parts, k.line)?;
            let values: Vec<&Node> = match &v.kind {
                Kind::Seq(xs) => xs.iter().collect(),
                _ => vec![v],
            };
            if values.is_empty() {
                return Err(Located::new(v.line, format!("empty value list for '{key}'")));
            }
            let name = FieldName::parse(field);
            let mut exprs = Vec::with_capacity(values.len());
            for val in values {
                exprs.push(self.value(&name, &mods, val)?);
            }
            all.push(if mods.all { Expr::And(exprs) } else { Expr::Or(exprs) });
        }
        Ok(Expr::And(all))
    }

    fn value(&mut self, field: &FieldName, m: &Modifiers, v: &Node) -> CResult<Expr> {
        let f = Some(field.clone());
        let err = |r: String| Located::new(v.line, r);
        let string_mods = m.position != Position::Whole || m.windash || !m.encodings.is_empty() || m.cased;
        if matches!(v.kind, Kind::Seq(_) | Kind::Map(_)) {
            return Err(err("values must be scalars".into()));
        }
        if m.exists {
            return match v.kind {
                Kind::Bool(b) => Ok(self.leaf(f, Test::Exists(b))),
                _ => Err(err("'exists' needs true or false".into())),
            };
        }
        if matches!(v.kind, Kind::Null) {
            if string_mods || m.re.is_some() || m.cidr || m.fieldref || m.cmp.is_some() {
                return Err(err("null cannot be combined with modifiers".into()));
            }
            return Ok(self.leaf(f, Test::Null));
        }
        let text = v.scalar_text().unwrap_or_default();
        if m.fieldref {
            let anchor = match m.position {
                Position::Whole => Anchor::Exact,
                Position::Contains => Anchor::Contains,
                Position::StartsWith => Anchor::Prefix,
                Position::EndsWith => Anchor::Suffix,
            };
            return Ok(self.leaf(f, Test::FieldRef { other: FieldName::parse(&text), anchor, cased: m.cased }));
        }
        if let Some(op) = m.cmp {
            let n = number(v).ok_or_else(|| err(format!("'{text}' is not a number")))?;
            return Ok(self.leaf(f, Test::NumCmp(op, n)));
        }
        if m.cidr {
            let net = Cidr::parse(&text).ok_or_else(|| err(format!("'{text}' is not a CIDR network")))?;
            return Ok(self.leaf(f, Test::Cidr(net)));
        }
        if let Some(flags) = m.re {
            let mut prefix = String::new();
            for (on, c) in [(flags.i, 'i'), (flags.m, 'm'), (flags.s, 's')] {
                if on {
                    prefix.push(c);
                }
            }
            let full = if prefix.is_empty() { text.clone() } else { format!("(?{prefix}){text}") };
            let build = |p: &str| {
                regex::RegexBuilder::new(p)
                    .size_limit(self.opts.regex_size_limit)
                    .dfa_size_limit(self.opts.regex_dfa_size_limit)
                    .build()
            };
            let re = build(&full).map_err(|e| err(format!("invalid regex: {}", one_line(&e.to_string()))))?;
            // Only `is_match` is asked: a trimmed equivalent is cheaper to run.
            let re = regex_trim::for_is_match(&full).and_then(|t| build(&t).ok()).unwrap_or(re);
            let needles = regex_lit::required(&full);
            let pre = regex_lit::required_min(&full, 1);
            return Ok(self.leaf(f, Test::Regex { re, needles, pre }));
        }
        if !string_mods {
            match v.kind {
                Kind::Int(i) => return Ok(self.leaf(f, Test::NumEq(i as f64))),
                Kind::Float(x) => return Ok(self.leaf(f, Test::NumEq(x))),
                Kind::Bool(b) => return Ok(self.leaf(f, Test::Bool(b))),
                _ => {}
            }
        }
        let raws = if m.windash { modifiers::windash(&text, v.line)? } else { vec![text] };
        let mut alts = Vec::new();
        for raw in raws {
            let toks = pattern::tokenize(&raw);
            let variants: Vec<Vec<Tok>> = if m.encodings.is_empty() {
                vec![toks]
            } else {
                let plain = pattern::plain_text(&toks)
                    .ok_or_else(|| err("wildcards cannot be combined with encoding modifiers".into()))?;
                modifiers::encode(&plain, &m.encodings)
                    .into_iter()
                    .map(|b| {
                        let s = String::from_utf8_lossy(&b).into_owned();
                        if s.is_empty() { vec![] } else { vec![Tok::Lit(s)] }
                    })
                    .collect()
            };
            for t in variants {
                let pat = Pattern::from_toks(wrap(t, m.position));
                let pat = if m.cased { pat } else { pat.lowered() };
                alts.push(self.leaf(f.clone(), Test::Str { pat, cased: m.cased }));
            }
        }
        Ok(Expr::Or(alts))
    }
}

fn number(v: &Node) -> Option<f64> {
    match &v.kind {
        Kind::Int(i) => Some(*i as f64),
        Kind::Float(f) => Some(*f),
        Kind::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Adds the wildcards a position modifier implies.
fn wrap(mut toks: Vec<Tok>, pos: Position) -> Vec<Tok> {
    if matches!(pos, Position::Contains | Position::EndsWith) && toks.first() != Some(&Tok::Star) {
        toks.insert(0, Tok::Star);
    }
    if matches!(pos, Position::Contains | Position::StartsWith) && toks.last() != Some(&Tok::Star) {
        toks.push(Tok::Star);
    }
    toks
}
