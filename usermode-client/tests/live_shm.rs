//! The live path end to end on Linux: the stand-in producer
//! (`vigil simulate-driver`, the protocol's producer driven as vigil.sys
//! drives it) and the analyzer (`vigil run --source shm:<name>`) as separate
//! processes sharing a /dev/shm region.
//!
//! - The demo rules fire on exactly the alerts a replay of the same workload
//!   raises, before and after the analyzer is killed (SIGKILL) and
//!   restarted; the producer finishes its run on schedule meanwhile (it
//!   never waits), the restarted analyzer's Lost records carry exactly the
//!   producer's drop count, and no record is corrupted (no decode error,
//!   resync or sequence gap). Its capture replays to the same alerts and
//!   carries the host's volume table.
//! - A hostile process scribbling over the shared header while the producer
//!   runs cannot make it misbehave: it finishes on schedule with consistent
//!   private counters, and the analyzer reading the scribbled ring survives.
#![cfg(target_os = "linux")]

mod common;

use common::process::{Proc, drain, wait_line};
use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vigil::capture::{CaptureReader, CaptureWriter};
use vigil::live::shm::files::{ShmNames, read_stats};
use vigil::replay::{self, Callbacks, ReplayOptions, demo_rules};
use vigil::sigma::{Engine, RuleSet};
use vigil::synth::{self, Workload};

const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");
/// The tests are timing-sensitive on a small machine: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// What identifies an alert independently of when it was raised.
type Key = (String, String, String, String, String, String);

fn json_key(line: &str) -> Key {
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let f = |name: &str| match &v["event"][name] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let rule = v["rule_id"].as_str().unwrap_or_default().to_owned();
    (rule, f("ProcessId"), f("Image"), f("CommandLine"), f("TargetFilename"), f("ImageLoaded"))
}

fn alert_key(rules: &RuleSet, a: &replay::Alert) -> Key {
    let f = |name: &str| a.field(name).unwrap_or_default();
    (rules.meta(a.rule).id.clone(), f("ProcessId"), f("Image"), f("CommandLine"), f("TargetFilename"), f("ImageLoaded"))
}

