//! Sigma string values: wildcards `*` and `?`, `\` escapes, and the
//! compiled string patterns the matcher runs.
//!
//! Escapes follow the Sigma specification: `\*`, `\?` and `\\` stand for the
//! literal character; a backslash before anything else is a literal backslash.

/// One token of a parsed Sigma string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(String),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, including none.
    Star,
}

/// Parses a Sigma string value into tokens (adjacent literals merged,
/// repeated `*` collapsed).
pub(crate) fn tokenize(raw: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut lit = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.clone().next() {
                Some(n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    toks.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                if c == '?' {
                    toks.push(Tok::One);
                } else if toks.last() != Some(&Tok::Star) {
                    toks.push(Tok::Star);
                }
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        toks.push(Tok::Lit(lit));
    }
    toks
}

/// The plain text of a wildcard-free value; `None` if it has wildcards.
pub(crate) fn plain_text(toks: &[Tok]) -> Option<String> {
    let mut s = String::new();
    for t in toks {
        match t {
            Tok::Lit(l) => s.push_str(l),
            Tok::One | Tok::Star => return None,
        }
    }
    Some(s)
}

/// Where a literal must sit in the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The whole value.
    Exact,
    /// At the start.
    Prefix,
    /// At the end.
    Suffix,
    /// Anywhere.
    Contains,
}

impl Anchor {
    /// Whether `hay` holds `needle` at this anchor.
    pub(crate) fn test(self, hay: &str, needle: &str) -> bool {
        match self {
            Anchor::Exact => hay == needle,
            Anchor::Prefix => hay.starts_with(needle),
            Anchor::Suffix => hay.ends_with(needle),
            Anchor::Contains => memchr::memmem::find(hay.as_bytes(), needle.as_bytes()).is_some(),
        }
    }
}

/// A compiled string pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// A literal at an anchor (most Sigma values).
    Lit { text: String, anchor: Anchor },
    /// Anything else with wildcards.
    Glob(Glob),
}

impl Pattern {
    /// Builds a pattern from tokens.
    pub fn from_toks(toks: Vec<Tok>) -> Pattern {
        match toks.as_slice() {
            [] => Pattern::Lit { text: String::new(), anchor: Anchor::Exact },
            [Tok::Star] => Pattern::Lit { text: String::new(), anchor: Anchor::Contains },
            [Tok::Lit(l)] => Pattern::Lit { text: l.clone(), anchor: Anchor::Exact },
            [Tok::Lit(l), Tok::Star] => Pattern::Lit { text: l.clone(), anchor: Anchor::Prefix },
            [Tok::Star, Tok::Lit(l)] => Pattern::Lit { text: l.clone(), anchor: Anchor::Suffix },
            [Tok::Star, Tok::Lit(l), Tok::Star] => Pattern::Lit { text: l.clone(), anchor: Anchor::Contains },
            _ => Pattern::Glob(Glob::new(toks)),
        }
    }

    /// The same pattern with every literal lowercased (for case-insensitive use).
    pub fn lowered(self) -> Pattern {
        match self {
            Pattern::Lit { text, anchor } => Pattern::Lit { text: lower(&text), anchor },
            Pattern::Glob(g) => Pattern::Glob(g.lowered()),
        }
    }

    /// The longest literal the value must contain, if any.
    pub fn needle(&self) -> Option<&str> {
        match self {
            Pattern::Lit { text, .. } => Some(text.as_str()).filter(|t| !t.is_empty()),
            Pattern::Glob(g) => g.longest_literal(),
        }
    }

    /// Full match of `hay`.
    pub fn matches(&self, hay: &str) -> bool {
        match self {
            Pattern::Lit { text, anchor } => anchor.test(hay, text),
            Pattern::Glob(g) => g.matches(hay),
        }
    }
}

/// Lowercases like the matcher does for case-insensitive comparison: ASCII
/// fast path, full Unicode lowercasing otherwise.
pub(crate) fn lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    lower_into(s, &mut out);
    out
}

/// [`lower`] into a reused buffer.
pub(crate) fn lower_into(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else if s.contains('\u{3A3}') {
        // Capital sigma lowercases by context (final form); leave it to std.
        out.push_str(&s.to_lowercase());
    } else {
        // Same as `str::to_lowercase` for every other character, without
        // allocating: ASCII runs in bulk, other characters one by one.
        let mut rest = s;
        while !rest.is_empty() {
            let run = rest.bytes().position(|b| !b.is_ascii()).unwrap_or(rest.len());
            let (ascii, tail) = rest.split_at(run);
            let from = out.len();
            out.push_str(ascii);
            out[from..].make_ascii_lowercase();
            let mut chars = tail.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_lowercase());
            }
            rest = chars.as_str();
        }
    }
}

/// A wildcard pattern split at `*` into segments of literals and `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob {
    segs: Vec<Vec<SegTok>>,
    anchored_start: bool,
    anchored_end: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SegTok {
    Lit(String),
    One,
}

impl Glob {
    fn new(toks: Vec<Tok>) -> Glob {
        let anchored_start = toks.first() != Some(&Tok::Star);
        let anchored_end = toks.last() != Some(&Tok::Star);
        let mut segs = Vec::new();
        let mut cur = Vec::new();
        for t in toks {
            match t {
                Tok::Star => {
                    if !cur.is_empty() {
                        segs.push(std::mem::take(&mut cur));
                    }
                }
                Tok::Lit(l) => cur.push(SegTok::Lit(l)),
                Tok::One => cur.push(SegTok::One),
            }
        }
        if !cur.is_empty() {
            segs.push(cur);
        }
        Glob { segs, anchored_start, anchored_end }
    }

