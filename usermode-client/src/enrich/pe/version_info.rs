//! The `VS_VERSIONINFO` resource: the strings Sysmon reports as
//! `OriginalFileName`, `Description`, `Product`, `Company` and `FileVersion`.
//!
//! Layout (every node 4-byte aligned, all integers little-endian):
//! ```text
//! node = wLength u16 | wValueLength u16 | wType u16 | szKey (UTF-16, NUL) | pad4
//!        | Value (wValueLength words if wType = 1 (text), else bytes) | pad4
//!        | children (nodes) ...
//! VS_VERSION_INFO -> StringFileInfo -> <lang+codepage table> -> String nodes
//! ```
//! Real files get `wValueLength` wrong both ways (bytes for words, counts
//! that include or omit the NUL), so values are clamped to their node and
//! cut at the first NUL. Nothing here indexes without a bounds check.

/// The version strings Sysmon reports; `None` where the resource lacks one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionStrings {
    /// `OriginalFilename`.
    pub original_file_name: Option<String>,
    /// `FileDescription`.
    pub description: Option<String>,
    /// `ProductName`.
    pub product: Option<String>,
    /// `CompanyName`.
    pub company: Option<String>,
    /// `FileVersion` (the string, not the fixed binary version).
    pub file_version: Option<String>,
}

struct Node<'a> {
    key: &'a [u8],
    value: &'a [u8],
    is_text: bool,
    children: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Parses the node at the start of `data`; returns it and the bytes it
/// occupies (aligned, so the next sibling starts there).
fn node(data: &[u8]) -> Option<(Node<'_>, usize)> {
    let len = usize::from(u16_at(data, 0)?);
    if len < 6 {
        return None;
    }
    let block = data.get(..len)?;
    let value_len = usize::from(u16_at(block, 2)?);
    let is_text = u16_at(block, 4)? == 1;
    let mut at = 6;
    while u16_at(block, at)? != 0 {
        at += 2;
    }
    let key = block.get(6..at)?;
    let value_start = align4(at + 2).min(len);
    let value_bytes = if is_text { value_len * 2 } else { value_len };
    let value_end = (value_start + value_bytes).min(len);
    let value = block.get(value_start..value_end)?;
    let children = block.get(align4(value_end).min(len)..).unwrap_or(&[]);
    Some((Node { key, value, is_text, children }, align4(len).min(data.len())))
}

/// The nodes in a children area.
fn children(mut data: &[u8]) -> impl Iterator<Item = Node<'_>> {
    std::iter::from_fn(move || {
        let (n, used) = node(data)?;
        data = data.get(used.max(1)..).unwrap_or(&[]);
        Some(n)
    })
}

fn key_is(key: &[u8], name: &str) -> bool {
    key.len() == name.len() * 2 && key.chunks_exact(2).zip(name.bytes()).all(|(c, b)| c == [b, 0])
}

fn text(value: &[u8]) -> String {
    let units = value.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0);
    char::decode_utf16(units).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)).collect::<String>().trim().to_owned()
}

/// Parses a `VS_VERSIONINFO` resource. `None` if it is not one.
pub fn parse(data: &[u8]) -> Option<VersionStrings> {
    let (root, _) = node(data)?;
    if !key_is(root.key, "VS_VERSION_INFO") {
        return None;
    }
    let mut out = VersionStrings::default();
    // The first string table is the one Explorer shows; take each name from
    // the first table that has it.
    for sfi in children(root.children).filter(|n| key_is(n.key, "StringFileInfo")) {
        for table in children(sfi.children) {
            for s in children(table.children) {
                let slot = if key_is(s.key, "OriginalFilename") {
                    &mut out.original_file_name
                } else if key_is(s.key, "FileDescription") {
                    &mut out.description
                } else if key_is(s.key, "ProductName") {
                    &mut out.product
                } else if key_is(s.key, "CompanyName") {
                    &mut out.company
                } else if key_is(s.key, "FileVersion") {
                    &mut out.file_version
                } else {
                    continue;
                };
                if slot.is_none() && (s.is_text || !s.value.is_empty()) {
                    *slot = Some(text(s.value));
                }
            }
        }
    }
    Some(out)
}

/// Builds a `VS_VERSIONINFO` resource with one string table (for tests and
/// the synthetic PE files they make).
pub fn build(strings: &[(&str, &str)]) -> Vec<u8> {
    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
    }
    fn pad4(v: &mut Vec<u8>) {
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
    }
    fn node(key: &str, value: &[u8], value_len: u16, text: bool, children: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend_from_slice(&value_len.to_le_bytes());
        v.extend_from_slice(&u16::from(text).to_le_bytes());
        v.extend_from_slice(&utf16z(key));
        pad4(&mut v);
        v.extend_from_slice(value);
        pad4(&mut v);
        v.extend_from_slice(children);
        let len = (v.len() as u16).to_le_bytes();
        v[0] = len[0];
        v[1] = len[1];
        v
    }
    let mut strs = Vec::new();
    for (k, val) in strings {
        let value = utf16z(val);
        strs.extend(node(k, &value, (value.len() / 2) as u16, true, &[]));
        pad4(&mut strs);
    }
    let table = node("040904b0", &[], 0, true, &strs);
    let sfi = node("StringFileInfo", &[], 0, true, &table);
    // A VS_FIXEDFILEINFO-sized binary value, as real files have.
    let mut fixed = vec![0u8; 52];
    fixed[..4].copy_from_slice(&0xFEEF_04BDu32.to_le_bytes());
    node("VS_VERSION_INFO", &fixed, 52, false, &sfi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_five_strings() {
        let res = build(&[
            ("CompanyName", "Microsoft Corporation"),
            ("FileDescription", "Windows Command Processor"),
            ("FileVersion", "10.0.19041.1 (WinBuild.160101.0800)"),
            ("InternalName", "cmd"),
            ("OriginalFilename", "Cmd.Exe"),
            ("ProductName", "Microsoft® Windows® Operating System"),
        ]);
        let v = parse(&res).unwrap();
        assert_eq!(v.company.as_deref(), Some("Microsoft Corporation"));
        assert_eq!(v.description.as_deref(), Some("Windows Command Processor"));
        assert_eq!(v.file_version.as_deref(), Some("10.0.19041.1 (WinBuild.160101.0800)"));
        assert_eq!(v.original_file_name.as_deref(), Some("Cmd.Exe"));
        assert_eq!(v.product.as_deref(), Some("Microsoft® Windows® Operating System"));
    }

    #[test]
    fn missing_strings_stay_none_and_garbage_is_refused() {
        let v = parse(&build(&[("CompanyName", "X")])).unwrap();
        assert_eq!(v.original_file_name, None);
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0xFF; 64]), None);
        let mut res = build(&[("CompanyName", "X")]);
        // Truncation at every length must never panic.
        while !res.is_empty() {
            res.pop();
            let _ = parse(&res);
        }
    }
}
