//! Benchmark streams: Sysmon events of a simulated workstation fleet as
//! flat JSON lines (the SIEM export shape both engines read).
//!
//! Benign events come from [`crate::catalog`]: real programs with matching
//! version metadata, their usual command lines and parents, DLL loads from
//! System32 and Program Files, file writes in user, temp and AppData
//! directories, with many distinct values (users, hosts, ids, GUIDs, file
//! names, per-binary hashes). A small share (`MALICIOUS_PCT`) are the
//! SigmaHQ regression events themselves, unmodified.

use crate::catalog::{self, Account, COMMON_DLLS, DLLS, Dll, PROGRAMS, Program};
use crate::common::{self, mutate::Rng};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vigil::event::{Category, Event, Value};

/// Percent of events that are original regression (malicious) events.
pub const MALICIOUS_PCT: f64 = 1.5;

/// Stream name and category shares in percent.
pub const STREAMS: &[(&str, &[(Category, u32)])] = &[
    ("process_creation", &[(Category::ProcessCreation, 100)]),
    (
        "mixed",
        &[
            (Category::ProcessCreation, 25),
            (Category::ImageLoad, 40),
            (Category::FileEvent, 25),
            (Category::FileDelete, 5),
            (Category::ProcessTermination, 5),
        ],
    ),
];

struct Gen<'a> {
    rng: Rng,
    /// Regression events by category.
    malicious: &'a [(Category, Vec<Event>)],
    total_weight: u32,
    /// Milliseconds since the start of the simulated day.
    clock: u64,
}

/// A flat JSON object under construction.
struct Obj(String);

impl Obj {
    fn new(event_id: u32, computer: &str) -> Obj {
        let mut o = Obj(String::with_capacity(1500));
        o.0.push('{');
        o.int("EventID", event_id as i64);
        o.str("Provider_Name", "Microsoft-Windows-Sysmon");
        o.str("Channel", "Microsoft-Windows-Sysmon/Operational");
        o.str("Computer", computer);
        o
    }

    fn key(&mut self, k: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&serde_json::to_string(k).unwrap_or_default());
        self.0.push(':');
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.0.push_str(&serde_json::to_string(v).unwrap_or_default());
    }

    fn int(&mut self, k: &str, v: i64) {
        self.key(k);
        let _ = write!(self.0, "{v}");
    }

    fn line(mut self) -> String {
        self.0.push_str("}\n");
        self.0
    }
}

/// Stable pseudo-random hex for `seed` (per-binary hashes).
fn stable_hex(seed: &str, salt: u64, n: usize) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ salt;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3);
    }
    let mut r = Rng::new(h);
    (0..n).map(|_| char::from_digit((r.next() % 16) as u32, 16).unwrap_or('0').to_ascii_uppercase()).collect()
}

/// Who runs a program on a host.
struct Who {
    user: &'static str,
    account: String,
    logon_id: String,
    session: i64,
    integrity: &'static str,
}

