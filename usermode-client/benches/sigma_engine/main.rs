//! Sigma engine benchmark: Vigil vs rsigma-eval (its indexed `Engine`, one
//! per logsource category), full SigmaHQ rule set, single thread, same
//! events, end to end from a JSON-lines file to alerts.
//!
//! `cargo bench -p vigil --bench sigma_engine` writes two streams (see
//! `streams.rs`), then runs each (engine, stream) pair `VIGIL_BENCH_REPS`
//! times (default 3), alternating engines, each run in its own child
//! process so its peak RSS (VmHWM) is that engine's alone. Both children
//! stream the file (Vigil: `JsonReader::read_stream`; rsigma: a
//! `BufReader` line by line into `serde_json::Value`), so neither holds the
//! input in memory. Printed: events/s (median), the ratio, peak RSS, alert
//! counts and rate, and the rules that fired most. The alerts of both
//! engines must agree (count and a digest of every (event, rule) pair).
//! Then the JSON reader runs alone on the same file (`vigil-json`), to show
//! how Vigil's time splits between reading and matching.
//! `VIGIL_BENCH_EVENTS` sets the stream length (default 100000).

mod catalog;
#[path = "../../tests/common/mod.rs"]
mod common;
mod streams;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use vigil::event::Category;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let engine = args.get(i + 1).expect("engine");
        let file = PathBuf::from(args.get(i + 2).expect("stream file"));
        child(engine, &file);
        return;
    }
    // `cargo bench` passes `--bench`; anything else is ignored.
    parent();
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One child's report.
#[derive(Clone, Copy, Debug)]
struct Run {
    eps: f64,
    hwm_kb: f64,
    alerts: u64,
    alerted: u64,
    events: u64,
    digest: u64,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn parent() {
    let n = env_or("VIGIL_BENCH_EVENTS", 100_000);
    let reps = env_or("VIGIL_BENCH_REPS", 3).max(1);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let t = Instant::now();
    let streams = streams::write_streams(&out, n);
    let exe = std::env::current_exe().expect("own path");
    println!(
        "Sigma engine benchmark: {n} events per stream ({}% regression events), {reps} runs per engine, \
         single thread, streamed JSON lines -> alerts (streams written in {:.1} s)",
        streams::MALICIOUS_PCT,
        t.elapsed().as_secs_f64()
    );
    for (name, file) in &streams {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        println!("\nstream {name}: {} ({:.1} MB)", file.display(), size as f64 / 1e6);
        let mut runs: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
        for rep in 0..reps {
            for (k, engine) in ["vigil", "rsigma"].into_iter().enumerate() {
                let o = Command::new(&exe).args(["--child", engine]).arg(file).output().expect("child runs");
                let text = String::from_utf8_lossy(&o.stdout).to_string();
                assert!(o.status.success(), "child {engine} failed: {text}{}", String::from_utf8_lossy(&o.stderr));
                if rep == 0 {
                    print!("{text}");
                } else {
                    print!(
                        "{}",
                        text.lines().filter(|l| l.contains("events/s")).map(|l| format!("{l}\n")).collect::<String>()
                    );
                }
                runs[k].push(parse_result(&text));
            }
        }
        let (v, r) = (&runs[0], &runs[1]);
        let (v0, r0) = (v[0], r[0]);
        assert_eq!((v0.alerts, v0.digest), (r0.alerts, r0.digest), "alerts differ between engines on {name}");
        assert_eq!(v0.events, r0.events, "event counts differ on {name}");
        let (ve, re) = (median(v.iter().map(|x| x.eps).collect()), median(r.iter().map(|x| x.eps).collect()));
        let (vm, rm) = (median(v.iter().map(|x| x.hwm_kb).collect()), median(r.iter().map(|x| x.hwm_kb).collect()));
        println!(
            "  => {name}: Vigil {ve:.0} events/s vs rsigma-eval {re:.0} events/s (medians of {reps}): ratio {:.1}x",
            ve / re
        );
        println!(
            "  => {name}: peak RSS Vigil {:.1} MB vs rsigma-eval {:.1} MB: ratio {:.2}",
            vm / 1024.0,
            rm / 1024.0,
            vm / rm
        );
        println!(
            "  => {name}: {} alerts on {} of {} events (alert rate {:.2}% of events), identical in both engines",
            v0.alerts,
            v0.alerted,
            v0.events,
            100.0 * v0.alerted as f64 / v0.events.max(1) as f64
        );
        // Where Vigil's time goes: the same file read by the JSON reader
        // alone (no matching), median of `reps` runs.
        let json: Vec<f64> = (0..reps)
            .map(|_| {
                let o = Command::new(&exe).args(["--child", "vigil-json"]).arg(file).output().expect("child runs");
                let text = String::from_utf8_lossy(&o.stdout).to_string();
                assert!(o.status.success(), "child vigil-json failed: {text}");
                parse_result(&text).eps
            })
            .collect();
        let je = median(json);
        println!(
            "  => {name}: JSON reading alone {je:.0} events/s (median of {reps}): about {:.0}% of Vigil's end-to-end time \
             ({:.2} of {:.2} us per event), the rest is matching",
            100.0 * ve / je,
            1e6 / je,
            1e6 / ve
        );
    }
}

fn parse_result(text: &str) -> Run {
    let text = text.lines().rfind(|l| l.contains("events/s")).unwrap_or_else(|| panic!("no result in {text}"));
    let get = |k: &str| {
        text.split_whitespace()
            .skip_while(|w| *w != k)
            .nth(1)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {k} in {text}"))
    };
    let digest = text
        .split_whitespace()
        .skip_while(|w| *w != "digest")
        .nth(1)
        .and_then(|v| u64::from_str_radix(v, 16).ok())
        .unwrap_or_else(|| panic!("no digest in {text}"));
    Run {
        eps: get("events/s"),
        hwm_kb: get("VmHWM_kB"),
        alerts: get("alerts") as u64,
        alerted: get("alerted_events") as u64,
        events: get("events") as u64,
        digest,
    }
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Order-independent digest of (event number, Sigma rule id) pairs.
#[derive(Default)]
struct Digest(u64);

impl Digest {
    fn add(&mut self, event: u64, rule: &str) {
        let mut h = 0xcbf2_9ce4_8422_2325u64 ^ event.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in rule.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3);
        }
        self.0 = self.0.wrapping_add(h);
    }
}

