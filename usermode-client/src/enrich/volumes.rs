//! NT device paths to the DOS paths analysts and Sigma rules use:
//! `\Device\HarddiskVolume3\Windows\x.exe` → `C:\Windows\x.exe`.
//!
//! The driver records the normalized NT name the filter manager gives it.
//! Which volume is which drive letter is a property of the machine, so a live
//! run asks the host ([`VolumeTable::from_host`], Windows only) and a capture
//! records the table in its header so a replay elsewhere maps the same way.
//!
//! Besides the table's entries, two prefixes are always known:
//! `\Device\Mup\` (the UNC redirector: `\\server\share\...`) and `\??\`
//! (a DOS path in the object namespace, e.g. `\??\C:\x`). A path that matches
//! nothing is passed through unchanged: better an NT path in an alert than a
//! guess.

use vigil_protocol::decode::Utf16Str;

/// One device → drive mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// NT device name without a trailing backslash (`\Device\HarddiskVolume3`).
    pub device: String,
    /// What replaces it (`C:`).
    pub dos: String,
}

#[derive(Clone, Debug)]
struct Entry {
    /// `device` as UTF-16 code units, for matching record strings.
    device: Vec<u16>,
    /// The same as little-endian bytes: the exact-case fast path.
    device_le: Vec<u8>,
    dos: String,
}

impl Entry {
    fn new(device: Vec<u16>, dos: &str) -> Self {
        let device_le = device.iter().flat_map(|u| u.to_le_bytes()).collect();
        Self { device, device_le, dos: dos.to_owned() }
    }
}

/// The device → drive table.
#[derive(Clone, Debug)]
pub struct VolumeTable {
    entries: Vec<Entry>,
}

/// Prefixes that map the same on every machine.
/// A device ending in `\` matches as a plain prefix (the `\` is consumed).
const BUILTIN: [(&str, &str); 2] = [(r"\Device\Mup", r"\"), ("\\??\\", "")];

impl Default for VolumeTable {
    fn default() -> Self {
        Self::new()
    }
}

impl VolumeTable {
    /// A table with only the built-in prefixes.
    pub fn new() -> Self {
        let mut t = Self { entries: Vec::new() };
        for (device, dos) in BUILTIN {
            t.entries.push(Entry::new(device.encode_utf16().collect(), dos));
        }
        t
    }

    /// Adds or replaces the mapping of `device` (trailing backslashes are
    /// ignored). Longer device names are tried first, so
    /// `\Device\HarddiskVolume10` never matches as `...Volume1` + `0`.
    pub fn insert(&mut self, device: &str, dos: &str) {
        let device: Vec<u16> = device.trim_end_matches('\\').encode_utf16().collect();
        if device.is_empty() {
            return;
        }
        self.entries.retain(|e| !eq_ignore_ascii_case(&e.device, &device));
        self.entries.push(Entry::new(device, dos));
        self.entries.sort_by_key(|e| std::cmp::Reverse(e.device.len()));
    }

    /// The user-visible entries (built-ins excluded), for writing a capture.
    pub fn volumes(&self) -> impl Iterator<Item = Volume> + '_ {
        self.entries
            .iter()
            .map(|e| Volume { device: String::from_utf16_lossy(&e.device), dos: e.dos.clone() })
            .filter(|v| !BUILTIN.iter().any(|(d, _)| *d == v.device))
    }

    /// Splits `path` into the DOS prefix that replaces its device and the rest
    /// (starting with `\`); the prefix is `None` when no entry matches and the
    /// rest is then the whole path.
    pub fn split<'a, 's>(&'s self, path: Utf16Str<'a>) -> (Option<&'s str>, Utf16Str<'a>) {
        let bytes = path.as_bytes();
        for e in &self.entries {
            let n = e.device.len() * 2;
            let Some(head) = bytes.get(..n) else { continue };
            let next = bytes.get(n..n + 2);
            // The device must end at a path separator or at the end.
            let open_ended = e.device.last() == Some(&u16::from(b'\\'));
            if !open_ended && next.is_some_and(|b| b != [b'\\', 0]) {
                continue;
            }
            let matches = head == e.device_le.as_slice()
                || head.chunks_exact(2).zip(&e.device).all(
                    |(c, &d)| matches!(c, [lo, hi] if unit_eq_ignore_ascii_case(u16::from_le_bytes([*lo, *hi]), d)),
                );
            if matches {
                return (Some(e.dos.as_str()), Utf16Str::from_le_bytes(bytes.get(n..).unwrap_or(&[])));
            }
        }
        (None, path)
    }

    /// The DOS form of `path`, as characters.
    pub fn translate<'a>(&'a self, path: Utf16Str<'a>) -> impl Iterator<Item = char> + 'a {
        let (prefix, rest) = self.split(path);
        prefix.unwrap_or("").chars().chain(utf16_chars(rest.as_bytes()))
    }

    /// Appends the DOS form of `path` to `out`.
    pub fn translate_into(&self, path: Utf16Str<'_>, out: &mut String) {
        let (prefix, rest) = self.split(path);
        out.push_str(prefix.unwrap_or(""));
        super::utf16::push_utf16(out, rest.as_bytes());
    }

    /// The DOS form of `path`, as a new string.
    pub fn translate_string(&self, path: Utf16Str<'_>) -> String {
        let mut s = String::new();
        self.translate_into(path, &mut s);
        s
    }

    /// The host's volumes: every drive letter whose target QueryDosDeviceW
    /// reports. Empty on other operating systems (a replay there uses the
    /// capture's table).
    pub fn from_host() -> Self {
        let mut t = Self::new();
        for v in host::volumes() {
            t.insert(&v.device, &v.dos);
        }
        t
    }
}

/// The characters of little-endian UTF-16 bytes, U+FFFD for unpaired
/// surrogates (what [`Utf16Str::chars`] does, without borrowing the view).
pub fn utf16_chars(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    let units = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
}

fn unit_eq_ignore_ascii_case(a: u16, b: u16) -> bool {
    let fold = |u: u16| if (b'a' as u16..=b'z' as u16).contains(&u) { u - 32 } else { u };
    fold(a) == fold(b)
}

fn eq_ignore_ascii_case(a: &[u16], b: &[u16]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| unit_eq_ignore_ascii_case(x, y))
}