impl Gen<'_> {
    fn pick<'b, T>(&mut self, xs: &'b [T]) -> &'b T {
        &xs[self.rng.below(xs.len())]
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit((self.rng.next() % 16) as u32, 16).unwrap_or('0').to_ascii_uppercase())
            .collect()
    }

    fn guid(&mut self) -> String {
        format!("{}-{}-{}-{}-{}", self.hex(8), self.hex(4), self.hex(4), self.hex(4), self.hex(12))
    }

    fn program(&mut self) -> &'static Program {
        let mut roll = self.rng.below(self.total_weight as usize) as u32;
        for p in PROGRAMS {
            if roll < p.weight {
                return p;
            }
            roll -= p.weight;
        }
        &PROGRAMS[0]
    }

    fn by_key(key: &str) -> &'static Program {
        PROGRAMS.iter().find(|p| p.key == key).unwrap_or(&PROGRAMS[0])
    }

    fn fill(&mut self, template: &str, user: &str) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            let Some(j) = tail.find('}') else { break };
            let name = &tail[1..j];
            let sub = match name {
                "user" => user.to_owned(),
                "n" => format!("{}", self.rng.next() % 100_000),
                "hex" => self.hex(8).to_ascii_lowercase(),
                "HEX" => self.hex(8),
                "guid" => format!("{{{}}}", self.guid()),
                "doc" => {
                    let d = *self.pick(catalog::DOCS);
                    self.fill(d, user)
                }
                "proj" => (*self.pick(catalog::PROJECTS)).to_owned(),
                "word" => (*self.pick(catalog::WORDS)).to_owned(),
                "svc" => (*self.pick(catalog::SERVICES)).to_owned(),
                "EXE" => {
                    let p = self.program();
                    p.image.rsplit('\\').next().unwrap_or("X.EXE").to_uppercase()
                }
                // Not a placeholder (e.g. a literal GUID in a command line).
                _ => tail[..=j].to_owned(),
            };
            out.push_str(&sub);
            rest = &tail[j + 1..];
        }
        out.push_str(rest);
        out
    }

    fn time(&mut self) -> String {
        self.clock += 1 + self.rng.below(40) as u64;
        let ms = self.clock;
        let (h, m, s) = (ms / 3_600_000 % 24, ms / 60_000 % 60, ms / 1000 % 60);
        format!("2026-11-23 {h:02}:{m:02}:{s:02}.{:03}", ms % 1000)
    }

    fn host(&mut self) -> (String, &'static str) {
        let h = self.rng.below(600);
        (format!("WS-{h:04}.contoso.local"), catalog::USERS[h % catalog::USERS.len()])
    }

    fn who(&mut self, p: &Program, user: &'static str) -> Who {
        let (account, logon_id, session, integrity) = match p.account {
            Account::System => ("NT AUTHORITY\\SYSTEM".to_owned(), "0x3e7".to_owned(), 0, "System"),
            Account::LocalService => ("NT AUTHORITY\\LOCAL SERVICE".to_owned(), "0x3e5".to_owned(), 0, "System"),
            Account::NetworkService => ("NT AUTHORITY\\NETWORK SERVICE".to_owned(), "0x3e4".to_owned(), 0, "System"),
            Account::Interactive => {
                let lid = format!("0x{:x}", 0x30000 + stable_hex(user, 7, 4).len() * 4096 + user.len());
                let il = if self.rng.below(50) == 0 { "High" } else { "Medium" };
                (format!("CONTOSO\\{user}"), lid, 1, il)
            }
        };
        Who { user, account, logon_id, session, integrity }
    }

    fn image(&mut self, p: &Program, user: &str) -> String {
        self.fill(p.image, user)
    }

    fn hashes(image: &str) -> String {
        let key = image.to_ascii_lowercase();
        format!(
            "MD5={},SHA256={},IMPHASH={}",
            stable_hex(&key, 1, 32),
            stable_hex(&key, 2, 64),
            stable_hex(&key, 3, 32)
        )
    }

    fn process_creation(&mut self) -> String {
        let (computer, user) = self.host();
        let p = self.program();
        let who = self.who(p, user);
        let parent_key = *self.pick(p.parents);
        let parent = Self::by_key(parent_key);
        let pwho = self.who(parent, user);
        let image = self.image(p, who.user);
        let cmd = {
            let c = *self.pick(p.cmds);
            self.fill(c, who.user)
        };
        let pimage = self.image(parent, user);
        let pcmd = {
            let c = *self.pick(parent.cmds);
            self.fill(c, user)
        };
        let cwd = match p.account {
            Account::Interactive if self.rng.below(3) > 0 => format!("C:\\Users\\{user}\\"),
            Account::Interactive => format!("{}\\", image.rsplit_once('\\').map_or("C:", |(d, _)| d)),
            _ => "C:\\Windows\\system32\\".to_owned(),
        };
        let mut o = Obj::new(1, &computer);
        o.str("RuleName", "-");
        let t = self.time();
        o.str("UtcTime", &t);
        let g = self.guid();
        o.str("ProcessGuid", &g);
        o.int("ProcessId", 1000 + self.rng.below(30_000) as i64);
        o.str("Image", &image);
        o.str("FileVersion", p.version);
        o.str("Description", p.description);
        o.str("Product", p.product);
        o.str("Company", p.company);
        o.str("OriginalFileName", p.original);
        o.str("CommandLine", &cmd);
        o.str("CurrentDirectory", &cwd);
        o.str("User", &who.account);
        let lg = self.guid();
        o.str("LogonGuid", &lg);
        o.str("LogonId", &who.logon_id);
        o.int("TerminalSessionId", who.session);
        o.str("IntegrityLevel", who.integrity);
        o.str("Hashes", &Self::hashes(&image));
        let pg = self.guid();
        o.str("ParentProcessGuid", &pg);
        o.int("ParentProcessId", 500 + self.rng.below(30_000) as i64);
        o.str("ParentImage", &pimage);
        o.str("ParentCommandLine", &pcmd);
        o.str("ParentUser", &pwho.account);
        o.line()
    }

    fn dll(&mut self, p: &Program) -> &'static Dll {
        if !p.dlls.is_empty() && self.rng.below(4) == 0 {
            let key = *self.pick(p.dlls);
            if let Some(d) = DLLS.iter().find(|d| d.key == key) {
                return d;
            }
        }
        self.pick(COMMON_DLLS)
    }

    fn image_load(&mut self) -> String {
        let (computer, user) = self.host();
        let p = self.program();
        let who = self.who(p, user);
        let image = self.image(p, user);
        let mut o = Obj::new(7, &computer);
        o.str("RuleName", "-");
        let t = self.time();
        o.str("UtcTime", &t);
        let g = self.guid();
        o.str("ProcessGuid", &g);
        o.int("ProcessId", 1000 + self.rng.below(30_000) as i64);
        o.str("Image", &image);
        if self.rng.below(20) == 0 {
            // The executable's own image.
            o.str("ImageLoaded", &image);
            o.str("FileVersion", p.version);
            o.str("Description", p.description);
            o.str("Product", p.product);
            o.str("Company", p.company);
            o.str("OriginalFileName", p.original);
            o.str("Hashes", &Self::hashes(&image));
            o.str("Signed", "true");
            o.str("Signature", if p.company == "Microsoft Corporation" { "Microsoft Windows" } else { p.company });
        } else {
            let d = self.dll(p);
            o.str("ImageLoaded", d.path);
            o.str("FileVersion", d.version);
            o.str("Description", d.description);
            o.str("Product", d.product);
            o.str("Company", d.company);
            o.str("OriginalFileName", d.original);
            o.str("Hashes", &Self::hashes(d.path));
            o.str("Signed", "true");
            o.str("Signature", d.signature);
        }
        o.str("SignatureStatus", "Valid");
        o.str("User", &who.account);
        o.line()
    }

    /// A program that writes files, and one file it writes.
    fn written_file(&mut self, user: &'static str) -> (&'static Program, String) {
        let p = loop {
            let p = self.program();
            if !p.writes.is_empty() || self.rng.below(5) == 0 {
                break p;
            }
        };
        let target = if p.writes.is_empty() || self.rng.below(6) == 0 {
            let ext = *self.pick(&["tmp", "log", "json", "dat", "etl", "db-journal"]);
            match p.account {
                Account::Interactive => format!("C:\\Users\\{user}\\AppData\\Local\\Temp\\{}.{ext}", self.hex(8)),
                _ => format!("C:\\Windows\\Temp\\{}.{ext}", self.hex(8)),
            }
        } else {
            let w = *self.pick(p.writes);
            self.fill(w, user)
        };
        (p, target)
    }

    fn file_event(&mut self) -> String {
        let (computer, user) = self.host();
        let (p, target) = self.written_file(user);
        let who = self.who(p, user);
        let image = self.image(p, user);
        let mut o = Obj::new(11, &computer);
        o.str("RuleName", "-");
        let t = self.time();
        o.str("UtcTime", &t);
        let g = self.guid();
        o.str("ProcessGuid", &g);
        o.int("ProcessId", 1000 + self.rng.below(30_000) as i64);
        o.str("Image", &image);
        o.str("TargetFilename", &target);
        o.str("CreationUtcTime", &t);
        o.str("User", &who.account);
        o.line()
    }

    fn file_delete(&mut self) -> String {
        let (computer, user) = self.host();
        let (p, target) = self.written_file(user);
        let who = self.who(p, user);
        let image = self.image(p, user);
        let mut o = Obj::new(if self.rng.below(4) == 0 { 26 } else { 23 }, &computer);
        o.str("RuleName", "-");
        let t = self.time();
        o.str("UtcTime", &t);
        let g = self.guid();
        o.str("ProcessGuid", &g);
        o.int("ProcessId", 1000 + self.rng.below(30_000) as i64);
        o.str("User", &who.account);
        o.str("Image", &image);
        o.str("TargetFilename", &target);
        o.str("Hashes", &Self::hashes(&target));
        o.str("IsExecutable", "false");
        o.str("Archived", "false");
        o.line()
    }

    fn process_termination(&mut self) -> String {
        let (computer, user) = self.host();
        let p = self.program();
        let who = self.who(p, user);
        let image = self.image(p, user);
        let mut o = Obj::new(5, &computer);
        o.str("RuleName", "-");
        let t = self.time();
        o.str("UtcTime", &t);
        let g = self.guid();
        o.str("ProcessGuid", &g);
        o.int("ProcessId", 1000 + self.rng.below(30_000) as i64);
        o.str("Image", &image);
        o.str("User", &who.account);
        o.line()
    }

    fn malicious(&mut self, cat: Category) -> Option<String> {
        let pool = &self.malicious.iter().find(|(c, _)| *c == cat)?.1;
        let ev = &pool[self.rng.below(pool.len())];
        let id = ev.get(vigil::event::Field::EventID).and_then(|v| match v {
            Value::Int(i) => Some(i),
            Value::Str(_) => None,
        })?;
        let (computer, _) = self.host();
        let mut o = Obj::new(id as u32, &computer);
        for (name, v) in ev.fields() {
            match (name, v) {
                ("EventID" | "Provider_Name" | "Channel" | "Computer", _) => {}
                (_, Value::Str(s)) => o.str(name, s),
                (_, Value::Int(i)) => o.int(name, i),
            }
        }
        Some(o.line())
    }

    fn event(&mut self, cat: Category) -> String {
        if (self.rng.below(10_000) as f64) < MALICIOUS_PCT * 100.0
            && let Some(line) = self.malicious(cat)
        {
            return line;
        }
        match cat {
            Category::ImageLoad => self.image_load(),
            Category::FileEvent => self.file_event(),
            Category::FileDelete => self.file_delete(),
            Category::ProcessTermination => self.process_termination(),
            _ => self.process_creation(),
        }
    }
}

