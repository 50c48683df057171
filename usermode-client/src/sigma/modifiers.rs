//! Field modifiers (`Field|mod1|mod2`) and the value transformations they
//! imply: windash, base64, base64offset, wide/utf16.

use super::error::{CResult, Located};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// A numeric comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumOp {
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
}

/// A byte-level encoding applied to a value, in rule order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf16Le,
    Utf16Be,
    Utf16Bom,
    Base64,
    Base64Offset,
}

/// How a value's position is constrained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Position {
    #[default]
    Whole,
    Contains,
    StartsWith,
    EndsWith,
}

/// The parsed modifier chain of one field item.
#[derive(Clone, Debug, Default)]
pub(crate) struct Modifiers {
    pub position: Position,
    pub all: bool,
    pub cased: bool,
    pub windash: bool,
    pub encodings: Vec<Encoding>,
    /// `re` with its flags `i`, `m`, `s`.
    pub re: Option<ReFlags>,
    pub cidr: bool,
    pub exists: bool,
    pub fieldref: bool,
    pub cmp: Option<NumOp>,
}

/// Regex flags from `re|i`, `re|m`, `re|s`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReFlags {
    pub i: bool,
    pub m: bool,
    pub s: bool,
}

impl Modifiers {
    /// Parses the modifiers after the field name; `line` locates errors.
    pub fn parse<'a>(names: impl Iterator<Item = &'a str>, line: u32) -> CResult<Modifiers> {
        let mut m = Modifiers::default();
        let mut flags = ReFlags::default();
        let mut saw_flag = false;
        let err = |r: String| Located::new(line, r);
        for name in names {
            let set_pos = |m: &mut Modifiers, p: Position| {
                if m.position != Position::Whole && m.position != p {
                    return Err(err(format!("modifier '{name}' conflicts with an earlier position modifier")));
                }
                m.position = p;
                Ok(())
            };
            match name {
                "contains" => set_pos(&mut m, Position::Contains)?,
                "startswith" => set_pos(&mut m, Position::StartsWith)?,
                "endswith" => set_pos(&mut m, Position::EndsWith)?,
                "all" => m.all = true,
                "cased" => m.cased = true,
                "windash" => m.windash = true,
                "base64" => m.encodings.push(Encoding::Base64),
                "base64offset" => m.encodings.push(Encoding::Base64Offset),
                "wide" | "utf16le" => m.encodings.push(Encoding::Utf16Le),
                "utf16be" => m.encodings.push(Encoding::Utf16Be),
                "utf16" => m.encodings.push(Encoding::Utf16Bom),
                "re" => m.re = Some(ReFlags::default()),
                "i" => (flags.i, saw_flag) = (true, true),
                "m" => (flags.m, saw_flag) = (true, true),
                "s" => (flags.s, saw_flag) = (true, true),
                "cidr" => m.cidr = true,
                "exists" => m.exists = true,
                "fieldref" => m.fieldref = true,
                "lt" | "lte" | "gt" | "gte" => {
                    if m.cmp.is_some() {
                        return Err(err(format!("more than one comparison modifier ('{name}')")));
                    }
                    m.cmp = Some(match name {
                        "lt" => NumOp::Lt,
                        "lte" => NumOp::Lte,
                        "gt" => NumOp::Gt,
                        _ => NumOp::Gte,
                    });
                }
                "expand" => {
                    return Err(
                        err("modifier 'expand' needs placeholder values from a pipeline; not supported".into()),
                    );
                }
                "" => return Err(err("empty modifier name".into())),
                other => return Err(err(format!("unknown modifier '{other}'"))),
            }
        }
        if saw_flag {
            match m.re.as_mut() {
                Some(re) => *re = flags,
                None => return Err(err("regex flags i/m/s are only valid after 're'".into())),
            }
        }
        m.check(line)?;
        Ok(m)
    }

    fn check(&self, line: u32) -> CResult<()> {
        let string_mods = self.position != Position::Whole || self.windash || !self.encodings.is_empty();
        let special = [self.re.is_some(), self.cidr, self.exists, self.fieldref, self.cmp.is_some()];
        let bad = |r: &str| Err(Located::new(line, r.to_owned()));
        if special.iter().filter(|&&b| b).count() > 1 {
            return bad("conflicting modifiers: re, cidr, exists, fieldref and lt/lte/gt/gte exclude each other");
        }
        if (self.re.is_some() || self.cidr || self.exists || self.cmp.is_some()) && string_mods {
            return bad(
                "re, cidr, exists and comparison modifiers cannot be combined with contains/startswith/endswith/windash/encodings",
            );
        }
        if self.fieldref && (self.windash || !self.encodings.is_empty()) {
            return bad("fieldref cannot be combined with windash or encodings");
        }
        if self.cased && (self.cidr || self.exists || self.cmp.is_some() || self.re.is_some()) {
            return bad("cased applies to plain string matching only");
        }
        Ok(())
    }
}

