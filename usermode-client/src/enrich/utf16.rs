//! UTF-16LE record strings to UTF-8, fast for the common all-ASCII case.

/// Appends the text of little-endian UTF-16 `bytes` to `out`, with U+FFFD
/// for unpaired surrogates (a trailing odd byte is ignored).
///
/// Record strings are nearly always ASCII paths and command lines, and this
/// conversion was the largest cost of mapping; so ASCII goes 16 units at a
/// time through SSE2 (x86_64), then unit by unit, and only from the first
/// non-ASCII unit on does `decode_utf16` run.
pub fn push_utf16(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() / 2);
    // ASCII collects here and goes to `out` in one validated copy.
    let mut buf = [0u8; 256];
    let mut n = 0;
    let flush = |out: &mut String, buf: &[u8]| {
        // Only ASCII bytes are ever staged, so this cannot fail.
        if let Ok(text) = std::str::from_utf8(buf) {
            out.push_str(text);
        }
    };
    let mut rest = bytes;
    #[cfg(target_arch = "x86_64")]
    while let Some((chunk, tail)) = rest.split_first_chunk::<32>() {
        // SAFETY: `ascii16` only needs SSE2, which every x86_64 CPU has (it
        // is part of the target's baseline).
        let Some(ascii) = (unsafe { sse2::ascii16(chunk) }) else { break };
        if n + ascii.len() > buf.len() {
            flush(out, &buf[..n]);
            n = 0;
        }
        buf[n..n + ascii.len()].copy_from_slice(&ascii);
        n += ascii.len();
        rest = tail;
    }
    while let [lo, 0, tail @ ..] = rest
        && *lo < 0x80
    {
        if n == buf.len() {
            flush(out, &buf);
            n = 0;
        }
        buf[n] = *lo;
        n += 1;
        rest = tail;
    }
    flush(out, &buf[..n]);
    if rest.len() < 2 {
        return;
    }
    let units = rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    out.extend(char::decode_utf16(units).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)));
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_cmpeq_epi16, _mm_cvtsi128_si64, _mm_movemask_epi8, _mm_or_si128, _mm_packus_epi16,
        _mm_set_epi64x, _mm_set1_epi16, _mm_setzero_si128, _mm_unpackhi_epi64,
    };

    /// The 16 UTF-16LE units of `src` as bytes, if all are ASCII.
    #[target_feature(enable = "sse2")]
    pub(super) fn ascii16(src: &[u8; 32]) -> Option<[u8; 16]> {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&src[i..i + 8]);
            i64::from_le_bytes(w)
        };
        let a = _mm_set_epi64x(word(8), word(0));
        let b = _mm_set_epi64x(word(24), word(16));
        // Any unit with a bit at 0x80 or above is not ASCII.
        let high = _mm_and_si128(_mm_or_si128(a, b), _mm_set1_epi16(0xFF80_u16 as i16));
        if _mm_movemask_epi8(_mm_cmpeq_epi16(high, _mm_setzero_si128())) != 0xFFFF {
            return None;
        }
        let packed = _mm_packus_epi16(a, b);
        let lo = _mm_cvtsi128_si64(packed) as u64;
        let hi = _mm_cvtsi128_si64(_mm_unpackhi_epi64(packed, packed)) as u64;
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&lo.to_le_bytes());
        out[8..].copy_from_slice(&hi.to_le_bytes());
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::push_utf16;

    fn le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn ascii_non_ascii_and_surrogates() {
        for s in [
            "",
            "a",
            r"C:\Windows\System32\cmd.exe",
            &"x".repeat(100),
            "Bücher/été",
            "日本語 and then ascii",
            "😀 emoji",
            &format!("{}é", "a".repeat(40)),
        ] {
            let mut out = String::from(">");
            push_utf16(&mut out, &le(s));
            assert_eq!(out, format!(">{s}"));
        }
        let mut out = String::new();
        push_utf16(&mut out, &[0x00, 0xD8, b'a', 0]);
        assert_eq!(out, "\u{FFFD}a");
        let mut out = String::new();
        push_utf16(&mut out, &[b'a', 0, b'b']);
        assert_eq!(out, "a");
    }
}
