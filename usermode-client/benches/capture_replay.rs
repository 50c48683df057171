//! Capture replay throughput: Vigil's own records (no JSON) through mapping
//! and the Sigma engine, against two baselines measured in the same run:
//!
//! - **decode only**: reading and validating the capture's records, the
//!   upper bound for anything that consumes them;
//! - **JSON path**: the same events rendered as flat Sysmon JSON lines and
//!   replayed through the JSON reader and the same engine (what Vigil would
//!   cost if the kernel records went through a JSON export first).
//!
//! Each stage runs single-threaded on the calling thread; rates are per CPU
//! second of that thread (Linux: `/proc/thread-self/schedstat`, so other
//! load on the machine does not count) and per wall second. Best of
//! `VIGIL_BENCH_REPS` (default 3) runs of `VIGIL_BENCH_EVENTS` (default
//! 1,000,000) records. Rule sets: the demo rules, and SigmaHQ's Windows
//! rules from `../shared/datasets/sigma/rules` when present.
//!
//! Run: `cargo bench -p vigil --bench capture_replay`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vigil::capture::{CaptureReader, CaptureWriter, Item};
use vigil::enrich::{AccountTable, VolumeTable};
use vigil::event::{Category, Event, Value};
use vigil::mapping::Mapper;
use vigil::replay::{self, Callbacks, ReplayOptions, demo_rules};
use vigil::sigma::{Engine, RuleSet};
use vigil::synth::{self, Workload};

/// CPU time of this thread in seconds, where the OS tells it.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

#[derive(Clone, Copy, Debug)]
struct Timing {
    events: u64,
    cpu: Option<f64>,
    wall: f64,
}

impl Timing {
    fn per_cpu(&self) -> Option<f64> {
        self.cpu.map(|c| self.events as f64 / c)
    }
    fn per_wall(&self) -> f64 {
        self.events as f64 / self.wall
    }
    /// The rate used for comparisons: per CPU second where known.
    fn rate(&self) -> f64 {
        self.per_cpu().unwrap_or_else(|| self.per_wall())
    }
}

fn best_of(reps: usize, mut f: impl FnMut() -> u64) -> Timing {
    let mut best: Option<Timing> = None;
    for _ in 0..reps {
        let (c0, w0) = (thread_cpu(), Instant::now());
        let events = f();
        let wall = w0.elapsed().as_secs_f64();
        let cpu = thread_cpu().zip(c0).map(|(a, b)| a - b);
        let t = Timing { events, cpu, wall };
        if best.is_none_or(|b| t.rate() > b.rate()) {
            best = Some(t);
        }
    }
    best.unwrap_or(Timing { events: 0, cpu: None, wall: 1.0 })
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn mapper_for(path: &Path) -> Mapper {
    let r = CaptureReader::open(path).expect("bench capture");
    let mut v = VolumeTable::new();
    r.info().volumes.iter().for_each(|x| v.insert(&x.device, &x.dos));
    let mut a = AccountTable::new();
    r.info().accounts.iter().for_each(|(s, n)| a.insert(s, n));
    let mut m = Mapper::new(v, a);
    m.pe = None;
    m.set_computer(Some(r.info().host.clone()));
    m
}

fn decode_only(path: &Path) -> u64 {
    let mut r = CaptureReader::open(path).expect("bench capture");
    let mut n = 0;
    r.for_each(|i| {
        if let Item::Record { record, .. } = i {
            n += u64::from(record.header().size > 0);
        }
    });
    n
}

fn decode_map(path: &Path) -> u64 {
    let mut m = mapper_for(path);
    let mut e = Event::new(Category::ProcessCreation);
    let mut r = CaptureReader::open(path).expect("bench capture");
    let mut n = 0;
    r.for_each(|i| {
        if let Item::Record { record, .. } = i {
            n += u64::from(m.map(&record, &mut e).is_ok());
        }
    });
    n
}

fn full_replay(path: &Path, engine: &Engine) -> (u64, u64) {
    let mut alerts = 0;
    let stats = replay::replay(
        &[path.to_path_buf()],
        engine,
        ReplayOptions { threads: 1, pe_metadata: false },
        Callbacks { on_alert: &mut |_| alerts += 1, on_error: &mut |e| panic!("{e}"), on_progress: &mut |_| {} },
    );
    (stats.total_events(), alerts)
}

/// The mapped events as flat Sysmon JSON lines (only events Sysmon has an
/// EventID for: the JSON reader has no other way to know the category).
fn render_json(capture: &Path, out: &Path) -> u64 {
    let mut m = mapper_for(capture);
    let mut e = Event::new(Category::ProcessCreation);
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).expect("json file"));
    let mut r = CaptureReader::open(capture).expect("bench capture");
    let mut n = 0;
    r.for_each(|i| {
        let Item::Record { record, .. } = i else { return };
        if m.map(&record, &mut e).is_err() || e.get(vigil::event::Field::EventID).is_none() {
            return;
        }
        let mut obj = serde_json::Map::new();
        obj.insert("Provider_Name".into(), "Microsoft-Windows-Sysmon".into());
        obj.insert("Channel".into(), "Microsoft-Windows-Sysmon/Operational".into());
        for (k, v) in e.fields() {
            let v = match v {
                Value::Str(s) => serde_json::Value::from(s),
                Value::Int(i) => serde_json::Value::from(i),
            };
            obj.insert(k.to_owned(), v);
        }
        let _ = writeln!(w, "{}", serde_json::Value::Object(obj));
        n += 1;
    });
    w.flush().expect("json file");
    n
}