#[cfg(windows)]
mod host {
    use super::Volume;
    use windows_sys::Win32::Storage::FileSystem::QueryDosDeviceW;

    pub(super) fn volumes() -> Vec<Volume> {
        let mut out = Vec::new();
        let mut target = vec![0u16; 1024];
        for letter in b'A'..=b'Z' {
            let name = [letter as u16, b':' as u16, 0];
            // SAFETY: 1. `name` is a NUL-terminated UTF-16 string that lives
            // across the call; 2. `target` is valid for writes of
            // `target.len()` units, the length passed.
            let n = unsafe { QueryDosDeviceW(name.as_ptr(), target.as_mut_ptr(), target.len() as u32) };
            if n == 0 {
                continue;
            }
            // The result is a list of NUL-terminated strings; the first is
            // the current target.
            let first = target.iter().take(n as usize).take_while(|&&u| u != 0).copied().collect::<Vec<u16>>();
            out.push(Volume { device: String::from_utf16_lossy(&first), dos: format!("{}:", letter as char) });
        }
        out
    }
}

#[cfg(not(windows))]
mod host {
    pub(super) fn volumes() -> Vec<super::Volume> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn tr(t: &VolumeTable, s: &str) -> String {
        let b = units(s);
        t.translate_string(Utf16Str::from_le_bytes(&b))
    }

    #[test]
    fn maps_devices_to_drive_letters() {
        let mut t = VolumeTable::new();
        t.insert(r"\Device\HarddiskVolume1", "D:");
        t.insert(r"\Device\HarddiskVolume10\", "E:");
        t.insert(r"\Device\HarddiskVolume3", "C:");
        assert_eq!(tr(&t, r"\Device\HarddiskVolume3\Windows\x.exe"), r"C:\Windows\x.exe");
        assert_eq!(tr(&t, r"\device\harddiskvolume3\a"), r"C:\a");
        assert_eq!(tr(&t, r"\Device\HarddiskVolume10\a"), r"E:\a");
        assert_eq!(tr(&t, r"\Device\HarddiskVolume1\a"), r"D:\a");
        assert_eq!(tr(&t, r"\Device\HarddiskVolume3"), "C:");
        // A longer name that merely starts with a known device is not it.
        assert_eq!(tr(&t, r"\Device\HarddiskVolume30\a"), r"\Device\HarddiskVolume30\a");
    }

    #[test]
    fn builtins_and_pass_through() {
        let t = VolumeTable::new();
        assert_eq!(tr(&t, r"\Device\Mup\srv\share\f.txt"), r"\\srv\share\f.txt");
        assert_eq!(tr(&t, r"\??\C:\x"), r"C:\x");
        assert_eq!(tr(&t, r"\Device\HarddiskVolume3\x"), r"\Device\HarddiskVolume3\x");
        assert_eq!(tr(&t, r"C:\already\dos"), r"C:\already\dos");
        assert_eq!(tr(&t, ""), "");
        assert_eq!(t.volumes().count(), 0);
    }

    #[test]
    fn replace_keeps_one_entry() {
        let mut t = VolumeTable::new();
        t.insert(r"\Device\HarddiskVolume3", "C:");
        t.insert(r"\DEVICE\HARDDISKVOLUME3", "F:");
        let v: Vec<Volume> = t.volumes().collect();
        assert_eq!(v, vec![Volume { device: r"\DEVICE\HARDDISKVOLUME3".into(), dos: "F:".into() }]);
        assert_eq!(tr(&t, r"\Device\HarddiskVolume3\a"), r"F:\a");
    }
}
