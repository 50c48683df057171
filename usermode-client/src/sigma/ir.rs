//! The compiled form of one rule: a boolean expression over leaves, each
//! leaf one test on one field. The engine indexes these; nothing here
//! depends on other rules.

use super::modifiers::NumOp;
use super::pattern::{Anchor, Pattern};
use crate::event::Field;
use std::fmt;

/// A field a rule reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldName {
    /// A field of the event model.
    Known(Field),
    /// Any other name (matched against extra fields of JSON/EVTX events).
    Other(Box<str>),
}

impl FieldName {
    pub(crate) fn parse(name: &str) -> FieldName {
        Field::from_name(name).map_or_else(|| FieldName::Other(name.into()), FieldName::Known)
    }

    /// The name as written in rules and events.
    pub fn as_str(&self) -> &str {
        match self {
            FieldName::Known(f) => f.name(),
            FieldName::Other(s) => s,
        }
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A boolean expression over leaf indices.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Leaf(u32),
    Const(bool),
}

impl Expr {
    /// Flattens nested and/or and folds constants.
    pub fn simplify(self) -> Expr {
        match self {
            Expr::And(xs) => Self::fold(xs, true),
            Expr::Or(xs) => Self::fold(xs, false),
            Expr::Not(x) => match x.simplify() {
                Expr::Const(b) => Expr::Const(!b),
                Expr::Not(inner) => *inner,
                other => Expr::Not(Box::new(other)),
            },
            other => other,
        }
    }

    fn fold(xs: Vec<Expr>, is_and: bool) -> Expr {
        let mut out = Vec::with_capacity(xs.len());
        for x in xs {
            match x.simplify() {
                Expr::Const(b) if b == is_and => {}
                Expr::Const(b) => return Expr::Const(b),
                Expr::And(inner) if is_and => out.extend(inner),
                Expr::Or(inner) if !is_and => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Expr::Const(is_and),
            1 => out.pop().unwrap_or(Expr::Const(is_and)),
            _ if is_and => Expr::And(out),
            _ => Expr::Or(out),
        }
    }
}

/// One test on one field (`None`: keyword search over every field).
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    pub field: Option<FieldName>,
    pub test: Test,
}

/// What a leaf checks.
#[derive(Clone, Debug)]
pub(crate) enum Test {
    /// A wildcard/literal string match; literals are lowercased unless `cased`.
    Str { pat: Pattern, cased: bool },
    /// A regex search over the original text; `needles` are lowercased
    /// literals of which at least one occurs (in the lowercased text)
    /// whenever the regex matches (empty: no such set was found); `pre` is
    /// such a set allowing single characters (cheap to check first, too
    /// common to scan for).
    Regex { re: regex::Regex, needles: Vec<String>, pre: Vec<String> },
    /// The field is absent (Sigma `null`).
    Null,
    /// `exists: true/false`.
    Exists(bool),
    /// A plain numeric value: numeric equality.
    NumEq(f64),
    /// `lt`/`lte`/`gt`/`gte`.
    NumCmp(NumOp, f64),
    /// A plain boolean value.
    Bool(bool),
    /// `fieldref`: compare with another field of the same event.
    FieldRef { other: FieldName, anchor: Anchor, cased: bool },
    /// `cidr`: the value is an IP address inside the network.
    Cidr(Cidr),
}

/// An IPv4 or IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: u128,
    prefix: u8,
    v4: bool,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let ip: std::net::IpAddr = a.trim().parse().ok()?;
        let (addr, max, v4) = match ip {
            std::net::IpAddr::V4(v) => (u128::from(u32::from(v)), 32u8, true),
            std::net::IpAddr::V6(v) => (u128::from(v), 128u8, false),
        };
        let prefix = if p.is_empty() { max } else { p.trim().parse::<u8>().ok().filter(|&n| n <= max)? };
        Some(Cidr { addr, prefix, v4 })
    }

    pub fn contains(&self, s: &str) -> bool {
        let Ok(ip) = s.trim().parse::<std::net::IpAddr>() else { return false };
        let (addr, width) = match ip {
            std::net::IpAddr::V4(v) if self.v4 => (u128::from(u32::from(v)), 32),
            std::net::IpAddr::V6(v) if !self.v4 => (u128::from(v), 128),
            _ => return false,
        };
        let shift = u32::from(width - self.prefix);
        let mask = |x: u128| x.checked_shr(shift).unwrap_or(0);
        mask(addr) == mask(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr() {
        let n = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3") && !n.contains("11.0.0.1") && !n.contains("::1") && !n.contains("x"));
        let z = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(z.contains("8.8.8.8"));
        let v6 = Cidr::parse("fe80::/10").unwrap();
        assert!(v6.contains("fe80::1") && !v6.contains("2001::1"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn simplify_folds() {
        let e = Expr::And(vec![Expr::Const(true), Expr::Or(vec![Expr::Leaf(1), Expr::Const(false)])]);
        assert_eq!(e.simplify(), Expr::Leaf(1));
        assert_eq!(Expr::Not(Box::new(Expr::Const(true))).simplify(), Expr::Const(false));
    }
}