fn print_row(name: &str, t: &Timing, extra: &str) {
    let cpu = t.cpu.map_or("-".to_owned(), |c| format!("{c:.3}"));
    let per_cpu = t.per_cpu().map_or("-".to_owned(), |r| format!("{:.0}", r));
    println!("{name:<44} {:>10} {cpu:>9} {per_cpu:>12} {:>9.3} {:>12.0}  {extra}", t.events, t.wall, t.per_wall());
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // of note. Either way the bench runs; keep test runs short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = env_u64("VIGIL_BENCH_EVENTS", if quick { 20_000 } else { 1_000_000 });
    let reps = env_u64("VIGIL_BENCH_REPS", if quick { 1 } else { 3 }) as usize;
    let dir = std::env::temp_dir().join(format!("vigil-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let capture = dir.join("bench.vcap");
    let json = dir.join("bench.jsonl");

    let mut w = CaptureWriter::create(&capture, &Workload::capture_info()).expect("capture");
    let records = synth::write_capture(Workload::new(7, n), &mut w).expect("capture").len();
    w.finish().expect("capture");
    let json_events = render_json(&capture, &json);
    let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "workload: {records} records (seed 7), capture {:.1} MB, JSON lines {:.1} MB ({json_events} events with a Sysmon EventID)",
        size(&capture),
        size(&json)
    );

    let (demo, _) = demo_rules::load();
    let sigma_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/sigma/rules");
    let sigmahq = sigma_dir.is_dir().then(|| RuleSet::load_dir(&sigma_dir));
    let mut sets: Vec<(&str, &RuleSet)> = vec![("demo rules", &demo)];
    if let Some((set, _)) = &sigmahq {
        sets.push(("SigmaHQ rules", set));
    } else {
        println!("SigmaHQ rules not found at {} (skipped)", sigma_dir.display());
    }

    println!(
        "\n{:<44} {:>10} {:>9} {:>12} {:>9} {:>12}",
        "stage (1 thread)", "events", "cpu s", "events/cpu-s", "wall s", "events/wall-s"
    );
    let decode = best_of(reps, || decode_only(&capture));
    print_row("capture: decode only (upper bound)", &decode, "");
    let map = best_of(reps, || decode_map(&capture));
    print_row("capture: decode + map", &map, "");
    let mut summary = Vec::new();
    for (name, set) in &sets {
        let engine = Engine::new(set);
        let mut alerts = 0;
        let cap = best_of(reps, || {
            let (e, a) = full_replay(&capture, &engine);
            alerts = a;
            e
        });
        print_row(&format!("capture: decode + map + {name} ({})", set.len()), &cap, &format!("{alerts} alerts"));
        let mut json_alerts = 0;
        let js = best_of(reps, || {
            let (e, a) = full_replay(&json, &engine);
            json_alerts = a;
            e
        });
        print_row(&format!("JSON lines + {name} (baseline)"), &js, &format!("{json_alerts} alerts"));
        summary.push((name.to_string(), cap, js));
    }
    println!();
    for (name, cap, js) in &summary {
        println!(
            "{name}: capture path {:.0} events/cpu-s = {:.2}x the JSON path, {:.0}% of decode-only",
            cap.rate(),
            cap.rate() / js.rate(),
            100.0 * cap.rate() / decode.rate()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
