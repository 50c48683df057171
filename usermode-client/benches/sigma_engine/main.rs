//! Sigma engine benchmark: Vigil vs rsigma-eval (its indexed `Engine`, one
//! per logsource category), full SigmaHQ rule set, single thread, same
//! events, end to end from JSON lines to alerts.
//!
//! `cargo bench -p vigil --bench sigma_engine` generates two streams from
//! the regression events (mostly benign-looking mutations with many
//! distinct values), then runs every (engine, stream) pair in its own child
//! process so each peak RSS (VmHWM) is that engine's alone, and prints
//! events/s, the ratio and memory. `VIGIL_BENCH_EVENTS` sets the stream
//! length (default 40000).

#[path = "../../tests/common/mod.rs"]
mod common;
mod streams;

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

fn parent() {
    let n: usize = std::env::var("VIGIL_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(40_000);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let streams = streams::write_streams(&out, n);
    let exe = std::env::current_exe().expect("own path");
    println!("Sigma engine benchmark: {n} events per stream, single thread, JSON lines -> alerts");
    for (name, file) in &streams {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        println!("\nstream {name}: {} ({:.1} MB)", file.display(), size as f64 / 1e6);
        let mut results = Vec::new();
        for engine in ["vigil", "rsigma"] {
            let o = Command::new(&exe).args(["--child", engine]).arg(file).output().expect("child runs");
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            assert!(o.status.success(), "child {engine} failed: {text}{}", String::from_utf8_lossy(&o.stderr));
            print!("{text}");
            results.push(parse_result(&text));
        }
        let (v, r) = (results[0], results[1]);
        println!(
            "  => Vigil/rsigma-eval throughput ratio: {:.1}x; peak RSS ratio: {:.2} (Vigil {:.0} MB vs {:.0} MB)",
            v.0 / r.0,
            v.1 / r.1,
            v.1 / 1024.0,
            r.1 / 1024.0
        );
        assert_eq!(v.2, r.2, "alert counts differ between engines on {name}");
    }
}

/// `(events/s, VmHWM kB, alerts)` from a child's report.
fn parse_result(text: &str) -> (f64, f64, u64) {
    let get = |k: &str| {
        text.split_whitespace()
            .skip_while(|w| *w != k)
            .nth(1)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {k} in {text}"))
    };
    (get("events/s"), get("VmHWM_kB"), get("alerts") as u64)
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn child(engine: &str, file: &Path) {
    let rules_dir = common::dataset().join("rules");
    let data = std::fs::read(file).expect("stream");
    let t_load = Instant::now();
    let (events, alerts, secs) = match engine {
        "vigil" => {
            let (rules, errors) = vigil::sigma::RuleSet::load_dir(&rules_dir);
            assert!(errors.is_empty());
            let mut eng = vigil::sigma::Engine::new(&rules);
            let load = t_load.elapsed().as_secs_f64();
            println!("  vigil: rules compiled+indexed in {load:.2} s");
            let mut reader = vigil::input::json::JsonReader::new();
            let mut hits = Vec::new();
            let mut alerts = 0u64;
            let t = Instant::now();
            let stats = reader.read(
                file,
                &data,
                &mut |ev| {
                    eng.matches(ev, &mut hits);
                    alerts += hits.len() as u64;
                },
                &mut |e| panic!("{e}"),
            );
            (stats.events, alerts, t.elapsed().as_secs_f64())
        }
        _ => {
            let reference = common::reference::Reference::load(&rules_dir);
            assert!(reference.rejected.is_empty());
            let load = t_load.elapsed().as_secs_f64();
            println!("  rsigma-eval: rules compiled+indexed in {load:.2} s");
            let text = std::str::from_utf8(&data).expect("utf-8");
            let mut alerts = 0u64;
            let mut events = 0u64;
            let t = Instant::now();
            for line in text.lines().filter(|l| !l.is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).expect("json");
                let id = v.get("EventID").and_then(serde_json::Value::as_u64).unwrap_or(0) as u32;
                let Some(cat) = Category::from_sysmon_event_id(id) else { continue };
                events += 1;
                alerts += reference.eval_json(cat, &v).len() as u64;
            }
            (events, alerts, t.elapsed().as_secs_f64())
        }
    };
    let eps = events as f64 / secs;
    println!(
        "  {engine:6}: {events} events in {secs:.3} s = events/s {eps:.0} alerts {alerts} VmHWM_kB {}",
        vm_hwm_kb()
    );
}
