//! Sigma's `re` asks only *whether* a regex matches somewhere in a value.
//! For that question, whatever may match the empty string at either end of
//! the pattern can go, and a bounded repetition at either end needs only
//! its minimum: `-k\s\w{1,64}(?:\s?(?:-p|-s))?` matches exactly the
//! values `-k\s\w` matches. The trimmed regex is much smaller (a Unicode
//! `\w{1,64}` alone is thousands of NFA states), so the lazy DFA handles
//! it instead of giving up and falling back to slower engines.
//!
//! Exactness: an unanchored match of `A·B` where `B` can match the empty
//! string without assertions contains a match of `A`, and a match of `A`
//! extends to one of `A·B` by letting `B` match nothing; a match of
//! `A·x{m,n}` has a prefix matching `A·x{m}` and vice versa. Symmetrically
//! at the start. Assertions (`^`, `$`, `\b`) are never removed, and the
//! trimming stops at them.

use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};

/// A pattern with the same `is_match` answers as `pattern`, if trimming
/// changes anything (`None`: use `pattern` as it is).
pub(crate) fn for_is_match(pattern: &str) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    let trimmed = trim(&hir, End::Tail);
    let trimmed = trim(&trimmed, End::Head);
    (trimmed != hir).then(|| trimmed.to_string())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Head,
    Tail,
}

/// Matches the empty string anywhere, without conditions.
fn droppable(h: &Hir) -> bool {
    h.properties().minimum_len() == Some(0) && h.properties().look_set().is_empty()
}

fn trim(h: &Hir, end: End) -> Hir {
    match h.kind() {
        HirKind::Capture(Capture { sub, .. }) => trim(sub, end),
        HirKind::Concat(xs) => {
            let mut xs: Vec<Hir> = xs.clone();
            loop {
                let edge = match end {
                    End::Tail => xs.last(),
                    End::Head => xs.first(),
                };
                match edge {
                    Some(x) if droppable(x) => {
                        match end {
                            End::Tail => xs.pop(),
                            End::Head => Some(xs.remove(0)),
                        };
                    }
                    _ => break,
                }
            }
            let i = match end {
                End::Tail => xs.len().checked_sub(1),
                End::Head => (!xs.is_empty()).then_some(0),
            };
            if let Some(i) = i {
                xs[i] = trim(&xs[i], end);
            }
            Hir::concat(xs)
        }
        HirKind::Alternation(xs) => Hir::alternation(xs.iter().map(|x| trim(x, end)).collect()),
        HirKind::Repetition(r) if r.min >= 1 && r.max != Some(r.min) => {
            // The minimum count is all an unanchored match needs here.
            Hir::repetition(Repetition { min: r.min, max: Some(r.min), greedy: r.greedy, sub: r.sub.clone() })
        }
        _ if droppable(h) => Hir::empty(),
        _ => h.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::for_is_match;
    use regex::Regex;

    #[test]
    fn trims_optional_and_bounded_ends() {
        let t = for_is_match(r"-k\s\w{1,64}(?:\s?(?:-p|-s))?").unwrap();
        assert_eq!(Regex::new(&t).unwrap().as_str(), t);
        assert!(!t.contains("64") && !t.contains("-p") && !t.contains("-s"), "{t}");
        assert_eq!(for_is_match(r"abc"), None);
        assert_eq!(for_is_match(r"^a+$"), None, "assertions at both ends stop trimming");
    }

    #[test]
    fn same_answers_as_the_original() {
        let patterns = [
            r"-k\s\w{1,64}(?:\s?(?:-p|-s))?",
            r"\w+`(?:\w+|-|.)`[\w+|\s]",
            r"(?i)\$\{`?e`?n`?v`?:`?p`?a`?t`?h`?\}",
            r"(a|bc*)d{2,5}",
            r"x*(y{1,3}|z)w?\b",
            r"^a+b?",
            r"(?m)^\s*ab{2,}$",
            r"(?i)é{1,3}\d*",
            r"[a-c]{0,3}",
            r"",
        ];
        let values = [
            "-k netsvcs -p",
            "-k  x",
            "-kx",
            "a`b`c",
            "${e`nv:path}",
            "bcccdd",
            "ad",
            "xyyyw",
            "yw",
            "aab",
            "b",
            "x\n  abb\n",
            "Éé",
            "",
            "zzz",
        ];
        for p in patterns {
            let original = Regex::new(p).unwrap();
            let trimmed = Regex::new(&for_is_match(p).unwrap_or_else(|| p.to_owned())).unwrap();
            for v in values {
                assert_eq!(original.is_match(v), trimmed.is_match(v), "{p} on {v:?} (trimmed {trimmed})");
            }
        }
    }
}
