//! Finds which of many lowercased needles occur anywhere in a value,
//! comparing ASCII letters case-insensitively.
//!
//! Needles of 4 bytes or more are indexed by 4-byte grams (the ones fewest
//! other needles share, so common text rarely leads to a check). The scan
//! folds 4-byte windows of the value to lowercase with a few word
//! operations, tests a small bit filter (L1-resident), and only on a filter
//! hit looks the gram up and compares the needles indexed by it in place.
//! Needles are split by length into classes: a class with stride `s`
//! indexes `s` consecutive grams of each needle and tests only every `s`-th
//! window (any occurrence spans those `s` windows, one of them tested), so
//! long needles (hashes, paths) cost a fraction of a test per byte. The
//! stride stays well below what the length would allow, so that each
//! needle still has rare grams to choose from. Needles under 4 bytes go through an Aho-Corasick automaton of
//! their own (small, so a DFA). The cost is a few cycles per byte and
//! barely depends on the number of needles, unlike one automaton over
//! thousands of needles whose transitions miss the caches on every byte.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;

const Q: usize = 4;

/// A compiled needle set (see the module docs).
#[derive(Clone, Debug, Default)]
pub(super) struct Grams {
    classes: Vec<Class>,
    /// Needle bytes, concatenated.
    text: Vec<u8>,
    /// Needles shorter than a gram.
    short: Option<AhoCorasick>,
    short_ids: Vec<u32>,
}

/// Needles of one length class, tested every `stride` windows.
#[derive(Clone, Debug, Default)]
struct Class {
    stride: usize,
    /// A blocked Bloom filter over the indexed grams: each gram sets two
    /// bits of one word (one cache line touched per test, about 1% false
    /// positives at the fill it is sized for).
    filter: Vec<u64>,
    wbits: u32,
    /// `slots[head[b]..head[b + 1]]`: the needle grams whose filter word
    /// `w` has `w >> shift == b`.
    shift: u32,
    head: Vec<u32>,
    slots: Vec<Slot>,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    gram: u32,
    /// Offset of the gram in the needle.
    off: u32,
    start: u32,
    len: u32,
    id: u32,
}

/// Minimum needle length and stride of each class (the last class has no
/// maximum length).
const CLASSES: [(usize, usize); 3] = [(Q, 1), (8, 2), (16, 4)];

/// Lowercases the ASCII letters of four bytes at once.
#[inline]
fn fold(x: u32) -> u32 {
    let low7 = x & 0x7f7f_7f7f;
    // High bit set where the byte is >= 'A', resp. > 'Z' (7-bit bytes only).
    let ge_a = low7.wrapping_add(0x3f3f_3f3f);
    let gt_z = low7.wrapping_add(0x2525_2525);
    let upper = ge_a & !gt_z & !x & 0x8080_8080;
    x | (upper >> 2)
}

/// [`fold`] for eight bytes.
#[inline]
fn fold8(x: u64) -> u64 {
    let low7 = x & 0x7f7f_7f7f_7f7f_7f7f;
    let ge_a = low7.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let gt_z = low7.wrapping_add(0x2525_2525_2525_2525);
    let upper = ge_a & !gt_z & !x & 0x8080_8080_8080_8080;
    x | (upper >> 2)
}