/// Upper bound on windash variants of one value (5 per dash).
pub(crate) const MAX_WINDASH_VARIANTS: usize = 5usize.pow(6);

/// The characters a Windows flag dash may be written as.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Expands `-` and `/` at the start of a word (not preceded by a word
/// character, followed by one) into all five dash forms, like the reference
/// implementation pySigma does.
pub(crate) fn windash(raw: &str, line: u32) -> CResult<Vec<String>> {
    let chars: Vec<char> = raw.chars().collect();
    let spots: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            matches!(chars[i], '-' | '/')
                && (i == 0 || !is_word(chars[i - 1]))
                && chars.get(i + 1).is_some_and(|&c| is_word(c))
        })
        .collect();
    let total = DASHES.len().checked_pow(spots.len() as u32).filter(|&t| t <= MAX_WINDASH_VARIANTS);
    let Some(total) = total else {
        return Err(Located::new(line, format!("windash: too many dashes in '{raw}'")));
    };
    let mut out = Vec::with_capacity(total);
    let mut buf = chars.clone();
    for combo in 0..total {
        let mut k = combo;
        for &s in &spots {
            buf[s] = DASHES[k % DASHES.len()];
            k /= DASHES.len();
        }
        out.push(buf.iter().collect());
    }
    Ok(out)
}

/// Applies byte encodings in order; each step may multiply the variants
/// (`base64offset` yields three).
pub(crate) fn encode(plain: &str, encs: &[Encoding]) -> Vec<Vec<u8>> {
    let mut vals = vec![plain.as_bytes().to_vec()];
    for e in encs {
        vals = vals
            .into_iter()
            .flat_map(|v| match e {
                Encoding::Utf16Le => vec![utf16(&v, u16::to_le_bytes, false)],
                Encoding::Utf16Be => vec![utf16(&v, u16::to_be_bytes, false)],
                Encoding::Utf16Bom => vec![utf16(&v, u16::to_le_bytes, true)],
                Encoding::Base64 => vec![B64.encode(&v).into_bytes()],
                Encoding::Base64Offset => base64_offsets(&v),
            })
            .collect();
    }
    vals
}

fn utf16(bytes: &[u8], to: fn(u16) -> [u8; 2], bom: bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::with_capacity(bytes.len() * 2 + 2);
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in text.encode_utf16() {
        out.extend_from_slice(&to(u));
    }
    out
}

/// The three base64 forms of `v` as it may sit at any offset inside a
/// larger encoded blob, with the characters that depend on neighbours cut.
fn base64_offsets(v: &[u8]) -> Vec<Vec<u8>> {
    (0..3usize)
        .filter_map(|off| {
            let mut padded = vec![0u8; off];
            padded.extend_from_slice(v);
            let enc = B64.encode(&padded);
            let trimmed = enc.trim_end_matches('=');
            let start = (off * 4).div_ceil(3);
            // The last characters depend on what follows when the value does
            // not end on a 3-byte boundary.
            let end = match (off + v.len()) % 3 {
                0 => trimmed.len(),
                1 => trimmed.len().saturating_sub(1),
                _ => trimmed.len().saturating_sub(1),
            };
            (start < end).then(|| trimmed.as_bytes()[start..end].to_vec())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windash_word_start_only() {
        let v = windash(" -enc", 1).unwrap();
        assert_eq!(v.len(), 5);
        assert!(v.contains(&" /enc".to_string()) && v.contains(&" \u{2013}enc".to_string()));
        let s = windash(" /accepteula", 1).unwrap();
        assert!(s.contains(&" -accepteula".to_string()));
        assert_eq!(windash("start/b", 1).unwrap(), vec!["start/b".to_string()]);
        assert_eq!(windash("a-b", 1).unwrap(), vec!["a-b".to_string()]);
    }

    #[test]
    fn base64offset_known_values() {
        // pySigma's documented example: 'http' at the three alignments.
        let got: Vec<String> =
            encode("http", &[Encoding::Base64Offset]).into_iter().map(|b| String::from_utf8(b).unwrap()).collect();
        assert_eq!(got, vec!["aHR0c", "h0dH", "odHRw"]);
    }

    #[test]
    fn wide_then_base64() {
        let got = encode("ab", &[Encoding::Utf16Le, Encoding::Base64]);
        assert_eq!(got, vec![b"YQBiAA==".to_vec()]);
    }

    #[test]
    fn conflicts_are_errors() {
        assert!(Modifiers::parse(["re", "contains"].into_iter(), 3).is_err());
        assert!(Modifiers::parse(["i"].into_iter(), 3).is_err());
        assert!(Modifiers::parse(["bogus"].into_iter(), 3).unwrap_err().reason.contains("bogus"));
        assert!(Modifiers::parse(["contains", "windash"].into_iter(), 3).is_ok());
    }
}
