//! Required literals of a regex: a set of lowercased strings of which at
//! least one occurs in every text the regex matches. The engine uses them
//! as prefilter needles so a regex runs only when one of them was seen.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Literals shorter than this are not worth a needle.
const MIN_LEN: usize = 2;

/// The required-literal set of `pattern`, or empty if none was found.
pub(crate) fn required(pattern: &str) -> Vec<String> {
    required_min(pattern, MIN_LEN)
}

/// [`required`] with members of at least `min` characters.
pub(crate) fn required_min(pattern: &str, min: usize) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Vec::new();
    };
    match req(&hir) {
        Some(set) if set.iter().all(|s| s.chars().count() >= min) => set,
        _ => Vec::new(),
    }
}

/// Quality of a set: its weakest member's length (longer is rarer).
fn score(set: &[String]) -> usize {
    set.iter().map(String::len).min().unwrap_or(0)
}

/// The exact text `h` matches when it matches exactly one (lowercased) string.
fn exact(h: &Hir) -> Option<String> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(String::new()),
        HirKind::Literal(l) => std::str::from_utf8(&l.0).ok().filter(|t| t.is_ascii()).map(super::pattern::lower),
        HirKind::Class(c) => single_char(c).map(String::from),
        HirKind::Capture(c) => exact(&c.sub),
        HirKind::Concat(xs) => xs.iter().map(exact).collect(),
        HirKind::Repetition(r) if r.min == 1 && r.max == Some(1) => exact(&r.sub),
        _ => None,
    }
}

/// A class whose every member lowercases to one character (e.g. `[Aa]`).
fn single_char(c: &Class) -> Option<char> {
    let mut found: Option<char> = None;
    let mut check = |ch: char| -> bool {
        let mut low = ch.to_lowercase();
        let (Some(l), None) = (low.next(), low.next()) else { return false };
        match found {
            None => {
                found = Some(l);
                true
            }
            Some(f) => f == l,
        }
    };
    match c {
        Class::Unicode(u) => {
            for r in u.ranges() {
                if u32::from(r.end()) - u32::from(r.start()) > 4 {
                    return None;
                }
                for ch in r.start()..=r.end() {
                    if !check(ch) {
                        return None;
                    }
                }
            }
        }
        Class::Bytes(b) => {
            for r in b.ranges() {
                if r.end() - r.start() > 4 || r.end() > 0x7f {
                    return None;
                }
                for byte in r.start()..=r.end() {
                    if !check(char::from(byte)) {
                        return None;
                    }
                }
            }
        }
    }
    found.filter(char::is_ascii)
}

fn req(h: &Hir) -> Option<Vec<String>> {
    if let Some(e) = exact(h) {
        return (!e.is_empty()).then(|| vec![e]);
    }
    match h.kind() {
        HirKind::Capture(c) => req(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => req(&r.sub),
        HirKind::Alternation(xs) => {
            let mut all = Vec::new();
            for x in xs {
                all.extend(req(x)?);
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        HirKind::Concat(xs) => {
            let mut best: Option<Vec<String>> = None;
            let mut consider = |cand: Vec<String>| {
                if best.as_ref().is_none_or(|b| score(&cand) > score(b)) {
                    best = Some(cand);
                }
            };
            let mut run = String::new();
            for x in xs {
                match exact(x) {
                    Some(e) => run.push_str(&e),
                    None => {
                        if !run.is_empty() {
                            consider(vec![std::mem::take(&mut run)]);
                        }
                        if let Some(set) = req(x) {
                            consider(set);
                        }
                    }
                }
            }
            if !run.is_empty() {
                consider(vec![run]);
            }
            best
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::required;

    #[test]
    fn literals_found() {
        assert_eq!(required(r"\s-c\s"), vec!["-c"]);
        assert_eq!(required(r"(?i)\$\{`?e`?n"), vec!["${"]);
        // `s` under (?i) also matches U+017F, which does not lowercase to `s`.
        assert_eq!(required(r"(?i)net\s+user\s+"), vec!["net"]);
        assert_eq!(required(r"[Rr][Uu][Nn][Dd][Ll][Ll]32(?:\.[Ee][Xx][Ee])? \S+?\w:\S+?:"), vec!["rundll32"]);
        assert_eq!(required(r"(foo|barbaz)x"), vec!["barbaz", "foo"]);
        assert_eq!(required(r"a*"), Vec::<String>::new());
        assert_eq!(required(r"(?i)AbC"), vec!["abc"]);
        assert_eq!(required(r"\w+`(?:\w+|-|.)`[\w+|\s]"), Vec::<String>::new());
        assert_eq!(super::required_min(r"\w+`(?:\w+|-|.)`[\w+|\s]", 1), vec!["`"]);
    }
}