/// Writes every stream of [`STREAMS`] with `n` events; returns `(name, path)`.
pub fn write_streams(dir: &Path, n: usize) -> Vec<(&'static str, PathBuf)> {
    let root = common::dataset();
    let mut malicious: Vec<(Category, Vec<Event>)> = Vec::new();
    for case in common::manifest() {
        for ev in common::read_events(&root.join(&case.json_path)) {
            match malicious.iter_mut().find(|(c, _)| *c == ev.category()) {
                Some((_, v)) => v.push(ev),
                None => malicious.push((ev.category(), vec![ev])),
            }
        }
    }
    let total_weight = PROGRAMS.iter().map(|p| p.weight).sum();
    let mut out = Vec::new();
    for (i, (name, shares)) in STREAMS.iter().enumerate() {
        let path = dir.join(format!("sigma-bench-{name}-{n}.jsonl"));
        out.push((*name, path.clone()));
        let mut g = Gen { rng: Rng::new(0x5EED_0000 + i as u64), malicious: &malicious, total_weight, clock: 0 };
        let mut text = String::with_capacity(n * 1200);
        for _ in 0..n {
            let mut roll = g.rng.below(100) as u32;
            let cat = shares
                .iter()
                .find(|(_, pct)| {
                    let hit = roll < *pct;
                    roll = roll.saturating_sub(*pct);
                    hit
                })
                .map_or(shares[0].0, |(c, _)| *c);
            text.push_str(&g.event(cat));
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write stream");
        std::fs::rename(&tmp, &path).expect("rename stream");
    }
    out
}
