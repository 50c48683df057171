//! A lint for `inf/vigil.inf`: the rules of a primitive minifilter INF that the driver
//! issue names. It is not infverif (which runs in the Windows flow, Makefile.toml); it
//! pins the choices Vigil depends on so that an edit cannot drop one silently.
//!
//! The parser handles what INF files use here: `[Section]` headers (case-insensitive),
//! `key = value` and plain lines, `;` comments outside quotes, `\` line continuation,
//! and `%token%` substitution from `[Strings]` (`%%` is a literal `%`; `%12%`-style dirids
//! are kept).

use std::collections::BTreeMap;
use std::fmt;

/// The ActivityMonitor setup class GUID (devguid.h / the minifilter load order groups).
pub const ACTIVITY_MONITOR_GUID: &str = "{b86dff51-a31e-4bac-b3cf-e8cfe75c9fc2}";
/// Altitudes of the "FSFilter Activity Monitor" load order group.
pub const ACTIVITY_MONITOR_ALTITUDES: std::ops::RangeInclusive<u32> = 360_000..=389_999;

/// One line of a section: `key = value` or a bare line (key `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The key, if the line has one (as written).
    pub key: Option<String>,
    /// The value (for a bare line, the whole line), with `%strings%` substituted.
    pub value: String,
    /// 1-based line number of the line's start.
    pub line_no: usize,
}

/// A parsed INF: sections in file order, names compared case-insensitively.
#[derive(Clone, Debug, Default)]
pub struct Inf {
    sections: Vec<(String, Vec<Line>)>,
}

/// Splits off a `;` comment that is outside double quotes.
fn strip_comment(line: &str) -> &str {
    let mut in_quotes = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Replaces `%name%` with its `[Strings]` value (quotes removed); unknown names and
/// numeric dirids such as `%12%` are left as written.
fn substitute(s: &str, strings: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(0) => {
                out.push('%');
                rest = &after[1..];
            }
            Some(end) => {
                let name = &after[..end];
                match strings.get(&name.to_ascii_lowercase()) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('%');
                        out.push_str(name);
                        out.push('%');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes one pair of surrounding double quotes.
pub fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(s)
}

impl Inf {
    /// Parses INF text.
    pub fn parse(text: &str) -> Result<Inf, String> {
        // Pass 1: logical lines (comments stripped, continuations joined) per section.
        let mut raw: Vec<(String, Vec<(usize, String)>)> = Vec::new();
        let mut pending: Option<(usize, String)> = None;
        for (i, physical) in text.lines().enumerate() {
            let line_no = i + 1;
            let content = strip_comment(physical).trim_end();
            let (start, mut joined) = pending.take().unwrap_or((line_no, String::new()));
            if let Some(head) = content.strip_suffix('\\') {
                joined.push_str(head.trim());
                pending = Some((start, joined));
                continue;
            }
            joined.push_str(content.trim());
            if joined.is_empty() {
                continue;
            }
            if let Some(name) = joined.strip_prefix('[') {
                let name = name.strip_suffix(']').ok_or(format!("line {start}: unterminated section header"))?;
                raw.push((name.trim().to_owned(), Vec::new()));
                continue;
            }
            match raw.last_mut() {
                Some((_, lines)) => lines.push((start, joined)),
                None => return Err(format!("line {start}: content before the first section")),
            }
        }
        // Pass 2: [Strings] (unsubstituted), then every line with substitution.
        let mut strings = BTreeMap::new();
        for (name, lines) in &raw {
            if name.eq_ignore_ascii_case("Strings") {
                for (_, l) in lines {
                    if let Some((k, v)) = l.split_once('=') {
                        strings.insert(k.trim().to_ascii_lowercase(), unquote(v).to_owned());
                    }
                }
            }
        }
        let sections = raw
            .into_iter()
            .map(|(name, lines)| {
                let lines = lines
                    .into_iter()
                    .map(|(line_no, l)| match l.split_once('=') {
                        // A registry line (HKR,"x","y",0,"a=b") has '=' only inside quotes or
                        // after a comma; a key never contains a comma or a quote.
                        Some((k, v)) if !k.contains(',') && !k.contains('"') => {
                            Line { key: Some(k.trim().to_owned()), value: substitute(v.trim(), &strings), line_no }
                        }
                        _ => Line { key: None, value: substitute(&l, &strings), line_no },
                    })
                    .collect();
                (name, lines)
            })
            .collect();
        Ok(Inf { sections })
    }

    /// The lines of a section, if it exists.
    pub fn section(&self, name: &str) -> Option<&[Line]> {
        self.sections.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, l)| l.as_slice())
    }

    /// Whether a section exists.
    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// The value of `key` in `section` (first occurrence).
    pub fn value(&self, section: &str, key: &str) -> Option<&str> {
        self.section(section)?
            .iter()
            .find(|l| l.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(key)))
            .map(|l| l.value.as_str())
    }

    /// Registry lines (`HKR,subkey,value,flags,data`) of an AddReg section, split on
    /// commas outside quotes and unquoted.
    pub fn reg_lines(&self, section: &str) -> Vec<Vec<String>> {
        self.section(section)
            .unwrap_or(&[])
            .iter()
            .filter(|l| l.key.is_none())
            .map(|l| split_fields(&l.value))
            .collect()
    }
}

