//! The `vigil` binary: `demo` and `replay` as a user runs them.

use std::process::Command;

fn vigil(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).output().expect("run vigil")
}

#[test]
fn demo_prints_json_alerts_with_rule_metadata_and_stats() {
    let out = vigil(&["demo", "--events", "5000", "--seed", "3", "--format", "json", "--threads", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let alerts: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(alerts.len(), 10, "one attack chain: 10 alerts\n{stdout}");
    for a in &alerts {
        for key in ["rule_id", "rule_title", "level", "tags", "author", "event"] {
            assert!(!a[key].is_null(), "{key} missing in {a}");
        }
        assert_eq!(a["author"], "Vigil project");
        assert!(a["event"]["Image"].is_string());
    }
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("events by category: process_creation"), "{stderr}");
    assert!(stderr.contains("alerts: 10"), "{stderr}");
}

#[test]
fn replay_reads_a_kept_demo_capture_and_reports_bad_inputs() {
    let dir = std::env::temp_dir().join(format!("vigil-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("d.vcap");
    let junk = dir.join("junk.json");
    std::fs::write(&junk, b"{ not json").unwrap();
    let out = vigil(&["demo", "--events", "3000", "--out", cap.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(cap.exists(), "--out keeps the capture");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/demo");
    let out = vigil(&["replay", cap.to_str().unwrap(), junk.to_str().unwrap(), "--rules", rules, "--threads", "1"]);
    assert!(out.status.success(), "a malformed record is reported, not fatal");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains("Office Application Spawns a Shell"), "{stdout}");
    assert!(stdout.contains("replayed 2 input(s)"), "{stdout}");
    assert!(stderr.contains("junk.json: record 1"), "the bad input is named: {stderr}");
    let out = vigil(&["replay", dir.join("missing.vcap").to_str().unwrap(), "--rules", rules]);
    assert!(!out.status.success(), "an unreadable input fails the run");
    std::fs::remove_dir_all(&dir).unwrap();
}