/// A 32-bit hash of a gram (high half of a 64-bit multiplicative hash).
#[inline]
fn hash(g: u32) -> u32 {
    ((u64::from(g).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 32) as u32
}

#[inline]
fn gram_at(b: &[u8], i: usize) -> Option<u32> {
    let w: [u8; Q] = b.get(i..i + Q)?.try_into().ok()?;
    Some(u32::from_le_bytes(w))
}

/// How frequent a byte is in command lines and paths (English letters by
/// frequency, path and option punctuation): grams made of frequent bytes
/// ("tion", "stem", "aaaa") are a poor index.
fn commonness(b: u8) -> u32 {
    match b {
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'l' | b'c' | b'\\' | b'.' | b' ' | b'-' | b'/' => 2,
        b'a'..=b'z' | b'0'..=b'9' | b':' | b'_' => 1,
        _ => 0,
    }
}

impl Grams {
    /// Compiles `(needle, id)` pairs; needles must be lowercase and non-empty.
    pub fn build(needles: &[(&str, u32)]) -> Grams {
        let (long, short): (Vec<_>, Vec<_>) = needles.iter().partition(|(n, _)| n.len() >= Q);
        // How many needles contain each gram: a gram shared by many needles
        // is common text.
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for (n, _) in &long {
            let b = n.as_bytes();
            let mut grams: Vec<u32> = (0..=b.len() - Q).filter_map(|i| gram_at(b, i)).collect();
            grams.sort_unstable();
            grams.dedup();
            for g in grams {
                *shared.entry(g).or_default() += 1;
            }
        }
        let score = |b: &[u8], i: usize| -> u32 {
            let gram = gram_at(b, i).unwrap_or(0);
            let common: u32 = b[i..i + Q].iter().map(|&c| commonness(c)).sum();
            shared.get(&gram).copied().unwrap_or(0) * 4 + common
        };
        let mut g = Grams::default();
        for (k, &(min, stride)) in CLASSES.iter().enumerate() {
            let max = CLASSES.get(k + 1).map_or(usize::MAX, |c| c.0);
            let mut slots = Vec::new();
            for (n, id) in long.iter().filter(|(n, _)| (min..max).contains(&n.len())) {
                let b = n.as_bytes();
                // The `stride` consecutive grams that are least common.
                let first = (0..=b.len() - Q - (stride - 1))
                    .min_by_key(|&w| {
                        let scores = (w..w + stride).map(|i| score(b, i));
                        (scores.clone().max().unwrap_or(0), scores.sum::<u32>())
                    })
                    .unwrap_or(0);
                let start = g.text.len() as u32;
                g.text.extend_from_slice(b);
                for off in first..first + stride {
                    let gram = gram_at(b, off).unwrap_or(0);
                    slots.push(Slot { gram, off: off as u32, start, len: b.len() as u32, id: *id });
                }
            }
            if !slots.is_empty() {
                g.classes.push(Class::new(stride, slots));
            }
        }
        if !short.is_empty() {
            g.short = AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(short.iter().map(|(n, _)| n.as_bytes()))
                .ok();
            g.short_ids = short.iter().map(|(_, id)| *id).collect();
        }
        g
    }

    /// Reports the id of every needle occurring in `hay` (at least once;
    /// callers deduplicate).
    pub fn scan(&self, hay: &[u8], mut hit: impl FnMut(u32)) {
        for c in &self.classes {
            c.scan(hay, &self.text, &mut hit);
        }
        if let Some(ac) = &self.short {
            for m in ac.find_overlapping_iter(hay) {
                if let Some(&id) = self.short_ids.get(m.pattern().as_usize()) {
                    hit(id);
                }
            }
        }
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        let classes: usize = self
            .classes
            .iter()
            .map(|c| c.filter.len() * 8 + c.head.len() * 4 + c.slots.len() * std::mem::size_of::<Slot>())
            .sum();
        classes + self.text.len() + self.short.as_ref().map_or(0, AhoCorasick::memory_usage)
    }
}

impl Class {
    fn new(stride: usize, mut slots: Vec<Slot>) -> Class {
        // About 1/16 of the bits set (2 per slot), at most 32 KiB (L1).
        let log2 = |n: usize| usize::BITS - n.max(1).leading_zeros();
        let wbits = log2(slots.len() / 2).clamp(4, 12);
        let head_bits = log2(slots.len()).clamp(1, wbits);
        let shift = wbits - head_bits;
        let mut c = Class {
            stride,
            filter: vec![0; 1 << wbits],
            wbits,
            shift,
            head: vec![0; (1 << head_bits) + 1],
            slots: Vec::new(),
        };
        slots.sort_by_key(|s| c.word(hash(s.gram)) >> shift);
        for s in &slots {
            let h = hash(s.gram);
            let w = c.word(h);
            c.filter[w] |= Self::mask(h);
            c.head[(w >> shift) + 1] += 1;
        }
        for b in 0..c.head.len() - 1 {
            c.head[b + 1] += c.head[b];
        }
        c.slots = slots;
        c
    }

    #[inline]
    fn word(&self, h: u32) -> usize {
        (h >> (32 - self.wbits)) as usize
    }

    #[inline]
    fn mask(h: u32) -> u64 {
        (1 << (h & 63)) | (1 << ((h >> 6) & 63))
    }

    /// The filter word of `g` if the filter says `g` may be indexed.
    #[inline]
    fn test(&self, g: u32) -> Option<usize> {
        let h = hash(g);
        let w = self.word(h);
        let m = Self::mask(h);
        (self.filter[w] & m == m).then_some(w)
    }

    fn scan(&self, hay: &[u8], text: &[u8], hit: &mut impl FnMut(u32)) {
        let Some(last) = hay.len().checked_sub(Q) else { return };
        let mut i = 0;
        if self.stride == 1 {
            // One 8-byte load gives the grams of five windows.
            while let Some(w) = hay.get(i..i + 8) {
                let x = fold8(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
                for k in 0..5 {
                    let g = (x >> (8 * k)) as u32;
                    if let Some(h) = self.test(g) {
                        self.check(hay, text, i + k, g, h, hit);
                    }
                }
                i += 5;
            }
        }
        while i <= last {
            let g = fold(u32::from_le_bytes([hay[i], hay[i + 1], hay[i + 2], hay[i + 3]]));
            if let Some(h) = self.test(g) {
                self.check(hay, text, i, g, h, hit);
            }
            i += self.stride;
        }
    }

    #[cold]
    fn check(&self, hay: &[u8], text: &[u8], i: usize, g: u32, w: usize, hit: &mut impl FnMut(u32)) {
        let b = w >> self.shift;
        let (a, z) = (self.head[b] as usize, self.head[b + 1] as usize);
        for s in &self.slots[a..z] {
            if s.gram != g {
                continue;
            }
            let Some(start) = i.checked_sub(s.off as usize) else { continue };
            let Some(window) = hay.get(start..start + s.len as usize) else { continue };
            let needle = &text[s.start as usize..(s.start + s.len) as usize];
            if window.iter().zip(needle).all(|(&a, &b)| a.to_ascii_lowercase() == b) {
                hit(s.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_lowercases_ascii_letters_only() {
        for b in 0..=255u8 {
            let x = u32::from_le_bytes([b, b'A', 0xC3, b'z']);
            let want = u32::from_le_bytes([b.to_ascii_lowercase(), b'a', 0xC3, b'z']);
            assert_eq!(fold(x), want, "byte {b:#x}");
            let y = u64::from_le_bytes([b, b'Z', b'@', b'[', b'a', b'`', 0xFF, b'M']);
            let want8 = u64::from_le_bytes([b.to_ascii_lowercase(), b'z', b'@', b'[', b'a', b'`', 0xFF, b'm']);
            assert_eq!(fold8(y), want8, "byte {b:#x}");
        }
    }

    #[test]
    fn random_needles_and_values_agree_with_a_naive_search() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let alphabet = b"abAB\\-. 0";
        let word = |len: usize, next: &mut dyn FnMut(usize) -> usize| -> String {
            (0..len).map(|_| alphabet[next(alphabet.len())] as char).collect()
        };
        for round in 0..200 {
            let needles: Vec<String> =
                (0..1 + next(40)).map(|_| word(1 + next(24), &mut next).to_ascii_lowercase()).collect();
            let pairs: Vec<(&str, u32)> = needles.iter().enumerate().map(|(i, n)| (n.as_str(), i as u32)).collect();
            let g = Grams::build(&pairs);
            for _ in 0..20 {
                let hay = word(next(120), &mut next);
                let mut got = Vec::new();
                g.scan(hay.as_bytes(), |id| got.push(id));
                got.sort_unstable();
                got.dedup();
                let low = hay.to_ascii_lowercase();
                let want: Vec<u32> = pairs.iter().filter(|(n, _)| low.contains(n)).map(|(_, i)| *i).collect();
                assert_eq!(got, want, "round {round}: {hay:?} in {needles:?}");
            }
        }
    }

    #[test]
    fn finds_every_needle_like_a_naive_search() {
        let needles = [
            "whoami",
            "-enc",
            "ab",
            "x",
            "aaaa",
            "aaab",
            "\\appdata\\",
            "é.exe",
            "invoke-expression",
            "imphash=1195f7935954a2cd09157390c33f8e8c",
            "0123456789abcdef",
            "89abcdef0",
        ];
        let pairs: Vec<(&str, u32)> = needles.iter().enumerate().map(|(i, n)| (*n, i as u32)).collect();
        let g = Grams::build(&pairs);
        let hays = [
            "cmd /c WHOAMI -Enc aaaab",
            "C:\\Users\\x\\AppData\\é.exe",
            "",
            "aaa",
            "Invoke-Expressio",
            "IEX; Invoke-EXPRESSION",
            "ab",
            "MD5=00,IMPHASH=1195F7935954A2CD09157390C33F8E8C",
            "x0123456789ABCDEF0123456789abcdef0",
        ];
        for hay in hays {
            let mut got = Vec::new();
            g.scan(hay.as_bytes(), |id| got.push(id));
            got.sort_unstable();
            got.dedup();
            let low = hay.to_ascii_lowercase();
            let want: Vec<u32> = pairs.iter().filter(|(n, _)| low.contains(n)).map(|(_, i)| *i).collect();
            assert_eq!(got, want, "{hay}");
        }
    }
}
