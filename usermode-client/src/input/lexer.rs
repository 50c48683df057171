//! A small JSON lexer over one record's bytes: strings are unescaped into a
//! reused buffer (borrowed when they hold no escapes), so reading events
//! allocates nothing once warm.

/// A JSON syntax error at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub at: usize,
    pub reason: &'static str,
}

pub(super) type Res<T> = Result<T, SyntaxError>;

/// A scalar or the start of a container.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Scalar {
    /// A string; read it with [`Lexer::last_str`].
    Str,
    /// An integer that fits `i64`.
    Int(i64),
    /// Any other number; its text is `Lexer::last_num`.
    Num,
    Bool(bool),
    Null,
    ObjStart,
    ArrStart,
}

/// Nesting deeper than this is rejected (no unbounded recursion).
pub(super) const MAX_DEPTH: u32 = 128;

pub(super) struct Lexer<'a> {
    b: &'a [u8],
    /// The longest prefix of `b` known to be UTF-8 (validated once per
    /// buffer by the caller): strings inside it need no check of their own.
    text: &'a str,
    pub pos: usize,
    /// Unescaped text of the last string that had escapes.
    buf: String,
    /// Where the last string is: `Ok(range in input)` or `Err(())` for `buf`.
    last: Result<(usize, usize), ()>,
    num: (usize, usize),
    pub depth: u32,
}

impl<'a> Lexer<'a> {
    /// A lexer over `b`, of which `text` is a valid UTF-8 prefix (may be empty).
    pub fn new(b: &'a [u8], text: &'a str, buf: String) -> Self {
        // The same memory (a prefix view of `b`), checked in O(1).
        let is_prefix = std::ptr::eq(b.as_ptr(), text.as_ptr()) && text.len() <= b.len();
        let text = if is_prefix { text } else { "" };
        Lexer { b, text, pos: 0, buf, last: Ok((0, 0)), num: (0, 0), depth: 0 }
    }

