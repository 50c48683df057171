//! `vigil run --store` while records flow (Linux, shared-memory stand-in):
//! the producer (`vigil simulate-driver`), the analyzer and the operator's
//! `vigil content promote` are separate processes.
//!
//! Pack A (three demo rules) is the store's first pack. While the producer
//! writes a known number of records, pack B (the other three) is promoted,
//! then pack C, whose stored copy was tampered with. Asserted:
//! - every record produced is consumed exactly once across both swaps
//!   (records read == records produced, no Lost record on a ring big enough,
//!   no gap, decode error or resync);
//! - alerts on records up to the swap come from A's rules only, after it
//!   from B's only (the analyzer logs the record count each swap applies after);
//! - C is refused with an alert naming the file and the digest check, B stays
//!   active and keeps raising alerts, and the final statistics say so.
#![cfg(target_os = "linux")]

mod common;

use common::process::{Proc, drain, wait_line};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil::content::build::{PackInfo, assemble};
use vigil::content::pack::{self, TrustPolicy, hex};
use vigil::content::rollout::{Channel, Ring};
use vigil::replay::demo_rules;
use vigil::sigma::{CompileOptions, RuleSet};

const VIGIL: &str = env!("CARGO_BIN_EXE_vigil");

/// A pack of the demo rules `which`, version `version`.
fn pack(which: &[usize], version: u64) -> Vec<u8> {
    let sources: Vec<(String, String)> =
        which.iter().map(|&i| (demo_rules::SOURCES[i].0.to_owned(), demo_rules::SOURCES[i].1.to_owned())).collect();
    let info =
        PackInfo { pack_version: version, created: "2026-11-24T00:00:00Z".into(), compile: CompileOptions::default() };
    assemble(&sources, &info, None).unwrap()
}

/// Sigma ids of the demo rules `which`.
fn ids(which: &[usize]) -> BTreeSet<String> {
    let (set, errors) = RuleSet::from_sources(demo_rules::SOURCES);
    assert!(errors.is_empty());
    set.ids().enumerate().filter(|(i, _)| which.contains(i)).map(|(_, id)| set.meta(id).id.clone()).collect()
}

fn vigil(args: &[&str]) -> String {
    let out = std::process::Command::new(VIGIL).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "vigil {args:?}: {text}");
    text
}