    fn lowered(self) -> Glob {
        let segs = self
            .segs
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|t| match t {
                        SegTok::Lit(l) => SegTok::Lit(lower(&l)),
                        SegTok::One => SegTok::One,
                    })
                    .collect()
            })
            .collect();
        Glob { segs, ..self }
    }

    fn longest_literal(&self) -> Option<&str> {
        self.segs
            .iter()
            .flatten()
            .filter_map(|t| match t {
                SegTok::Lit(l) => Some(l.as_str()),
                SegTok::One => None,
            })
            .max_by_key(|l| l.len())
    }

    /// Matches one segment at byte `pos`; returns the end.
    fn seg_at(seg: &[SegTok], hay: &str, mut pos: usize) -> Option<usize> {
        for t in seg {
            let rest = hay.get(pos..)?;
            match t {
                SegTok::Lit(l) => {
                    if !rest.starts_with(l.as_str()) {
                        return None;
                    }
                    pos += l.len();
                }
                SegTok::One => pos += rest.chars().next()?.len_utf8(),
            }
        }
        Some(pos)
    }

    fn matches(&self, hay: &str) -> bool {
        let n = self.segs.len();
        if n == 0 {
            return !(self.anchored_start && self.anchored_end) || hay.is_empty();
        }
        let mut pos = 0;
        let mut first = 0;
        if self.anchored_start {
            match Self::seg_at(&self.segs[0], hay, 0) {
                Some(e) => pos = e,
                None => return false,
            }
            first = 1;
            if n == 1 && self.anchored_end {
                return pos == hay.len();
            }
        }
        let last_anchored = self.anchored_end && first < n;
        let middle_end = if last_anchored { n - 1 } else { n };
        for seg in &self.segs[first..middle_end] {
            match Self::find_seg(seg, hay, pos, |_| true) {
                Some(e) => pos = e,
                None => return false,
            }
        }
        if last_anchored {
            let len = hay.len();
            return Self::find_seg(&self.segs[n - 1], hay, pos, |e| e == len).is_some();
        }
        true
    }

    /// The leftmost placement of `seg` at or after `from` whose end passes `ok`.
    fn find_seg(seg: &[SegTok], hay: &str, from: usize, ok: impl Fn(usize) -> bool) -> Option<usize> {
        let mut p = from;
        loop {
            if let Some(e) = Self::seg_at(seg, hay, p).filter(|&e| ok(e)) {
                return Some(e);
            }
            let c = hay.get(p..)?.chars().next()?;
            p += c.len_utf8();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(raw: &str) -> Pattern {
        Pattern::from_toks(tokenize(raw))
    }

    #[test]
    fn escapes_per_spec() {
        assert_eq!(tokenize(r"a\*b"), vec![Tok::Lit("a*b".into())]);
        assert_eq!(tokenize(r"a\\*"), vec![Tok::Lit(r"a\".into()), Tok::Star]);
        assert_eq!(tokenize(r"C:\Windows\"), vec![Tok::Lit(r"C:\Windows\".into())]);
        assert_eq!(tokenize(r"\\\\srv"), vec![Tok::Lit(r"\\srv".into())]);
        assert_eq!(tokenize("a**b"), vec![Tok::Lit("a".into()), Tok::Star, Tok::Lit("b".into())]);
    }

    #[test]
    fn simple_shapes_are_literals() {
        assert_eq!(pat("*x*"), Pattern::Lit { text: "x".into(), anchor: Anchor::Contains });
        assert_eq!(pat("x*"), Pattern::Lit { text: "x".into(), anchor: Anchor::Prefix });
        assert_eq!(pat("*x"), Pattern::Lit { text: "x".into(), anchor: Anchor::Suffix });
        assert_eq!(pat("x"), Pattern::Lit { text: "x".into(), anchor: Anchor::Exact });
    }

    #[test]
    fn lower_into_equals_std_lowercase() {
        let mut out = String::new();
        for s in ["ABC", "İstanbul", "ΣΑΣ ΟΔΟΣ", "\u{212A}elvin ß ẞ Ǆ", "", "x\u{10400}y", "JÜRGEN.Müller\\X", "ÉÉ"]
        {
            lower_into(s, &mut out);
            assert_eq!(out, s.to_lowercase(), "{s}");
        }
    }

    #[test]
    fn globs() {
        let g = pat(r"*\AppData\\*\x.exe");
        assert!(g.matches(r"C:\Users\a\AppData\Local\x.exe"));
        assert!(!g.matches(r"C:\Users\a\AppData\x.exe2"));
        assert_eq!(g.needle(), Some(r"\AppData\"));
        let q = pat("a?c");
        assert!(q.matches("abc") && q.matches("aéc") && !q.matches("ac") && !q.matches("abbc"));
        let s = pat("ab*ab");
        assert!(s.matches("abab") && s.matches("ab-ab") && !s.matches("aba"));
        assert!(pat("*").matches("") && pat("*").matches("x"));
        assert!(pat("").matches("") && !pat("").matches("x"));
        let m = pat("*a?b*c");
        assert!(m.matches("xxaxbyyc") && !m.matches("xxaxby"));
    }
}
