//! Finds which of many lowercased needles occur anywhere in a value,
//! comparing ASCII letters case-insensitively.
//!
//! Needles of 4 bytes or more are indexed by short grams (3 or 4 bytes,
//! the ones fewest other needles share, so common text rarely leads to a
//! check). The scan folds windows of the value to lowercase with a few
//! word operations, tests a small bit filter (L1-resident), and only on a
//! filter hit looks the gram up and compares the needles indexed by it in
//! place. Needles are split by length into classes: a class with stride
//! `s` indexes `s` consecutive grams of each needle and tests only every
//! `s`-th window (any occurrence spans those `s` windows, one of them
//! tested), so the scan costs 3.5 filter tests per 4 bytes whatever the
//! number of needles, unlike one automaton over thousands of needles whose
//! transitions miss the caches on every byte. The strides stay below what
//! the lengths allow, so each needle keeps rare grams to choose from.
//! Needles of 2 or 3 bytes are found through an exact bit table of their
//! first two bytes, tested at every window in the same pass; 1-byte
//! needles go through a small Aho-Corasick DFA. Needles with non-ASCII
//! bytes are searched only in values that have some.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;

/// A length class: needles of at least `min` bytes (up to the next class's
/// `min`), indexed by `q`-byte grams, tested every `stride` windows.
#[derive(Clone, Copy, Debug)]
struct Spec {
    min: usize,
    q: usize,
    stride: usize,
}

/// The classes; `stride <= min - q + 1` (an occurrence spans `stride`
/// windows), and the scan loop relies on strides 2, 4 and 8.
const CLASSES: [Spec; 3] =
    [Spec { min: 4, q: 3, stride: 2 }, Spec { min: 8, q: 4, stride: 4 }, Spec { min: 16, q: 4, stride: 8 }];

/// A needle and its id.
type Needle<'a> = (&'a str, u32);

/// A compiled needle set (see the module docs).
#[derive(Clone, Debug, Default)]
pub(super) struct Grams {
    /// One per entry of [`CLASSES`].
    classes: [Option<Class>; 3],
    /// Needles with non-ASCII bytes (emoji, homoglyph lists): searched only
    /// in values that have some.
    wide: Option<Box<Grams>>,
    /// Needle bytes, concatenated.
    text: Vec<u8>,
    /// Needles of 2 or 3 bytes, by their first two bytes.
    pairs: Option<Pairs>,
    /// Needles of 1 byte.
    short: Option<AhoCorasick>,
    short_ids: Vec<u32>,
}

/// Needles of 2 or 3 bytes: a bit per possible (folded) first byte pair,
/// tested at every window of the scan, and the needles of each pair.
#[derive(Clone, Debug)]
struct Pairs {
    bits: Box<[u64; 1024]>,
    /// `(pair, needle start in text, needle length, id)`, sorted by pair.
    needles: Vec<(u16, u32, u32, u32)>,
}

impl Pairs {
    /// Checks the needles starting with `pair` at `at` if there are any.
    #[inline]
    fn probe(&self, pair: u16, at: usize, hay: &[u8], text: &[u8], hit: &mut impl FnMut(u32)) {
        if self.bits[usize::from(pair >> 6)] & (1 << (pair & 63)) != 0 {
            self.check(hay, text, at, pair, hit);
        }
    }

    #[cold]
    fn check(&self, hay: &[u8], text: &[u8], at: usize, pair: u16, hit: &mut impl FnMut(u32)) {
        let first = self.needles.partition_point(|n| n.0 < pair);
        for &(_, start, len, id) in self.needles[first..].iter().take_while(|n| n.0 == pair) {
            let needle = &text[start as usize..(start + len) as usize];
            let ok = hay
                .get(at..at + needle.len())
                .is_some_and(|w| w.iter().zip(needle).all(|(&a, &b)| a.to_ascii_lowercase() == b));
            if ok {
                hit(id);
            }
        }
    }
}

