//! Benchmark streams generated from the regression events: mostly
//! benign-looking copies (benign images, command lines, file and DLL paths
//! with many distinct random parts) plus ~2% original malicious events, as
//! flat JSON lines (the SIEM export shape both engines read).

use crate::common::{self, mutate::Rng};
use std::path::{Path, PathBuf};
use vigil::event::{Category, Event, Value};

const IMAGES: &[&str] = &[
    r"C:\Windows\System32\svchost.exe",
    r"C:\Windows\explorer.exe",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    r"C:\Windows\System32\RuntimeBroker.exe",
    r"C:\Windows\System32\conhost.exe",
    r"C:\Windows\System32\taskhostw.exe",
    r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
    r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
    r"C:\Windows\System32\SearchProtocolHost.exe",
    r"C:\Program Files\Mozilla Firefox\firefox.exe",
    r"C:\Windows\System32\backgroundTaskHost.exe",
    r"C:\Program Files\Notepad++\notepad++.exe",
    r"C:\Users\Public\AppData\Local\Programs\Microsoft VS Code\Code.exe",
    r"C:\Windows\System32\dllhost.exe",
    r"C:\Program Files\Git\cmd\git.exe",
];
const ARGS: &[&str] = &[
    "-k netsvcs -p -s Schedule",
    "--type=renderer --field-trial-handle=1876,{} --lang=en-US --renderer-client-id={}",
    "/processid:{{{}}}",
    "--no-startup-window --win-session-start",
    "0xffffffff -ForceV1",
    "-Embedding",
    "/prefetch:{}",
    "status --porcelain --untracked-files=no --ignore-submodules={}",
    "C:\\Users\\{}\\Documents\\report-{}.docx",
    "-contentproc --channel={} -parentBuildID {} -prefsLen {} gpu",
];
const DLLS: &[&str] = &[
    "ntdll.dll",
    "kernel32.dll",
    "KernelBase.dll",
    "user32.dll",
    "gdi32.dll",
    "combase.dll",
    "rpcrt4.dll",
    "ole32.dll",
    "shell32.dll",
    "msvcp_win.dll",
    "ucrtbase.dll",
    "bcrypt.dll",
    "sechost.dll",
    "advapi32.dll",
];
const DIRS: &[&str] = &[
    r"C:\Users\{}\AppData\Local\Temp\",
    r"C:\Users\{}\Downloads\",
    r"C:\ProgramData\Microsoft\Windows\WER\Temp\",
    r"C:\Users\{}\AppData\Local\Google\Chrome\User Data\Default\Cache\",
    r"C:\Windows\SoftwareDistribution\Download\",
];
const EXTS: &[&str] = &["tmp", "log", "json", "db", "txt", "dat", "cache", "etl"];
const USERS: &[&str] = &["alice", "bob", "carol", "dave", "svc_backup", "erin"];

fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len())]
}

fn fill(rng: &mut Rng, template: &str) -> String {
    let mut out = String::new();
    let mut parts = template.split("{}");
    out.push_str(parts.next().unwrap_or(""));
    for p in parts {
        match rng.below(3) {
            0 => out.push_str(pick(rng, USERS)),
            1 => out.push_str(&format!("{}", rng.next() % 100_000)),
            _ => out.push_str(&format!("{:08X}", rng.next() as u32)),
        }
        out.push_str(p);
    }
    out
}

fn hex(rng: &mut Rng, n: usize) -> String {
    (0..n).map(|_| char::from_digit((rng.next() % 16) as u32, 16).unwrap_or('0').to_ascii_uppercase()).collect()
}