fn child(engine: &str, file: &Path) {
    let rules_dir = common::dataset().join("rules");
    let t_load = Instant::now();
    let mut digest = Digest::default();
    let (mut alerts, mut alerted, mut events) = (0u64, 0u64, 0u64);
    let secs = match engine {
        "vigil" => {
            let rss_start = status_kb("VmRSS:");
            let (rules, errors) = vigil::sigma::RuleSet::load_dir(&rules_dir);
            assert!(errors.is_empty());
            let rss_rules = status_kb("VmRSS:");
            let mut eng = vigil::sigma::Engine::new(&rules);
            let load = t_load.elapsed().as_secs_f64();
            println!(
                "  vigil: {} rules compiled+indexed in {load:.2} s; RSS {:.1} MB at start, {:.1} MB with rules, \
                 {:.1} MB with engine (scan index {:.1} MB)",
                rules.len(),
                rss_start as f64 / 1024.0,
                rss_rules as f64 / 1024.0,
                status_kb("VmRSS:") as f64 / 1024.0,
                eng.index_bytes() as f64 / 1e6
            );
            let mut reader = vigil::input::json::JsonReader::new();
            let mut hits = Vec::new();
            let mut per_rule = vec![0u64; rules.len()];
            let t = Instant::now();
            let mut f = std::fs::File::open(file).expect("stream");
            reader
                .read_stream(
                    file,
                    &mut f,
                    &mut |ev| {
                        eng.matches(ev, &mut hits);
                        if !hits.is_empty() {
                            alerted += 1;
                            alerts += hits.len() as u64;
                            for &id in &hits {
                                per_rule[id.index()] += 1;
                                digest.add(events, &rules.meta(id).id);
                            }
                        }
                        events += 1;
                    },
                    &mut |e| panic!("{e}"),
                )
                .expect("readable");
            let secs = t.elapsed().as_secs_f64();
            let mut top: Vec<(u64, usize)> = per_rule.iter().enumerate().map(|(i, &c)| (c, i)).collect();
            top.sort_unstable_by(|a, b| b.cmp(a));
            let list: Vec<String> = top
                .iter()
                .take_while(|(c, _)| *c > 0)
                .take(6)
                .map(|&(c, i)| format!("{c} x {}", rules.meta(vigil::sigma::RuleId(i as u32)).title))
                .collect();
            println!("  vigil: most alerts: {}", list.join("; "));
            secs
        }
        "vigil-json" => {
            let mut reader = vigil::input::json::JsonReader::new();
            let t = Instant::now();
            let mut f = std::fs::File::open(file).expect("stream");
            reader
                .read_stream(
                    file,
                    &mut f,
                    &mut |ev| {
                        std::hint::black_box(ev);
                        events += 1;
                    },
                    &mut |e| panic!("{e}"),
                )
                .expect("readable");
            t.elapsed().as_secs_f64()
        }
        _ => {
            let rss_start = status_kb("VmRSS:");
            let reference = common::reference::Reference::load(&rules_dir);
            assert!(reference.rejected.is_empty());
            let load = t_load.elapsed().as_secs_f64();
            println!(
                "  rsigma-eval: rules compiled+indexed in {load:.2} s; RSS {:.1} MB at start, {:.1} MB with rules",
                rss_start as f64 / 1024.0,
                status_kb("VmRSS:") as f64 / 1024.0
            );
            let t = Instant::now();
            let f = std::fs::File::open(file).expect("stream");
            let mut input = std::io::BufReader::with_capacity(256 << 10, f);
            let mut line = String::new();
            while input.read_line(&mut line).expect("read") > 0 {
                if !line.trim().is_empty() {
                    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
                    let id = v.get("EventID").and_then(serde_json::Value::as_u64).unwrap_or(0) as u32;
                    if let Some(cat) = Category::from_sysmon_event_id(id) {
                        let ids = reference.eval_json(cat, &v);
                        if !ids.is_empty() {
                            alerted += 1;
                            alerts += ids.len() as u64;
                            for r in &ids {
                                digest.add(events, r);
                            }
                        }
                        events += 1;
                    }
                }
                line.clear();
            }
            t.elapsed().as_secs_f64()
        }
    };
    let eps = events as f64 / secs;
    println!(
        "  {engine:6}: events {events} in {secs:.3} s = events/s {eps:.0} alerts {alerts} alerted_events {alerted} \
         digest {:016x} VmHWM_kB {}",
        digest.0,
        status_kb("VmHWM:")
    );
}
