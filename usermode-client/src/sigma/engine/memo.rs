//! Recent scan results per (category, field). Event streams repeat most
//! values (the same images, parents, company names, per-binary hashes), so
//! a value seen recently gets its probe hits replayed instead of rescanned.
//! Exact: an entry is used only when the stored value equals the new one
//! byte for byte. Direct-mapped by a hash of the value; bounded size.

/// Entries per (category, field).
const WAYS: usize = 256;
/// Longer values are not remembered.
pub(super) const MAX_LEN: usize = 512;

#[derive(Clone, Debug, Default)]
struct Entry {
    hash: u64,
    text: Vec<u8>,
    hits: Vec<u32>,
}

/// The memo of one thread.
#[derive(Clone, Debug, Default)]
pub(super) struct Memo {
    /// `entries[(slot * WAYS)..][..WAYS]` for each (category, field) slot.
    entries: Vec<Entry>,
}

/// A fast, non-cryptographic hash of a value (FxHash-style over words).
pub(super) fn hash(b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = b.len() as u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h.rotate_left(5) ^ x).wrapping_mul(K);
    }
    for &x in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(x)).wrapping_mul(K);
    }
    h
}

impl Memo {
    /// A memo for `slots` (category, field) pairs.
    pub fn new(slots: usize) -> Memo {
        Memo { entries: vec![Entry::default(); slots * WAYS] }
    }

    fn entry(&mut self, slot: usize, h: u64) -> Option<&mut Entry> {
        self.entries.get_mut(slot * WAYS + (h >> 56) as usize % WAYS)
    }

    /// The remembered hits of `value` (hashing to `h`) in `slot`.
    pub fn get(&mut self, slot: usize, h: u64, value: &[u8]) -> Option<&[u32]> {
        let e = self.entry(slot, h)?;
        (e.hash == h && e.text == value).then_some(e.hits.as_slice())
    }

    /// Remembers `hits` for `value`, replacing what shared its entry.
    pub fn put(&mut self, slot: usize, h: u64, value: &[u8], hits: &[u32]) {
        if let Some(e) = self.entry(slot, h) {
            e.hash = h;
            e.text.clear();
            e.text.extend_from_slice(value);
            e.hits.clear();
            e.hits.extend_from_slice(hits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_only_equal_values() {
        let mut m = Memo::new(2);
        let (a, b) = (b"C:\\Windows\\explorer.exe".as_slice(), b"C:\\Windows\\Explorer.exe".as_slice());
        m.put(1, hash(a), a, &[3, 4]);
        assert_eq!(m.get(1, hash(a), a), Some(&[3, 4][..]));
        assert_eq!(m.get(0, hash(a), a), None, "other slot");
        assert_eq!(m.get(1, hash(b), b), None, "case matters: the caller folds nothing");
        // A different value forced into the same entry is not confused with it.
        assert_eq!(m.get(1, hash(a), b), None);
        m.put(1, hash(a), b, &[]);
        assert_eq!(m.get(1, hash(a), a), None);
        assert_eq!(m.get(1, hash(a), b), Some(&[][..]));
    }
}