fn write(path: &Path, bytes: &[u8]) -> String {
    std::fs::write(path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `records N` from a `stats:` line of `vigil run`.
fn records_in(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("stats: records ")?;
    rest.split(' ').next()?.replace(',', "").parse().ok()
}

/// N of the `[after record N]` a content line ends with.
fn after_record(line: &str) -> u64 {
    let n = line.rsplit("[after record ").next().and_then(|r| r.strip_suffix(']'));
    n.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no record count in {line:?}"))
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// Waits for the analyzer to have read `n` records; every stderr line goes to `log`.
fn wait_records(analyzer: &Proc, n: u64, log: &mut Vec<String>) {
    wait_line(&analyzer.err, Duration::from_secs(30), &mut |l| log.push(l.to_owned()), &|l| {
        records_in(l).is_some_and(|r| r >= n)
    });
}

#[test]
fn swaps_while_records_flow_lose_nothing_and_a_tampered_pack_is_refused() {
    let dir = std::env::temp_dir().join(format!("vigil-live-content-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (a_rules, b_rules) = ([0, 1, 2], [3, 4, 5]);
    let (a_ids, b_ids) = (ids(&a_rules), ids(&b_rules));
    let a = write(&dir.join("a.vpack"), &pack(&a_rules, 1));
    let b_bytes = pack(&b_rules, 2);
    let b = write(&dir.join("b.vpack"), &b_bytes);
    let c_bytes = pack(&[0, 1, 2, 3, 4, 5], 3);
    let c = write(&dir.join("c.vpack"), &c_bytes);
    let short = |bytes: &[u8]| hex(&pack::verify(bytes, &TrustPolicy::AllowUnsigned).unwrap().digest[..6]);

    // One ring of 100 % that does not bake: a promotion reaches this host at once.
    let mut channel = Channel::standard();
    channel.rings = vec![Ring { name: "all".into(), percent: 100.0, bake_minutes: 0 }];
    let channel_path = write(&dir.join("channel.json"), &serde_json::to_vec(&channel).unwrap());
    let store = dir.join("store");
    let store_arg = store.to_str().unwrap();
    vigil(&["content", "init", "--store", store_arg, "--channel", &channel_path]);
    vigil(&["content", "promote", "--store", store_arg, &a]);

    let name = format!("vigil-content-{}", std::process::id());
    let mut producer = Proc::spawn(
        VIGIL,
        &["simulate-driver", "--shm", &name, "--rate", "20000", "--events", "200000", "--seed", "5"]
            .into_iter()
            .chain(["--attack-runs", "10", "--shard-kib", "4096", "--heartbeat-ms", "200", "--start-delay-ms", "500"])
            .collect::<Vec<_>>(),
    );
    wait_line(&producer.err, Duration::from_secs(10), &mut |_| {}, &|l| l.starts_with("ready"));
    let summary = dir.join("summary.json");
    let source = format!("shm:{name}");
    let mut analyzer = Proc::spawn(
        VIGIL,
        &["run", "--source", &source, "--store", store_arg, "--host-id", "h1", "--content-poll", "0.05"]
            .into_iter()
            .chain(["--format", "json", "--stats-every", "0.1", "--summary", summary.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let mut log = Vec::new();

    // A good swap mid-stream.
    wait_records(&analyzer, 40_000, &mut log);
    vigil(&["content", "promote", "--store", store_arg, &b]);
    let b_short = short(&b_bytes);
    let b_line = wait_line(&analyzer.err, Duration::from_secs(20), &mut |l| log.push(l.to_owned()), &|l| {
        l.starts_with("content:") && l.contains(&b_short) && l.contains("active")
    });
    let swapped_after = after_record(&b_line);

    // A tampered pack: the store's copy of C has one byte flipped (the
    // promote checked the good file and keeps the copy already there).
    wait_records(&analyzer, swapped_after + 45_000, &mut log);
    vigil(&["content", "promote", "--store", store_arg, "--force"]);
    let c_digest = hex(&pack::verify(&c_bytes, &TrustPolicy::AllowUnsigned).unwrap().digest);
    let stored_c = store.join("packs").join(format!("{c_digest}.vpack"));
    let mut tampered = c_bytes.clone();
    tampered[c_bytes.len() / 2] ^= 0x20;
    std::fs::write(&stored_c, &tampered).unwrap();
    vigil(&["content", "promote", "--store", store_arg, &c]);
    let refused = wait_line(&analyzer.err, Duration::from_secs(20), &mut |l| log.push(l.to_owned()), &|l| {
        l.starts_with("content:") && l.contains("refused")
    });
    let refused_after = after_record(&refused);
    assert!(refused.contains(stored_c.to_str().unwrap()), "the alert names the file: {refused}");
    assert!(refused.contains("digest check failed"), "the alert names the check: {refused}");
    assert!(refused.contains(&format!("keeping {b_short}")), "B stays active: {refused}");

    // The producer finishes; the analyzer drains the rest, then stops.
    assert!(producer.wait_exit(Duration::from_secs(40)).success());
    let report = json(&wait_line(&producer.out, Duration::from_secs(5), &mut |_| {}, &|l| l.starts_with('{')));
    wait_line(&analyzer.err, Duration::from_secs(20), &mut |l| log.push(l.to_owned()), &|l| l.contains("detached:"));
    analyzer.signal(libc::SIGTERM);
    assert!(analyzer.wait_exit(Duration::from_secs(10)).success());
    log.extend(drain(&analyzer.err));

    // (a) Every record produced was consumed, once.
    let produced: u64 = report["shards"].as_array().unwrap().iter().map(|s| s["produced"].as_u64().unwrap()).sum();
    let s = json(&std::fs::read_to_string(&summary).unwrap());
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(report["dropped"].as_u64(), Some(0), "the ring is big enough: {report}");
    assert_eq!(n("records") + n("lost_events"), produced, "consumed + Lost == produced: {s}");
    assert_eq!((n("lost_events"), n("lost_records")), (0, 0), "{s}");
    assert_eq!((n("decode_errors"), n("resyncs"), n("seq_gaps")), (0, 0, 0), "{s}");
    assert_eq!(n("attaches"), 1, "{s}");

    // (b) and (c): which pack raised which alert, by record.
    let alerts: Vec<(u64, String)> = drain(&analyzer.out)
        .iter()
        .map(|l| json(l))
        .map(|v| (v["record"].as_u64().unwrap(), v["rule_id"].as_str().unwrap().to_owned()))
        .collect();
    let window = |lo: u64, hi: u64| -> BTreeSet<String> {
        alerts.iter().filter(|(r, _)| *r > lo && *r <= hi).map(|(_, id)| id.clone()).collect()
    };
    let before = window(0, swapped_after);
    let between = window(swapped_after, refused_after);
    let after = window(refused_after, u64::MAX);
    assert!(!before.is_empty() && before.is_subset(&a_ids), "A's rules before the swap: {before:?}");
    assert!(!between.is_empty() && between.is_subset(&b_ids), "B's rules after the swap: {between:?}");
    assert!(!after.is_empty() && after.is_subset(&b_ids), "B's rules after C's refusal: {after:?}");

    let content = &s["content"];
    let b_digest = hex(&pack::verify(&b_bytes, &TrustPolicy::AllowUnsigned).unwrap().digest);
    assert_eq!(content["pack"].as_str(), Some(b_digest.as_str()), "{s}");
    assert_eq!((content["swaps"].as_u64(), content["refusals"].as_u64()), (Some(1), Some(1)), "{s}");
    assert_eq!(content["quarantined"].as_u64(), Some(0), "{s}");
    let last = log.iter().rev().find(|l| l.starts_with("content: pack")).unwrap_or_else(|| panic!("{log:#?}"));
    assert!(last.contains(&b_short) && last.contains("swaps 1, refused 1"), "{last}");
    eprintln!(
        "{produced} records; swap after record {swapped_after}, refusal after record {refused_after}; \
         {} alerts ({} / {} / {} rules per window)",
        alerts.len(),
        before.len(),
        between.len(),
        after.len()
    );
    let _ = std::fs::remove_dir_all(PathBuf::from(&dir));
}
