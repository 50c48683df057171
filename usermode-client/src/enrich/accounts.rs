//! SIDs to the `DOMAIN\user` names Sysmon writes in `User`.
//!
//! Resolution order, first hit wins:
//! 1. well-known SIDs, resolved offline (`S-1-5-18` → `NT AUTHORITY\SYSTEM`,
//!    `S-1-5-90-0-N` → `Window Manager\DWM-N`, ...). English names, as on an
//!    English Windows; SigmaHQ rules match both (`AUTHORI`/`AUTORI`).
//! 2. the account table: names the live analyzer looked up on the host
//!    (LookupAccountSidW) or a capture recorded for its host;
//! 3. on Windows, a live LookupAccountSidW, remembered in the table;
//! 4. otherwise the SID string itself (`S-1-5-21-...-1001`), so the field is
//!    never made up and never empty.

use std::collections::HashMap;
use std::fmt::Write;

/// A parsed SID: authority and sub-authorities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sid {
    /// Identifier authority (48-bit).
    pub authority: u64,
    /// Sub-authorities (at most 15).
    pub sub: Vec<u32>,
}

impl Sid {
    /// Parses the binary form (revision 1, count, 6-byte big-endian
    /// authority, little-endian sub-authorities). `None` if malformed.
    pub fn parse(bytes: &[u8]) -> Option<Sid> {
        let (&rev, rest) = bytes.split_first()?;
        let (&count, rest) = rest.split_first()?;
        if rev != 1 || count > 15 {
            return None;
        }
        let auth = rest.get(..6)?;
        let authority = auth.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        let subs = rest.get(6..)?;
        if subs.len() != usize::from(count) * 4 {
            return None;
        }
        let sub = subs.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Some(Sid { authority, sub })
    }

    /// The SDDL string form, `S-1-5-21-...`.
    pub fn to_sddl(&self) -> String {
        let mut s = String::from("S-1-");
        if self.authority >= 1 << 32 {
            let _ = write!(s, "{:#014X}", self.authority);
        } else {
            let _ = write!(s, "{}", self.authority);
        }
        for v in &self.sub {
            let _ = write!(s, "-{v}");
        }
        s
    }

    /// The offline name of a well-known SID, if it is one.
    pub fn well_known_name(&self) -> Option<String> {
        let name = match (self.authority, self.sub.as_slice()) {
            (1, [0]) => "Everyone",
            (5, [7]) => r"NT AUTHORITY\ANONYMOUS LOGON",
            (5, [18]) => r"NT AUTHORITY\SYSTEM",
            (5, [19]) => r"NT AUTHORITY\LOCAL SERVICE",
            (5, [20]) => r"NT AUTHORITY\NETWORK SERVICE",
            (5, [90, 0, n]) => return Some(format!(r"Window Manager\DWM-{n}")),
            (5, [96, 0, n]) => return Some(format!(r"Font Driver Host\UMFD-{n}")),
            _ => return None,
        };
        Some(name.to_owned())
    }
}

/// SID bytes → account name, with the resolved names cached.
#[derive(Clone, Debug, Default)]
pub struct AccountTable {
    /// Names recorded or looked up: what a capture stores.
    known: HashMap<Box<[u8]>, String>,
    /// Every resolution made, well-known and fallback ones included.
    cache: HashMap<Box<[u8]>, Box<str>>,
    /// Look names up on the host when not known (live runs on Windows).
    lookup_host: bool,
    /// SIDs looked up on the host since the last [`AccountTable::take_new`].
    new: Vec<Box<[u8]>>,
}

/// Bound on the resolution cache; past it the cache starts over.
const CACHE_MAX: usize = 4096;

impl AccountTable {
    /// An empty table that does not ask the host.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table that asks the host (LookupAccountSidW) for SIDs it
    /// does not know; the same as [`AccountTable::new`] off Windows.
    pub fn with_host_lookup() -> Self {
        Self { lookup_host: cfg!(windows), ..Self::default() }
    }

    /// Records the name of `sid` (from a capture, or a live lookup).
    pub fn insert(&mut self, sid: &[u8], name: &str) {
        self.cache.remove(sid);
        self.known.insert(sid.into(), name.to_owned());
    }

    /// The recorded names, for writing a capture.
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &str)> {
        self.known.iter().map(|(k, v)| (&**k, v.as_str()))
    }

    /// Names looked up on the host since the last call, for a capture writer
    /// to record.
    pub fn take_new(&mut self) -> Vec<(Vec<u8>, String)> {
        let new = std::mem::take(&mut self.new);
        new.into_iter().filter_map(|sid| Some((sid.to_vec(), self.known.get(&sid)?.clone()))).collect()
    }

    /// Number of recorded names.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether no name is recorded.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The `User` value for `sid`: a name or the SID string. A malformed SID
    /// gives `None` (the field stays absent).
    pub fn resolve(&mut self, sid: &[u8]) -> Option<&str> {
        if !self.cache.contains_key(sid) {
            let name = self.resolve_uncached(sid)?;
            if self.cache.len() >= CACHE_MAX {
                self.cache.clear();
            }
            self.cache.insert(sid.into(), name.into_boxed_str());
        }
        self.cache.get(sid).map(|s| &**s)
    }

    /// Resolves without the cache. A name found by a host lookup is recorded
    /// and queued for [`AccountTable::take_new`].
    fn resolve_uncached(&mut self, sid: &[u8]) -> Option<String> {
        let parsed = Sid::parse(sid)?;
        if let Some(n) = parsed.well_known_name() {
            return Some(n);
        }
        if let Some(n) = self.known.get(sid) {
            return Some(n.clone());
        }
        if self.lookup_host
            && let Some(n) = host::lookup(sid)
        {
            self.known.insert(sid.into(), n.clone());
            self.new.push(sid.into());
            return Some(n);
        }
        Some(parsed.to_sddl())
    }
}