/// Replays `capture` with the demo rules: `(record number, key)` per alert.
fn replay_keys(capture: &Path) -> Vec<(u64, Key)> {
    let (rules, _) = demo_rules::load();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    replay::replay(
        &[capture.to_path_buf()],
        &Engine::new(&rules),
        ReplayOptions { threads: 1, pe_metadata: false },
        Callbacks {
            on_alert: &mut |a| out.push((a.record, alert_key(&rules, a))),
            on_error: &mut |e| problems.push(e.to_string()),
            on_progress: &mut |_| {},
        },
    );
    assert!(problems.is_empty(), "{problems:?}");
    out
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-live-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `records N` from a `stats:` line of `vigil run`.
fn records_in(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("stats: records ")?;
    rest.split(' ').next()?.replace(',', "").parse().ok()
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// Per shard: every push was written or dropped, and the producer's
/// private counters agree (Lost records are written without a push).
fn assert_consistent(report: &serde_json::Value) {
    for (i, s) in report["shards"].as_array().unwrap().iter().enumerate() {
        let n = |k: &str| s[k].as_u64().unwrap();
        assert_eq!(n("pushes"), n("written") + n("dropped"), "shard {i}: {s}");
        assert_eq!(n("written"), n("produced") - n("lost_records"), "shard {i}: {s}");
        assert_eq!(n("dropped"), n("dropped_full") + n("dropped_oversize"), "shard {i}: {s}");
    }
}

const SEED: u64 = 7;
const EVENTS: u64 = 120_000;
const RATE: u64 = 20_000;

#[test]
fn rules_fire_end_to_end_across_an_analyzer_kill_and_restart() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("e2e");
    // Ground truth: the same workload through capture and replay.
    let reference = dir.join("reference.vcap");
    let mut w = CaptureWriter::create(&reference, &Workload::capture_info()).unwrap();
    let total = synth::write_capture(Workload::with_attack_runs(SEED, EVENTS, 2), &mut w).unwrap().len() as u64;
    w.finish().unwrap();
    let expected = replay_keys(&reference);
    let first: BTreeSet<Key> = expected.iter().filter(|(r, _)| *r <= total / 2).map(|(_, k)| k.clone()).collect();
    let second: BTreeSet<Key> = expected.iter().filter(|(r, _)| *r > total / 2).map(|(_, k)| k.clone()).collect();
    assert!(first.len() >= 6 && second.len() >= 6, "each attack run raises alerts: {first:?} {second:?}");

    let name = format!("vigil-e2e-{}", std::process::id());
    let names = ShmNames::new(&name).unwrap();
    let started = Instant::now();
    let (events, rate) = (EVENTS.to_string(), RATE.to_string());
    let mut producer = Proc::spawn(
        VIGIL,
        &["simulate-driver", "--shm", &name, "--rate", &rate, "--events", &events, "--seed", "7"]
            .into_iter()
            .chain(["--attack-runs", "2", "--shard-kib", "512", "--heartbeat-ms", "200"])
            .collect::<Vec<_>>(),
    );
    wait_line(&producer.err, Duration::from_secs(10), &mut |_| {}, &|l| l.starts_with("ready"));

    // Analyzer A: sees the first attack run, then is killed mid-stream.
    let source = format!("shm:{name}");
    let mut a = Proc::spawn(VIGIL, &["run", "--source", &source, "--format", "json", "--stats-every", "0.1"]);
    let mut a_alerts = BTreeSet::new();
    let until_a = Instant::now() + Duration::from_secs(20);
    loop {
        for l in drain(&a.out) {
            a_alerts.insert(json_key(&l));
        }
        let progressed = drain(&a.err).iter().filter_map(|l| records_in(l)).max().unwrap_or(0);
        if progressed >= total * 7 / 20 && a_alerts.len() >= first.len() {
            break;
        }
        assert!(Instant::now() < until_a, "analyzer A did not get through the first attack run");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The exact Lost accounting below assumes A kept up (0.5 s of records
    // per shard of slack); say so if this machine was too busy for that.
    let before_kill = read_stats(&names.stats).map_or(0, |s| s.total.dropped());
    assert_eq!(before_kill, 0, "the producer dropped while analyzer A was attached: machine overloaded?");
    a.signal(libc::SIGKILL);
    a.wait_exit(Duration::from_secs(5));
    a_alerts.extend(drain(&a.out).iter().map(|l| json_key(l)));
    assert_eq!(a_alerts, first, "analyzer A raised exactly the first attack run's alerts");

    // Nobody reads: the ring fills and the producer drops (without waiting).
    let until_drops = Instant::now() + Duration::from_secs(10);
    while read_stats(&names.stats).map_or(0, |s| s.total.dropped()) < 2_000 {
        assert!(Instant::now() < until_drops, "the producer never dropped while no analyzer was attached");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Analyzer B: resumes where A released, records a capture.
    let capture = dir.join("live.vcap");
    let summary = dir.join("summary.json");
    let mut b = Proc::spawn(
        VIGIL,
        &["run", "--source", &source, "--format", "json", "--stats-every", "0.2"]
            .into_iter()
            .chain(["--record", capture.to_str().unwrap(), "--summary", summary.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );

    // The producer finishes on schedule: it never waited for anyone.
    let status = producer.wait_exit(Duration::from_secs(EVENTS / RATE + 15));
    assert!(status.success(), "producer: {status}");
    let produced_in = started.elapsed();
    let report = json(&wait_line(&producer.out, Duration::from_secs(5), &mut |_| {}, &|l| l.starts_with('{')));
    assert_eq!(report["offered"].as_u64(), Some(total));
    assert!(produced_in < Duration::from_secs(EVENTS / RATE + 10), "the producer took {produced_in:?}");
    assert_consistent(&report);
    let dropped = report["dropped"].as_u64().unwrap();
    assert!(dropped >= 2_000, "{report}");

    // B drains what is left when the producer's region goes away; then stop it.
    wait_line(&b.err, Duration::from_secs(20), &mut |_| {}, &|l| l.contains("detached:"));
    b.signal(libc::SIGTERM);
    let status = b.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "analyzer B: {status}");
    let b_alerts: BTreeSet<Key> = drain(&b.out).iter().map(|l| json_key(l)).collect();
    assert_eq!(b_alerts, second, "analyzer B raised exactly the second attack run's alerts");

    let s = json(&std::fs::read_to_string(&summary).unwrap());
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("lost_events"), dropped, "B's Lost records carry exactly the producer's drops: {s}");
    assert!(n("lost_records") >= 1);
    assert_eq!((n("decode_errors"), n("resyncs"), n("seq_gaps")), (0, 0, 0), "{s}");
    assert_eq!(n("attaches"), 1);

    // The capture replays to the same alerts, with the stand-in host's tables.
    let info = CaptureReader::open(&capture).unwrap().info().clone();
    assert_eq!(info.volumes, Workload::volumes());
    assert_eq!(info.host, synth::catalog::HOST);
    assert_eq!(n("captured"), n("records"));
    let replayed: BTreeSet<Key> = replay_keys(&capture).into_iter().map(|(_, k)| k).collect();
    assert_eq!(replayed, b_alerts, "the capture replays to the live alerts");
    assert!(names.all().iter().all(|p| !p.exists()), "the producer removed its names");
    eprintln!(
        "producer: {total} records in {produced_in:.1?}, dropped {dropped} while no analyzer was attached; \
         A: {} alerts; B: {} alerts, {} Lost records carrying {}; capture {} records",
        a_alerts.len(),
        b_alerts.len(),
        n("lost_records"),
        n("lost_events"),
        n("captured")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hostile_process_scribbling_the_header_cannot_make_the_producer_misbehave() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("hostile");
    let name = format!("vigil-hostile-{}", std::process::id());
    let names = ShmNames::new(&name).unwrap();
    let (events, rate) = (60_000u64, 30_000u64);
    let args = ["simulate-driver", "--shm", &name, "--rate", &rate.to_string(), "--events", &events.to_string()]
        .map(str::to_owned)
        .into_iter()
        .chain(["--shard-kib", "64", "--heartbeat-ms", "100"].map(str::to_owned))
        .collect::<Vec<_>>();
    let mut producer = Proc::spawn(VIGIL, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_line(&producer.err, Duration::from_secs(10), &mut |_| {}, &|l| l.starts_with("ready"));
    let summary = dir.join("summary.json");
    let source = format!("shm:{name}");
    let mut analyzer =
        Proc::spawn(VIGIL, &["run", "--source", &source, "--format", "json", "--summary", summary.to_str().unwrap()]);
    // Attached before the scribbling starts (a header scribbled before the
    // attach is refused, and the analyzer keeps retrying: its own loss).
    wait_line(&analyzer.err, Duration::from_secs(10), &mut |_| {}, &|l| l.contains("attached:"));

    // Scribble: random words over the whole header (identification, the
    // waiting flag, every shard's published and consumer positions) through
    // the file, which is the same memory the producer maps.
    let region = std::fs::OpenOptions::new().write(true).open(&names.ring).unwrap();
    let header = vigil_protocol::ring::RingLayout::new(4, 64 * 1024).unwrap().header_size() as u64;
    let started = Instant::now();
    let mut rng = vigil::synth::Rng::new(99);
    let mut scribbles = 0u64;
    while producer.child.try_wait().unwrap().is_none() {
        for _ in 0..256 {
            let at = rng.below(header / 8) * 8;
            let word = match rng.below(4) {
                0 => rng.next_u64(),
                1 => rng.below(1 << 20) * 8, // plausible positions
                2 => 1,
                _ => u64::MAX,
            };
            region.write_all_at(&word.to_le_bytes(), at).unwrap();
            scribbles += 1;
        }
        assert!(started.elapsed() < Duration::from_secs(events / rate + 15), "the producer hangs");
        std::thread::sleep(Duration::from_micros(200));
    }
    let status = producer.wait_exit(Duration::from_secs(1));
    assert!(status.success(), "producer: {status}");
    let report = json(&wait_line(&producer.out, Duration::from_secs(5), &mut |_| {}, &|l| l.starts_with('{')));
    assert!(report["offered"].as_u64().unwrap() >= events, "the producer ran its whole workload: {report}");
    assert_consistent(&report);
    let rejects: u64 =
        report["shards"].as_array().unwrap().iter().map(|s| s["consumer_rejects"].as_u64().unwrap()).sum();
    assert!(rejects > 0, "the producer noticed the invalid consumer positions: {report}");

    // The analyzer read a scribbled ring and is still well: it stops cleanly.
    wait_line(&analyzer.err, Duration::from_secs(20), &mut |_| {}, &|l| l.contains("detached:"));
    analyzer.signal(libc::SIGTERM);
    assert!(analyzer.wait_exit(Duration::from_secs(10)).success());
    let s = json(&std::fs::read_to_string(&summary).unwrap());
    eprintln!(
        "hostile: {scribbles} scribbles in {:.1?}; producer {} records, {} consumer rejects, dropped {}; \
         analyzer read {} records, {} resyncs, {} decode errors, {} gaps",
        started.elapsed(),
        report["offered"],
        rejects,
        report["dropped"],
        s["records"],
        s["resyncs"],
        s["decode_errors"],
        s["seq_gaps"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_analyzer_follows_the_producer_through_a_crash_and_a_restart() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("restart");
    let name = format!("vigil-restart-{}", std::process::id());
    let names = ShmNames::new(&name).unwrap();
    let summary = dir.join("summary.json");
    let source = format!("shm:{name}");
    // The analyzer starts first and waits for a producer.
    let mut analyzer = Proc::spawn(
        VIGIL,
        &["run", "--source", &source, "--stats-every", "0.1", "--summary", summary.to_str().unwrap()],
    );
    let mut log = Vec::new();
    wait_line(&analyzer.err, Duration::from_secs(10), &mut |l| log.push(l.to_owned()), &|l| {
        l.contains("no such region")
    });

    // Producer 1 crashes mid-run (SIGKILL): its region stays, stale.
    let sim = |events: &str| {
        Proc::spawn(VIGIL, &["simulate-driver", "--shm", &name, "--rate", "40000", "--events", events, "--seed", "3"])
    };
    let mut first = sim("1000000");
    wait_line(&analyzer.err, Duration::from_secs(10), &mut |l| log.push(l.to_owned()), &|l| {
        records_in(l).is_some_and(|n| n >= 10_000)
    });
    first.signal(libc::SIGKILL);
    first.wait_exit(Duration::from_secs(5));
    assert!(names.ring.exists(), "a crashed producer leaves its region");

    // Producer 2 publishes a new region under the same name and finishes.
    let mut second = sim("20000");
    assert!(second.wait_exit(Duration::from_secs(20)).success());
    let report = json(&wait_line(&second.out, Duration::from_secs(5), &mut |_| {}, &|l| l.starts_with('{')));
    wait_line(&analyzer.err, Duration::from_secs(20), &mut |l| log.push(l.to_owned()), &|l| {
        l.contains("removed its region")
    });
    analyzer.signal(libc::SIGTERM);
    assert!(analyzer.wait_exit(Duration::from_secs(10)).success());
    log.extend(drain(&analyzer.err));
    assert!(log.iter().any(|l| l.contains("replaced its region (it restarted)")), "{log:#?}");

    let s = json(&std::fs::read_to_string(&summary).unwrap());
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!((n("attaches"), n("detaches")), (2, 2), "{s}");
    assert_eq!((n("decode_errors"), n("resyncs"), n("seq_gaps")), (0, 0, 0), "{s}");
    let second_records: u64 =
        report["shards"].as_array().unwrap().iter().map(|s| s["produced"].as_u64().unwrap()).sum();
    assert!(n("records") >= 10_000 + second_records, "both producers' records were read: {s}");
    let _ = std::fs::remove_dir_all(&dir);
}