    /// `b[a..z]` as text, if it is UTF-8.
    fn slice(&self, a: usize, z: usize) -> Option<&'a str> {
        if z <= self.text.len() { self.text.get(a..z) } else { std::str::from_utf8(self.b.get(a..z)?).ok() }
    }

    pub fn into_buf(self) -> String {
        self.buf
    }

    fn err<T>(&self, reason: &'static str) -> Res<T> {
        Err(SyntaxError { at: self.pos, reason })
    }

    pub fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.b.get(self.pos).copied()
    }

    pub fn expect(&mut self, c: u8, reason: &'static str) -> Res<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(reason)
        }
    }

    /// The text of the last string read, if it had no escapes (a slice of
    /// the input, so it outlives the lexer's next steps).
    pub fn last_borrowed(&self) -> Option<&'a str> {
        match self.last {
            Ok((a, b)) => self.slice(a, b),
            Err(()) => None,
        }
    }

    /// The text of the last string read.
    pub fn last_str(&self) -> &str {
        match self.last {
            // The range was checked to be valid UTF-8 when the string was read.
            Ok((a, b)) => self.slice(a, b).unwrap_or(""),
            Err(()) => &self.buf,
        }
    }

    /// The text of the last non-integer number read.
    pub fn last_num(&self) -> &str {
        self.slice(self.num.0, self.num.1).unwrap_or("")
    }

    /// Reads a value's first token: a scalar entirely, or just `{` / `[`.
    pub fn value(&mut self) -> Res<Scalar> {
        match self.peek() {
            Some(b'"') => {
                self.string()?;
                Ok(Scalar::Str)
            }
            Some(b'{') => {
                self.open()?;
                Ok(Scalar::ObjStart)
            }
            Some(b'[') => {
                self.open()?;
                Ok(Scalar::ArrStart)
            }
            Some(b't') => self.word(b"true", Scalar::Bool(true)),
            Some(b'f') => self.word(b"false", Scalar::Bool(false)),
            Some(b'n') => self.word(b"null", Scalar::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
            None => self.err("unexpected end of input"),
        }
    }

    fn open(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.pos += 1;
        Ok(())
    }

    fn word(&mut self, w: &[u8], s: Scalar) -> Res<Scalar> {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        if rest.starts_with(w) {
            self.pos += w.len();
            Ok(s)
        } else if w.starts_with(rest) {
            // Cut by the end of the input (a streamed buffer may go on).
            self.pos = self.b.len();
            self.err("unexpected end of input")
        } else {
            self.err("invalid literal")
        }
    }

    fn number(&mut self) -> Res<Scalar> {
        let start = self.pos;
        let mut p = self.pos;
        if self.b.get(p) == Some(&b'-') {
            p += 1;
        }
        let int_start = p;
        while self.b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        if p == int_start {
            self.pos = p;
            return self.err("invalid number");
        }
        let mut is_int = true;
        if self.b.get(p) == Some(&b'.') {
            is_int = false;
            p += 1;
            let f = p;
            while self.b.get(p).is_some_and(u8::is_ascii_digit) {
                p += 1;
            }
            if p == f {
                self.pos = p;
                return self.err("invalid number");
            }
        }
        if matches!(self.b.get(p), Some(b'e' | b'E')) {
            is_int = false;
            p += 1;
            if matches!(self.b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            let e = p;
            while self.b.get(p).is_some_and(u8::is_ascii_digit) {
                p += 1;
            }
            if p == e {
                self.pos = p;
                return self.err("invalid number");
            }
        }
        self.pos = p;
        self.num = (start, p);
        if is_int && let Some(i) = std::str::from_utf8(&self.b[start..p]).ok().and_then(|s| s.parse::<i64>().ok()) {
            return Ok(Scalar::Int(i));
        }
        Ok(Scalar::Num)
    }

    /// Reads a string (the opening quote is next).
    pub fn string(&mut self) -> Res<()> {
        let start = self.open_string()?;
        // Fast path: no escapes.
        let Some(at) = find_special(self.b, self.pos) else {
            self.pos = self.b.len();
            return self.err("unterminated string");
        };
        self.check_utf8(start, at)?;
        match self.b[at] {
            b'"' => {
                self.last = Ok((start, at));
                self.pos = at + 1;
                Ok(())
            }
            b'\\' => {
                let mut buf = std::mem::take(&mut self.buf);
                buf.clear();
                buf.push_str(self.slice(start, at).unwrap_or(""));
                self.pos = at;
                let res = self.unescape_into(&mut buf);
                self.buf = buf;
                self.last = Err(());
                res
            }
            _ => {
                self.pos = at;
                self.err("control character in string")
            }
        }
    }

    /// Reads a string (the opening quote is next) and appends its text to
    /// `out`: one copy, where [`Lexer::string`] then a copy of
    /// [`Lexer::last_str`] would make two for a string with escapes. On an
    /// error `out` may hold part of the string.
    pub fn string_into(&mut self, out: &mut String) -> Res<()> {
        let start = self.open_string()?;
        let Some(at) = find_special(self.b, self.pos) else {
            self.pos = self.b.len();
            return self.err("unterminated string");
        };
        self.check_utf8(start, at)?;
        out.push_str(self.slice(start, at).unwrap_or(""));
        match self.b[at] {
            b'"' => {
                self.pos = at + 1;
                Ok(())
            }
            b'\\' => {
                self.pos = at;
                self.unescape_into(out)
            }
            _ => {
                self.pos = at;
                self.err("control character in string")
            }
        }
    }

    /// Steps over a string's opening quote; gives the position after it.
    fn open_string(&mut self) -> Res<usize> {
        if self.peek() != Some(b'"') {
            return self.err("expected a string");
        }
        self.pos += 1;
        Ok(self.pos)
    }

    fn check_utf8(&self, a: usize, b: usize) -> Res<()> {
        if b <= self.text.len() {
            return Ok(());
        }
        match std::str::from_utf8(&self.b[a..b]) {
            Ok(_) => Ok(()),
            Err(e) => Err(SyntaxError { at: a + e.valid_up_to(), reason: "invalid UTF-8 in string" }),
        }
    }

    /// The rest of a string with escapes, appended to `out`; `pos` is at a
    /// backslash.
    fn unescape_into(&mut self, out: &mut String) -> Res<()> {
        loop {
            let seg = self.pos;
            let Some(at) = find_special(self.b, self.pos) else {
                self.pos = self.b.len();
                return self.err("unterminated string");
            };
            self.check_utf8(seg, at)?;
            out.push_str(self.slice(seg, at).unwrap_or(""));
            self.pos = at + 1;
            match self.b[at] {
                b'"' => return Ok(()),
                b'\\' => {}
                _ => {
                    self.pos = at;
                    return self.err("control character in string");
                }
            }
            let Some(&e) = self.b.get(self.pos) else { return self.err("unterminated string") };
            self.pos += 1;
            let c = match e {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode_escape()?,
                _ => return self.err("invalid escape"),
            };
            out.push(c);
        }
    }

    fn hex4(&mut self) -> Res<u32> {
        let Some(h) = self.b.get(self.pos..self.pos + 4) else {
            self.pos = self.b.len();
            return self.err("short \\u escape");
        };
        let s = std::str::from_utf8(h).ok().filter(|s| s.bytes().all(|c| c.is_ascii_hexdigit()));
        let Some(v) = s.and_then(|s| u32::from_str_radix(s, 16).ok()) else { return self.err("invalid \\u escape") };
        self.pos += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Res<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.b.get(self.pos..self.pos + 2) == Some(b"\\u") {
                let save = self.pos;
                self.pos += 2;
                let lo = self.hex4()?;
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
                }
                self.pos = save;
            }
            return Ok('\u{FFFD}');
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    /// Skips the rest of a container whose opening bracket was read.
    pub fn skip_container(&mut self, obj: bool) -> Res<()> {
        let close = if obj { b'}' } else { b']' };
        if self.peek() == Some(close) {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if obj {
                self.string()?;
                self.expect(b':', "expected ':'")?;
            }
            self.skip_value()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return self.err("expected ',' or closing bracket"),
            }
        }
    }

    /// Skips one whole value.
    pub fn skip_value(&mut self) -> Res<()> {
        match self.value()? {
            Scalar::ObjStart => self.skip_container(true),
            Scalar::ArrStart => self.skip_container(false),
            _ => Ok(()),
        }
    }

    /// After an object member: `Ok(true)` if another follows, `Ok(false)` at `}`.
    pub fn next_member(&mut self) -> Res<bool> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            _ => self.err("expected ',' or '}'"),
        }
    }

    /// At the start of an object body: `Ok(false)` for `{}`.
    pub fn first_member(&mut self) -> Res<bool> {
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(false);
        }
        Ok(true)
    }
}

