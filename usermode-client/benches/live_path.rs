//! The live path end to end: `vigil simulate-driver` (a separate process,
//! the protocol's producer driven as vigil.sys drives it) offers a synthetic
//! workstation's records at a fixed rate; this process runs the live
//! analyzer (`vigil::live::run`, what `vigil run --source shm:` runs) with
//! the demo rules, and optionally SigmaHQ's.
//!
//! Reported per offered rate: records offered and dropped by the producer,
//! events analyzed per second, and latency from commit (the record's
//! timestamp, taken by the producer at the push, CLOCK_REALTIME as FILETIME)
//! to the engine's decision (every event) and to the emitted alert (every
//! alert), on the same clock (see `vigil::live::clock`).
//!
//! `cargo bench -p vigil --bench live_path [-- --sigmahq] [-- --seconds N]`
//! (the rates are 100 k/s and 1 M/s; `--rates 50000,200000` picks others).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use vigil::content::check::Budget;
use vigil::content::runtime::{ActiveContent, Evaluator};
use vigil::live::pipeline::{Callbacks, Notice};
use vigil::live::shm::ShmProvider;
use vigil::live::source::{Backoff, RingSource, SourceEvent};
use vigil::live::{LiveOptions, LiveStats};
use vigil::replay::demo_rules;
use vigil::sigma::RuleSet;

const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");

struct Args {
    rates: Vec<u64>,
    seconds: f64,
    sigmahq: bool,
}

fn args() -> Args {
    let mut a = Args { rates: vec![100_000, 1_000_000], seconds: 4.0, sigmahq: false };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--sigmahq" => a.sigmahq = true,
            "--seconds" => a.seconds = it.next().and_then(|s| s.parse().ok()).expect("--seconds N"),
            "--rates" => {
                a.rates = it.next().expect("--rates A,B").split(',').map(|r| r.parse().expect("rate")).collect();
            }
            _ => {} // `--bench` and filters from cargo
        }
    }
    a
}

fn rules(sigmahq: bool) -> (String, RuleSet) {
    if !sigmahq {
        let (set, errors) = demo_rules::load();
        assert!(errors.is_empty());
        return ("demo (6 rules)".into(), set);
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/sigma/rules");
    let (set, errors) = RuleSet::load_dir(&dir);
    (format!("SigmaHQ ({} rules, {} refused)", set.len(), errors.len()), set)
}

struct Run {
    producer: serde_json::Value,
    stats: LiveStats,
}

fn run_once(rate: u64, seconds: f64, content: &Arc<ActiveContent>) -> Run {
    let events = (rate as f64 * seconds) as u64;
    let name = format!("vigil-bench-{}-{rate}", std::process::id());
    // One attack chain per 5,000 records: enough alerts for their latency.
    let runs = (events / 5_000).max(1);
    let producer = Command::new(VIGIL)
        .args(["simulate-driver", "--shm", &name, "--rate", &rate.to_string(), "--events", &events.to_string()])
        .args(["--attack-runs", &runs.to_string(), "--pregenerate", "--start-delay-ms", "300"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vigil simulate-driver");

    let provider = ShmProvider::new(&name).unwrap();
    let mut source =
        RingSource::new(provider, Backoff { min: Duration::from_millis(5), max: Duration::from_millis(20) });
    let stop = AtomicBool::new(false);
    let opts = LiveOptions::default();
    let (stats, _) = vigil::live::run(
        &mut source,
        Evaluator::new(Arc::clone(content), Budget::default()),
        &opts,
        &stop,
        Callbacks {
            on_alert: &mut |_, _| {},
            on_notice: &mut |n| {
                if let Notice::Source(SourceEvent::Detached { .. }) = n {
                    stop.store(true, Ordering::Relaxed);
                }
            },
        },
    );
    let out = producer.wait_with_output().expect("producer");
    let producer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("producer report");
    Run { producer, stats }
}

fn us(ns: u64) -> String {
    format!("{:.0}", ns as f64 / 1000.0)
}

fn main() {
    let a = args();
    let (label, set) = rules(a.sigmahq);
    let content = Arc::new(ActiveContent::fixed(set));
    println!("live path, rules: {label}, {} s per rate", a.seconds);
    println!(
        "{:>10} {:>10} {:>10} {:>9} {:>11} {:>13} {:>15} {:>15} {:>8}",
        "offered/s",
        "offered",
        "achieved/s",
        "dropped",
        "analyzed",
        "analyzed/s",
        "match p50/p99µs",
        "alert p50/p99µs",
        "alerts"
    );
    for &rate in &a.rates {
        let r = run_once(rate, a.seconds, &content);
        let s = &r.stats;
        let p = &r.producer;
        let offered = p["offered"].as_u64().unwrap_or(0);
        let analyzed = s.total_events();
        println!(
            "{:>10} {:>10} {:>10.0} {:>9} {:>11} {:>13.0} {:>15} {:>15} {:>8}",
            rate,
            offered,
            p["offered_per_s"].as_f64().unwrap_or(0.0),
            p["dropped"].as_u64().unwrap_or(0),
            analyzed,
            analyzed as f64 / s.active.as_secs_f64().max(1e-9),
            format!("{}/{}", us(s.commit_to_match.quantile(0.5)), us(s.commit_to_match.quantile(0.99))),
            format!("{}/{}", us(s.commit_to_alert.quantile(0.5)), us(s.commit_to_alert.quantile(0.99))),
            s.total_alerts(),
        );
        println!(
            "           lost (Lost records): {}, gaps {}, resyncs {}, decode errors {}, behind schedule at end {:.3} s, max match latency {} µs",
            s.source.merge.lost_events,
            s.source.merge.seq_gaps,
            s.source.consumer.resyncs,
            s.source.consumer.decode_errors,
            p["behind_s"].as_f64().unwrap_or(0.0),
            us(s.commit_to_match.max()),
        );
    }
}