/// Splits on commas outside double quotes; fields are trimmed and unquoted (adjacent
/// quoted and unquoted parts, as in `"Parameters\Instances\"Vigil Instance`, are joined).
pub fn split_fields(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    for c in s.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => out.push(std::mem::take(&mut cur).trim().to_owned()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Short rule name.
    pub rule: &'static str,
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.detail)
    }
}

/// What the lint expects of the driver beyond the fixed rules.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    /// Service name (`AddService`/`DelService`, and the registry key FltMgr reads).
    pub service: &'static str,
    /// Driver file name.
    pub binary: &'static str,
}

impl Expect {
    /// Vigil's values.
    pub const VIGIL: Expect = Expect { service: "Vigil", binary: "vigil.sys" };
}

fn parse_number(s: &str) -> Option<u64> {
    let s = unquote(s).trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Checks `inf` against the rules; returns every finding.
pub fn lint(inf: &Inf, expect: Expect) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut fail = |rule: &'static str, detail: String| out.push(Finding { rule, detail });

    // [Version]
    let v = |k: &str| inf.value("Version", k).map(unquote);
    if v("Signature") != Some("$Windows NT$") {
        fail("version-signature", format!("Signature is {:?}, not \"$Windows NT$\"", v("Signature")));
    }
    if v("Class") != Some("ActivityMonitor") {
        fail("version-class", format!("Class is {:?}, not ActivityMonitor", v("Class")));
    }
    if !v("ClassGuid").is_some_and(|g| g.eq_ignore_ascii_case(ACTIVITY_MONITOR_GUID)) {
        fail("version-classguid", format!("ClassGuid is {:?}, not {ACTIVITY_MONITOR_GUID}", v("ClassGuid")));
    }
    for key in ["Provider", "CatalogFile"] {
        if v(key).is_none_or(str::is_empty) {
            fail("version-field", format!("[Version] lacks {key}"));
        }
    }
    if v("PnpLockdown") != Some("1") {
        fail("version-pnplockdown", "PnpLockdown = 1 is missing".into());
    }
    let driver_ver_ok = v("DriverVer").and_then(|d| d.split_once(',')).is_some_and(|(date, version)| {
        let date: Vec<&str> = date.trim().split('/').collect();
        let version: Vec<&str> = version.trim().split('.').collect();
        date.len() == 3
            && date.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && version.len() == 4
            && version.iter().all(|p| p.parse::<u16>().is_ok())
    });
    if !driver_ver_ok {
        fail("version-driverver", format!("DriverVer {:?} is not mm/dd/yyyy,w.x.y.z", v("DriverVer")));
    }

    // A primitive driver: no device, so no [Manufacturer] (infverif would demand models).
    if inf.has_section("Manufacturer") {
        fail("primitive", "a primitive driver INF has no [Manufacturer] section".into());
    }

    // Install and uninstall sections with the architecture decoration.
    for s in [
        "DefaultInstall.NTamd64",
        "DefaultInstall.NTamd64.Services",
        "DefaultUninstall.NTamd64",
        "DefaultUninstall.NTamd64.Services",
    ] {
        if !inf.has_section(s) {
            fail("sections", format!("[{s}] is missing"));
        }
    }
    for undecorated in ["DefaultInstall", "DefaultUninstall"] {
        if inf.has_section(undecorated) {
            fail("sections", format!("[{undecorated}] has no architecture decoration (.NTamd64)"));
        }
    }
    if inf.value("DefaultInstall.NTamd64", "CopyFiles").is_none() {
        fail("install-copyfiles", "[DefaultInstall.NTamd64] copies no files".into());
    }
    if inf.value("DefaultUninstall.NTamd64", "DelFiles").is_none() {
        fail("uninstall-delfiles", "[DefaultUninstall.NTamd64] deletes no files".into());
    }
    let del = inf.value("DefaultUninstall.NTamd64.Services", "DelService").map(split_fields);
    if del.as_ref().and_then(|f| f.first()).map(String::as_str) != Some(expect.service) {
        fail("uninstall-delservice", format!("DelService is {del:?}, not {}", expect.service));
    }

    // AddService = name, flags, install section.
    let add = inf.value("DefaultInstall.NTamd64.Services", "AddService").map(split_fields).unwrap_or_default();
    if add.first().map(String::as_str) != Some(expect.service) {
        fail("install-addservice", format!("AddService names {:?}, not {}", add.first(), expect.service));
    }
    let Some(service) = add.get(2).filter(|s| inf.has_section(s)).cloned() else {
        fail("install-addservice", format!("AddService {add:?} names no existing service section"));
        return out;
    };
    let sv = |k: &str| inf.value(&service, k).map(unquote);
    for (key, want, rule) in [
        ("ServiceType", 2, "service-type"),
        ("StartType", 3, "service-start"),
        ("ErrorControl", 1, "service-errorcontrol"),
    ] {
        if sv(key).and_then(parse_number) != Some(want) {
            fail(rule, format!("{key} is {:?}, not {want}", sv(key)));
        }
    }
    if sv("LoadOrderGroup") != Some("FSFilter Activity Monitor") {
        fail("service-loadordergroup", format!("LoadOrderGroup is {:?}", sv("LoadOrderGroup")));
    }
    if !sv("Dependencies").is_some_and(|d| d.split(',').any(|x| unquote(x).eq_ignore_ascii_case("FltMgr"))) {
        fail("service-dependencies", format!("Dependencies {:?} lacks FltMgr", sv("Dependencies")));
    }
    if !sv("ServiceBinary").is_some_and(|b| b.to_ascii_lowercase().ends_with(&format!("\\{}", expect.binary))) {
        fail("service-binary", format!("ServiceBinary {:?} is not ...\\{}", sv("ServiceBinary"), expect.binary));
    }
    if !inf
        .section("SourceDisksFiles")
        .unwrap_or(&[])
        .iter()
        .any(|l| l.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(expect.binary)))
    {
        fail("sourcedisksfiles", format!("[SourceDisksFiles] does not list {}", expect.binary));
    }

    // Registry: SupportedFeatures, DefaultInstance, the instance's Altitude and Flags.
    let reg: Vec<Vec<String>> = sv("AddReg")
        .map(|sections| sections.split(',').flat_map(|s| inf.reg_lines(s.trim())).collect())
        .unwrap_or_default();
    let find = |subkey: &str, name: &str| {
        reg.iter()
            .find(|f| {
                f.first().is_some_and(|r| r.eq_ignore_ascii_case("HKR"))
                    && f.get(1).is_some_and(|s| s.eq_ignore_ascii_case(subkey))
                    && f.get(2).is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .cloned()
    };
    const REG_SZ: u64 = 0x0000_0000;
    const REG_DWORD: u64 = 0x0001_0001;
    let typed =
        |f: &Option<Vec<String>>, ty: u64| f.as_ref().and_then(|f| f.get(3)).and_then(|t| parse_number(t)) == Some(ty);

    let features = find("Parameters", "SupportedFeatures");
    if !typed(&features, REG_DWORD) {
        fail("reg-supportedfeatures", "no REG_DWORD Parameters\\SupportedFeatures".into());
    }
    let default_instance = find("Parameters\\Instances", "DefaultInstance");
    let instance =
        default_instance.as_ref().filter(|_| typed(&default_instance, REG_SZ)).and_then(|f| f.get(4)).cloned();
    let Some(instance) = instance.filter(|i| !i.is_empty()) else {
        fail("reg-defaultinstance", "no REG_SZ Parameters\\Instances\\DefaultInstance".into());
        return out;
    };
    let instance_key = format!("Parameters\\Instances\\{instance}");
    let altitude = find(&instance_key, "Altitude");
    let altitude_value = altitude.as_ref().and_then(|f| f.get(4)).and_then(|a| a.parse::<u32>().ok());
    if !typed(&altitude, REG_SZ) || !altitude_value.is_some_and(|a| ACTIVITY_MONITOR_ALTITUDES.contains(&a)) {
        fail(
            "reg-altitude",
            format!("{instance_key}\\Altitude {altitude_value:?} is not a REG_SZ in {ACTIVITY_MONITOR_ALTITUDES:?}"),
        );
    }
    let flags = find(&instance_key, "Flags");
    if !typed(&flags, REG_DWORD) || flags.as_ref().and_then(|f| f.get(4)).and_then(|x| parse_number(x)).is_none() {
        fail("reg-flags", format!("{instance_key}\\Flags is not a REG_DWORD"));
    }
    out
}