/// The index of one length class.
#[derive(Clone, Debug, Default)]
struct Class {
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

/// Lowercases the ASCII letters of four bytes at once ([`fold8`] on the
/// low half: every byte is folded on its own, no carry crosses bytes).
#[inline]
fn fold(x: u32) -> u32 {
    fold8(u64::from(x)) as u32
}

/// Lowercases the ASCII letters of eight bytes at once.
#[inline]
fn fold8(x: u64) -> u64 {
    let low7 = x & 0x7f7f_7f7f_7f7f_7f7f;
    // High bit set where the byte is >= 'A', resp. > 'Z' (7-bit bytes only).
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

/// The low `q` bytes of a gram.
#[inline]
fn mask(q: usize) -> u32 {
    if q >= 4 { u32::MAX } else { (1 << (8 * q)) - 1 }
}

/// The `q`-byte gram at `i` (little-endian), unfolded.
fn gram_at(b: &[u8], i: usize, q: usize) -> Option<u32> {
    let w = b.get(i..i + q)?;
    Some(w.iter().rev().fold(0, |acc, &c| (acc << 8) | u32::from(c)))
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
        let (ascii, wide): (Vec<Needle<'_>>, Vec<Needle<'_>>) = needles.iter().partition(|(n, _)| n.is_ascii());
        let mut g = Self::build_one(&ascii);
        if !wide.is_empty() {
            g.wide = Some(Box::new(Self::build_one(&wide)));
        }
        g
    }

    fn build_one(needles: &[(&str, u32)]) -> Grams {
        let min_long = CLASSES[0].min;
        let (long, short): (Vec<_>, Vec<_>) = needles.iter().partition(|(n, _)| n.len() >= min_long);
        // Per gram length: how many needles contain each gram (a gram many
        // needles share is common text).
        let mut shared: [HashMap<u32, u32>; 5] = Default::default();
        for q in [3, 4] {
            for (n, _) in &long {
                let b = n.as_bytes();
                let mut grams: Vec<u32> = (0..=b.len() - q).filter_map(|i| gram_at(b, i, q)).collect();
                grams.sort_unstable();
                grams.dedup();
                for g in grams {
                    *shared[q].entry(g).or_default() += 1;
                }
            }
        }
        let score = |b: &[u8], i: usize, q: usize| -> u32 {
            let gram = gram_at(b, i, q).unwrap_or(0);
            let common: u32 = b[i..i + q].iter().map(|&c| commonness(c)).sum();
            shared[q].get(&gram).copied().unwrap_or(0) * 4 + common
        };
        let mut g = Grams::default();
        for (k, spec) in CLASSES.iter().enumerate() {
            let max = CLASSES.get(k + 1).map_or(usize::MAX, |c| c.min);
            let (q, stride) = (spec.q, spec.stride);
            let mut slots = Vec::new();
            for (n, id) in long.iter().filter(|(n, _)| (spec.min..max).contains(&n.len())) {
                let b = n.as_bytes();
                // The `stride` consecutive grams that are least common.
                let first = (0..=b.len() - q - (stride - 1))
                    .min_by_key(|&w| {
                        let scores = (w..w + stride).map(|i| score(b, i, q));
                        (scores.clone().max().unwrap_or(0), scores.sum::<u32>())
                    })
                    .unwrap_or(0);
                let start = g.text.len() as u32;
                g.text.extend_from_slice(b);
                for off in first..first + stride {
                    let gram = gram_at(b, off, q).unwrap_or(0);
                    slots.push(Slot { gram, off: off as u32, start, len: b.len() as u32, id: *id });
                }
            }
            if !slots.is_empty() {
                g.classes[k] = Some(Class::new(slots));
            }
        }
        let (two_three, single): (Vec<_>, Vec<_>) = short.iter().partition(|(n, _)| n.len() >= 2);
        if !two_three.is_empty() {
            let mut pairs = Pairs { bits: Box::new([0; 1024]), needles: Vec::new() };
            for (n, id) in &two_three {
                let b = n.as_bytes();
                let pair = u16::from_le_bytes([b[0], b[1]]);
                pairs.bits[usize::from(pair >> 6)] |= 1 << (pair & 63);
                let start = g.text.len() as u32;
                g.text.extend_from_slice(b);
                pairs.needles.push((pair, start, b.len() as u32, *id));
            }
            pairs.needles.sort_unstable();
            g.pairs = Some(pairs);
        }
        if !single.is_empty() {
            g.short = AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(single.iter().map(|(n, _)| n.as_bytes()))
                .ok();
            g.short_ids = single.iter().map(|(_, id)| *id).collect();
        }
        g
    }

    /// Reports the id of every needle occurring in `hay` (at least once;
    /// callers deduplicate).
    pub fn scan(&self, hay: &[u8], mut hit: impl FnMut(u32)) {
        if let Some(w) = &self.wide
            && !hay.is_ascii()
        {
            w.scan_narrow(hay, &mut hit);
        }
        self.scan_narrow(hay, &mut hit);
    }

    /// [`Grams::scan`] without the non-ASCII needles.
    fn scan_narrow(&self, hay: &[u8], hit: &mut impl FnMut(u32)) {
        self.scan_classes(hay, hit);
        if let Some(ac) = &self.short {
            for m in ac.find_overlapping_iter(hay) {
                if let Some(&id) = self.short_ids.get(m.pattern().as_usize()) {
                    hit(id);
                }
            }
        }
    }

    /// Tests the windows of each class in one pass: one 8-byte load and
    /// fold gives the grams of the windows starting at `i..i + 4`.
    fn scan_classes(&self, hay: &[u8], hit: &mut impl FnMut(u32)) {
        let [a, b, c] = &self.classes;
        let text = &self.text;
        let pairs = self.pairs.as_ref();
        let m3 = mask(3);
        let mut i = 0;
        while let Some(w) = hay.get(i..i + 8) {
            let x = fold8(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
            if let Some(p) = pairs {
                for k in 0..4 {
                    p.probe((x >> (8 * k)) as u16, i + k, hay, text, hit);
                }
            }
            if let Some(a) = a {
                a.probe(x as u32 & m3, i, hay, text, hit);
                a.probe((x >> 16) as u32 & m3, i + 2, hay, text, hit);
            }
            if let Some(b) = b {
                b.probe(x as u32, i, hay, text, hit);
            }
            if let Some(c) = c
                && i % 8 == 0
            {
                c.probe(x as u32, i, hay, text, hit);
            }
            i += 4;
        }
        for at in i..hay.len() {
            let Some(g2) = gram_at(hay, at, 2) else { break };
            if let Some(p) = pairs {
                p.probe(fold(g2) as u16, at, hay, text, hit);
            }
            let Some(g) = gram_at(hay, at, 3) else { continue };
            let g4 = hay.get(at + 3).map(|&x| fold(g | (u32::from(x) << 24)));
            if let Some(a) = a.as_ref().filter(|_| at % 2 == 0) {
                a.probe(fold(g) & m3, at, hay, text, hit);
            }
            if let (Some(b), Some(g4)) = (b.as_ref().filter(|_| at % 4 == 0), g4) {
                b.probe(g4, at, hay, text, hit);
            }
            if let (Some(c), Some(g4)) = (c.as_ref().filter(|_| at % 8 == 0), g4) {
                c.probe(g4, at, hay, text, hit);
            }
        }
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        let classes: usize = self
            .classes
            .iter()
            .flatten()
            .map(|c| c.filter.len() * 8 + c.head.len() * 4 + c.slots.len() * std::mem::size_of::<Slot>())
            .sum();
        classes
            + self.text.len()
            + self.short.as_ref().map_or(0, AhoCorasick::memory_usage)
            + self.pairs.as_ref().map_or(0, |p| 8192 + p.needles.len() * 16)
            + self.wide.as_ref().map_or(0, |w| w.heap_bytes())
    }
}

impl Class {
    fn new(mut slots: Vec<Slot>) -> Class {
        // About 1/16 of the bits set (2 per slot), at most 32 KiB (L1).
        let log2 = |n: usize| usize::BITS - n.max(1).leading_zeros();
        let wbits = log2(slots.len() / 2).clamp(4, 12);
        let head_bits = log2(slots.len()).clamp(1, wbits);
        let shift = wbits - head_bits;
        let mut c =
            Class { filter: vec![0; 1 << wbits], wbits, shift, head: vec![0; (1 << head_bits) + 1], slots: Vec::new() };
        slots.sort_by_key(|s| c.word(hash(s.gram)) >> shift);
        for s in &slots {
            let h = hash(s.gram);
            let w = c.word(h);
            c.filter[w] |= Self::bits(h);
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
    fn bits(h: u32) -> u64 {
        (1 << (h & 63)) | (1 << ((h >> 6) & 63))
    }

    /// Checks the needles indexed by gram `g` at `at` if the filter says
    /// there may be any.
    #[inline]
    fn probe(&self, g: u32, at: usize, hay: &[u8], text: &[u8], hit: &mut impl FnMut(u32)) {
        let h = hash(g);
        let w = self.word(h);
        let m = Self::bits(h);
        if self.filter[w] & m == m {
            self.check(hay, text, at, g, w, hit);
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
            "😀",
            "а",
            "ü.exe",
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
            "😀 а Ü.EXE ü.exe",
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