#[cfg(windows)]
mod host {
    use windows_sys::Win32::Security::{LookupAccountSidW, SID_NAME_USE};

    /// `DOMAIN\name` for `sid`, or `None` if Windows cannot name it.
    pub(super) fn lookup(sid: &[u8]) -> Option<String> {
        let mut name = [0u16; 256];
        let mut domain = [0u16; 256];
        let (mut name_len, mut domain_len) = (name.len() as u32, domain.len() as u32);
        let mut use_: SID_NAME_USE = 0;
        // SAFETY: 1. `sid` was validated by `Sid::parse` (revision 1, length
        // matching its sub-authority count), so it is a well-formed SID that
        // lives across the call; 2. `name` and `domain` are valid for writes
        // of the lengths passed; 3. the other pointers are to locals.
        let ok = unsafe {
            LookupAccountSidW(
                std::ptr::null(),
                sid.as_ptr() as *mut _,
                name.as_mut_ptr(),
                &mut name_len,
                domain.as_mut_ptr(),
                &mut domain_len,
                &mut use_,
            )
        };
        if ok == 0 {
            return None;
        }
        let n = String::from_utf16_lossy(name.get(..name_len as usize)?);
        let d = String::from_utf16_lossy(domain.get(..domain_len as usize)?);
        Some(if d.is_empty() { n } else { format!("{d}\\{n}") })
    }
}

#[cfg(not(windows))]
mod host {
    pub(super) fn lookup(_sid: &[u8]) -> Option<String> {
        None
    }
}

/// Builds the binary form of a SID (for tests and the synthetic workload).
pub fn sid_bytes(authority: u64, sub: &[u32]) -> Vec<u8> {
    let mut b = vec![1u8, sub.len() as u8];
    b.extend_from_slice(&authority.to_be_bytes()[2..]);
    for s in sub {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

/// The `IntegrityLevel` value Sysmon writes for a mandatory-label RID, or
/// `None` when the driver could not read it.
pub fn integrity_level(rid: u32) -> Option<&'static str> {
    Some(match rid {
        u32::MAX => return None,
        0..0x1000 => "Untrusted",
        0x1000..0x2000 => "Low",
        0x2000..0x3000 => "Medium",
        0x3000..0x4000 => "High",
        0x4000..0x5000 => "System",
        _ => "Protected",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_round_trip_and_sddl() {
        let b = sid_bytes(5, &[21, 1_111_111_111, 2_222_222_222, 3_333_333_333, 1001]);
        let sid = Sid::parse(&b).unwrap();
        assert_eq!(sid.to_sddl(), "S-1-5-21-1111111111-2222222222-3333333333-1001");
        assert_eq!(Sid::parse(&sid_bytes(1 << 40, &[1])).unwrap().to_sddl(), "S-1-0x010000000000-1");
    }

    #[test]
    fn malformed_sids_are_refused() {
        assert_eq!(Sid::parse(&[]), None);
        assert_eq!(Sid::parse(&[2, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]), None);
        let mut b = sid_bytes(5, &[18]);
        b.pop();
        assert_eq!(Sid::parse(&b), None);
        b.extend_from_slice(&[0, 0]);
        assert_eq!(Sid::parse(&b), None);
        assert_eq!(AccountTable::new().resolve(&[1]), None);
    }

    #[test]
    fn resolution_order() {
        let mut t = AccountTable::new();
        assert_eq!(t.resolve(&sid_bytes(5, &[18])), Some(r"NT AUTHORITY\SYSTEM"));
        assert_eq!(t.resolve(&sid_bytes(5, &[90, 0, 2])), Some(r"Window Manager\DWM-2"));
        let user = sid_bytes(5, &[21, 1, 2, 3, 1001]);
        assert_eq!(t.resolve(&user), Some("S-1-5-21-1-2-3-1001"));
        // A recorded name replaces the cached fallback.
        t.insert(&user, r"CONTOSO\alice");
        assert_eq!(t.resolve(&user), Some(r"CONTOSO\alice"));
        assert_eq!(t.entries().count(), 1);
    }

    #[test]
    fn integrity_names() {
        assert_eq!(integrity_level(0x1000), Some("Low"));
        assert_eq!(integrity_level(0x2000), Some("Medium"));
        assert_eq!(integrity_level(0x2100), Some("Medium"));
        assert_eq!(integrity_level(0x3000), Some("High"));
        assert_eq!(integrity_level(0x4000), Some("System"));
        assert_eq!(integrity_level(0), Some("Untrusted"));
        assert_eq!(integrity_level(u32::MAX), None);
    }
}