/// A benign-looking copy of `ev` (same fields, new values).
fn benign(ev: &Event, rng: &mut Rng) -> serde_json::Map<String, serde_json::Value> {
    let image = pick(rng, IMAGES).to_owned();
    let base = image.rsplit('\\').next().unwrap_or("").to_owned();
    let parent = pick(rng, IMAGES).to_owned();
    let mut m = serde_json::Map::new();
    for (name, v) in ev.fields() {
        let s = match name {
            "Image" => image.clone(),
            "ParentImage" => parent.clone(),
            "CommandLine" | "ParentCommandLine" => {
                let exe = if name == "CommandLine" { &image } else { &parent };
                let args = pick(rng, ARGS);
                format!("\"{exe}\" {}", fill(rng, args))
            }
            "OriginalFileName" => base.clone(),
            "Description" | "Product" => base.trim_end_matches(".exe").to_owned(),
            "Company" => "Microsoft Corporation".to_owned(),
            "CurrentDirectory" => fill(rng, r"C:\Users\{}\"),
            "User" | "ParentUser" => format!("CORP\\{}", pick(rng, USERS)),
            "Hashes" => format!("MD5={},SHA256={},IMPHASH={}", hex(rng, 32), hex(rng, 64), hex(rng, 32)),
            "ProcessGuid" | "ParentProcessGuid" | "LogonGuid" => format!("{{{}}}", hex(rng, 32)),
            "TargetFilename" => {
                let dir = pick(rng, DIRS);
                let dir = fill(rng, dir);
                format!("{dir}{}.{}", hex(rng, 10), pick(rng, EXTS))
            }
            "ImageLoaded" => format!(r"C:\Windows\System32\{}", pick(rng, DLLS)),
            "Signed" => "true".to_owned(),
            "Signature" => "Microsoft Windows".to_owned(),
            "SignatureStatus" => "Valid".to_owned(),
            _ => {
                m.insert(name.to_owned(), to_json(v));
                continue;
            }
        };
        m.insert(name.to_owned(), serde_json::Value::String(s));
    }
    m
}

fn to_json(v: Value<'_>) -> serde_json::Value {
    match v {
        Value::Str(s) => serde_json::Value::String(s.to_owned()),
        Value::Int(i) => serde_json::Value::from(i),
    }
}

fn original(ev: &Event) -> serde_json::Map<String, serde_json::Value> {
    ev.fields().map(|(n, v)| (n.to_owned(), to_json(v))).collect()
}

/// Writes `process_creation` and `mixed` streams of `n` events; returns `(name, path)`.
pub fn write_streams(dir: &Path, n: usize) -> Vec<(&'static str, PathBuf)> {
    let root = common::dataset();
    let mut by_cat: Vec<(Category, Vec<Event>)> = Vec::new();
    for case in common::manifest() {
        for ev in common::read_events(&root.join(&case.json_path)) {
            match by_cat.iter_mut().find(|(c, _)| *c == ev.category()) {
                Some((_, v)) => v.push(ev),
                None => by_cat.push((ev.category(), vec![ev])),
            }
        }
    }
    let events_of = |c: Category| by_cat.iter().find(|(x, _)| *x == c).map(|(_, v)| v.as_slice()).unwrap_or(&[]);
    let mix: &[(&'static str, &[(Category, usize)])] = &[
        ("process_creation", &[(Category::ProcessCreation, 100)]),
        ("mixed", &[(Category::ProcessCreation, 30), (Category::ImageLoad, 40), (Category::FileEvent, 30)]),
    ];
    let mut out = Vec::new();
    for (name, shares) in mix {
        let mut rng = Rng::new(0xB3_4C_11 + name.len() as u64);
        let mut text = String::new();
        for _ in 0..n {
            let mut roll = rng.below(100);
            let cat = shares
                .iter()
                .find(|(_, pct)| {
                    let hit = roll < *pct;
                    roll = roll.saturating_sub(*pct);
                    hit
                })
                .map_or(shares[0].0, |(c, _)| *c);
            let pool = events_of(cat);
            let ev = &pool[rng.below(pool.len())];
            let mut m = if rng.below(100) < 2 { original(ev) } else { benign(ev, &mut rng) };
            m.insert("Provider_Name".into(), "Microsoft-Windows-Sysmon".into());
            m.insert("Channel".into(), "Microsoft-Windows-Sysmon/Operational".into());
            m.insert("Computer".into(), format!("ws-{:04}.corp.example", rng.below(5000)).into());
            text.push_str(&serde_json::Value::Object(m).to_string());
            text.push('\n');
        }
        let path = dir.join(format!("sigma-bench-{name}.jsonl"));
        std::fs::write(&path, text).expect("write stream");
        out.push((*name, path));
    }
    out
}
