//! A byte trie over lowercased needles, walked over a value with ASCII
//! case folding: finds every needle that is a prefix of the value (and,
//! separately, every needle equal to the whole value). Built over reversed
//! needles and walked backwards it finds suffixes. A walk stops at the
//! first byte no needle continues with, so it costs at most the length of
//! the longest needle sharing the value's start (end), whatever the number
//! of needles.

/// Needle ids reported when a node is reached (`reach`) or when the walk
/// ends exactly there at the end of the value (`whole`).
#[derive(Clone, Debug, Default)]
struct Node {
    edges: (u32, u32),
    reach: (u32, u32),
    whole: (u32, u32),
}

/// A compiled trie (see the module docs).
#[derive(Clone, Debug, Default)]
pub(super) struct Trie {
    nodes: Vec<Node>,
    /// Edge labels, sorted within each node's range.
    labels: Vec<u8>,
    targets: Vec<u32>,
    outs: Vec<u32>,
    reversed: bool,
}

/// Needles as they are added: `(bytes, id, whole-value only)`.
#[derive(Debug, Default)]
pub(super) struct TrieBuilder {
    needles: Vec<(Vec<u8>, u32, bool)>,
}

impl TrieBuilder {
    /// Adds a needle: reported when it is a prefix (suffix) of the value,
    /// or with `whole` only when it is the entire value.
    pub fn add(&mut self, needle: &str, id: u32, whole: bool) {
        self.needles.push((needle.as_bytes().to_vec(), id, whole));
    }

    /// Builds a trie matching at the start (`reversed`: at the end) of values.
    pub fn build(mut self, reversed: bool) -> Trie {
        if reversed {
            for (n, _, _) in &mut self.needles {
                n.reverse();
            }
        }
        // Sorted needles give each node's children in label order and
        // contiguous outputs.
        self.needles.sort();
        struct Tmp {
            children: Vec<(u8, u32)>,
            reach: Vec<u32>,
            whole: Vec<u32>,
        }
        let mut tmp = vec![Tmp { children: Vec::new(), reach: Vec::new(), whole: Vec::new() }];
        for (bytes, id, whole) in &self.needles {
            let mut n = 0usize;
            for &b in bytes {
                n = match tmp[n].children.iter().find(|(l, _)| *l == b) {
                    Some(&(_, c)) => c as usize,
                    None => {
                        let c = tmp.len();
                        tmp[n].children.push((b, c as u32));
                        tmp.push(Tmp { children: Vec::new(), reach: Vec::new(), whole: Vec::new() });
                        c
                    }
                };
            }
            if *whole { tmp[n].whole.push(*id) } else { tmp[n].reach.push(*id) }
        }
        let mut t = Trie { reversed, ..Trie::default() };
        for mut node in tmp {
            node.children.sort_unstable();
            let e0 = t.labels.len() as u32;
            for (l, c) in &node.children {
                t.labels.push(*l);
                t.targets.push(*c);
            }
            let r0 = t.outs.len() as u32;
            t.outs.extend(&node.reach);
            let w0 = t.outs.len() as u32;
            t.outs.extend(&node.whole);
            t.nodes.push(Node {
                edges: (e0, t.labels.len() as u32),
                reach: (r0, w0),
                whole: (w0, t.outs.len() as u32),
            });
        }
        t
    }
}

impl Trie {
    fn child(&self, node: usize, b: u8) -> Option<usize> {
        let (a, z) = self.nodes[node].edges;
        let labels = self.labels.get(a as usize..z as usize)?;
        let i = if labels.len() <= 8 { labels.iter().position(|&l| l == b)? } else { labels.binary_search(&b).ok()? };
        self.targets.get(a as usize + i).map(|&t| t as usize)
    }

    fn emit(&self, range: (u32, u32), hit: &mut impl FnMut(u32)) {
        for &id in self.outs.get(range.0 as usize..range.1 as usize).unwrap_or_default() {
            hit(id);
        }
    }

    /// Reports every needle found at the start (end, if reversed) of `hay`,
    /// comparing ASCII letters case-insensitively.
    pub fn walk(&self, hay: &[u8], mut hit: impl FnMut(u32)) {
        if self.nodes.is_empty() {
            return;
        }
        let mut node = 0;
        let mut step = |b: u8| -> bool {
            match self.child(node, b.to_ascii_lowercase()) {
                Some(c) => {
                    node = c;
                    self.emit(self.nodes[c].reach, &mut hit);
                    true
                }
                None => false,
            }
        };
        let complete = if self.reversed { hay.iter().rev().all(|&b| step(b)) } else { hay.iter().all(|&b| step(b)) };
        if complete {
            self.emit(self.nodes[node].whole, &mut hit);
        }
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>() + self.labels.len() + 4 * (self.targets.len() + self.outs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(t: &Trie, hay: &str) -> Vec<u32> {
        let mut v = Vec::new();
        t.walk(hay.as_bytes(), |id| v.push(id));
        v.sort_unstable();
        v
    }

    #[test]
    fn prefixes_exact_and_suffixes() {
        let mut b = TrieBuilder::default();
        b.add("c:\\windows\\", 1, false);
        b.add("c:\\", 2, false);
        b.add("c:\\windows\\system32\\cmd.exe", 3, true);
        b.add("c:\\windows\\", 4, true);
        let t = b.build(false);
        assert_eq!(hits(&t, r"C:\Windows\System32\cmd.exe"), vec![1, 2, 3]);
        assert_eq!(hits(&t, r"C:\Windows\"), vec![1, 2, 4]);
        assert_eq!(hits(&t, r"C:\Windows\System32\cmd.exe2"), vec![1, 2]);
        assert_eq!(hits(&t, r"D:\x"), Vec::<u32>::new());
        assert_eq!(hits(&t, ""), Vec::<u32>::new());

        let mut b = TrieBuilder::default();
        b.add("\\cmd.exe", 7, false);
        b.add(".exe", 8, false);
        b.add("é.exe", 9, false);
        let t = b.build(true);
        assert_eq!(hits(&t, r"C:\X\CMD.EXE"), vec![7, 8]);
        assert_eq!(hits(&t, "xé.exe"), vec![8, 9]);
        assert_eq!(hits(&t, "x.exe "), Vec::<u32>::new());
    }
}