/// The position of the next byte at or after `from` that ends a run of
/// plain string content: `"`, `\\` or a control character (invalid in
/// JSON strings). Checked eight bytes at a time with word operations:
/// keys and path segments are short, where `memchr`'s setup would cost
/// more than the search, and one pass finds all three kinds.
fn find_special(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let rest = b.get(from..)?;
    let mut words = rest.chunks_exact(8);
    let mut i = 0;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        // High bit set in each byte of `x` below `n` (exact for the lowest
        // such byte; bytes >= 0x80 never flag).
        let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
        let found = below(x ^ (ONES * u64::from(b'"')), 1) | below(x ^ (ONES * u64::from(b'\\')), 1) | below(x, 0x20);
        if found != 0 {
            return Some(from + i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    words.remainder().iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|k| from + i + k)
}

/// The end (exclusive) of the JSON value starting at `start`, found by
/// bracket and string tracking only; `None` if it never closes.
pub(super) fn value_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    match b.get(i)? {
        b'{' | b'[' => {}
        _ => {
            // A bare scalar: up to the next structural/whitespace byte.
            while let Some(&c) = b.get(i) {
                if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b'{' | b'[') {
                    break;
                }
                i += 1;
            }
            return Some(i.max(start + 1));
        }
    }
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                i += 1;
                loop {
                    match b.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_escapes() {
        let mut l = Lexer::new(br#""C:\\Windows\\x \u00e9\ud83d\ude00" "plain""#, "", String::new());
        assert_eq!(l.value(), Ok(Scalar::Str));
        assert_eq!(l.last_str(), "C:\\Windows\\x é😀");
        assert_eq!(l.value(), Ok(Scalar::Str));
        assert_eq!(l.last_str(), "plain");
    }

    #[test]
    fn known_utf8_prefix_gives_the_same_tokens() {
        let src = "\"a\\u00e9b\" \"é\" \"x\\ny\" 12.5 \"\u{7f}\"";
        for cut in 0..=src.len() {
            let Some(prefix) = src.get(..cut) else { continue };
            let prefix: &str = prefix;
            let mut with = Lexer::new(src.as_bytes(), prefix, String::new());
            let mut without = Lexer::new(src.as_bytes(), "", String::new());
            for _ in 0..5 {
                assert_eq!(with.value(), without.value());
                assert_eq!(with.last_str(), without.last_str());
                assert_eq!(with.last_num(), without.last_num());
            }
        }
        // A "prefix" that is not one is ignored.
        let mut l = Lexer::new(b"\"ab\"", "zz", String::new());
        assert_eq!((l.value(), l.last_str()), (Ok(Scalar::Str), "ab"));
    }

    #[test]
    fn find_special_finds_the_first_quote_backslash_or_control() {
        for len in 0..100 {
            for at in 0..len {
                for c in [b'"', b'\\', 0, b'\n', 0x1f] {
                    let mut v = vec![b'a'; len];
                    v[at] = c;
                    if at + 1 < len {
                        v[at + 1] = b'"';
                    }
                    for from in 0..=at {
                        assert_eq!(find_special(&v, from), Some(at), "len {len} at {at} from {from}");
                    }
                }
            }
            assert_eq!(find_special(&vec![0x80 | b'"'; len], 0), None);
            assert_eq!(find_special(&vec![b' '; len], 0), None);
            assert_eq!(find_special(&vec![0x7f; len], 0), None);
        }
    }

    #[test]
    fn control_characters_and_bad_utf8_in_strings_are_errors() {
        for (src, at, reason) in [
            (&b"\"ab\ncd\""[..], 3, "control character in string"),
            (b"\"a\\\\b\tc\"", 5, "control character in string"),
            (b"\"a\xFFb\"", 2, "invalid UTF-8 in string"),
            (b"\"a\\nb\xC3\"", 5, "invalid UTF-8 in string"),
        ] {
            let e = Lexer::new(src, "", String::new()).value().unwrap_err();
            assert_eq!((e.at, e.reason), (at, reason), "{:?}", String::from_utf8_lossy(src));
        }
    }

    #[test]
    fn numbers() {
        let mut l = Lexer::new(b"-12 3.5 1e3 99999999999999999999", "", String::new());
        assert_eq!(l.value(), Ok(Scalar::Int(-12)));
        assert_eq!(l.value(), Ok(Scalar::Num));
        assert_eq!(l.last_num(), "3.5");
        assert_eq!(l.value(), Ok(Scalar::Num));
        assert_eq!(l.value(), Ok(Scalar::Num));
        assert!(Lexer::new(b"-", "", String::new()).value().is_err());
    }

    #[test]
    fn value_end_tracks_strings() {
        let b = br#"{"a":"}{","b":[1,{"c":2}]} {"x":1}"#;
        let e = value_end(b, 0).unwrap();
        assert_eq!(&b[..e], br#"{"a":"}{","b":[1,{"c":2}]}"#);
        assert_eq!(value_end(b"{\"a\":1", 0), None);
        assert_eq!(value_end(b"{]", 0), Some(2));
    }
}
