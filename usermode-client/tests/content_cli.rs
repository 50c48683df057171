//! `vigil content` as an operator runs it: keys, build, check, the store
//! commands, and the exit status and per-rule report of each.

use std::path::{Path, PathBuf};
use std::process::Command;
use vigil::content::rollout::{HostReport, Store};

fn vigil(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil")).args(args).output().expect("run vigil");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-content-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/demo");
const SMALL: [&str; 2] = ["--corpus-records", "1500"];

#[test]
fn build_sign_check_and_refuse() {
    let d = temp("build");
    let (ok, out) = vigil(&["content", "keygen", "-o", s(&d.join("op"))]);
    assert!(ok, "{out}");
    let pack = d.join("demo.vpack");
    let secret = d.join("op.secret");
    let mut args = vec!["content", "build", DEMO, "-o", s(&pack), "--pack-version", "7", "--sign", s(&secret)];
    args.extend(SMALL);
    let (ok, out) = vigil(&args);
    assert!(ok, "{out}");
    assert!(out.contains("6 rules: 6 passed, 0 failed") && out.contains("version 7, 6 rules"), "{out}");

    let (ok, out) = vigil(&["content", "check", s(&pack), "--key", s(&d.join("op.pub")), SMALL[0], SMALL[1]]);
    assert!(ok, "{out}");
    assert!(out.contains("signature verified") && out.contains("PASS  office_spawns_shell.yml"), "{out}");

    // Another operator's key: refused before anything is parsed.
    let (ok, _) = vigil(&["content", "keygen", "-o", s(&d.join("other"))]);
    assert!(ok);
    let (ok, out) = vigil(&["content", "check", s(&pack), "--key", s(&d.join("other.pub"))]);
    assert!(!ok && out.contains("REFUSED") && out.contains("which this analyzer does not trust"), "{out}");

    // Truncated in transit.
    let bytes = std::fs::read(&pack).unwrap();
    let cut = d.join("cut.vpack");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let (ok, out) = vigil(&["content", "check", s(&cut)]);
    assert!(!ok && out.contains("truncated"), "{out}");
}

const BAD_FIELD: &str = "title: Bad Field\nid: 11111111-2222-4333-8444-555555555555\nlogsource:\n    category: file_event\n    product: windows\ndetection:\n    sel:\n        TargetFilename|endswith: '.ps1'\n        CommandLine|contains: 'iwr'\n    condition: sel\n";
const BAD_EXAMPLE: &str = "title: Bad Example\nid: 21111111-2222-4333-8444-555555555555\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: sel\nexamples:\n    positive:\n        - Image: 'C:\\Windows\\System32\\hostname.exe'\n";
const SLOW: &str = "title: Slow\nid: 31111111-2222-4333-8444-555555555555\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    sel:\n        CommandLine|re: '(?i)[a-z].{300}[0-9]{3}[%&!]'\n    condition: sel\n";
const BIG_REGEX: &str = "title: Big Regex\nid: 41111111-2222-4333-8444-555555555555\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    sel:\n        CommandLine|re: '(\\w{50}){50}'\n    condition: sel\n";

#[test]
fn check_names_each_failing_rule_and_why_and_build_refuses() {
    let d = temp("check");
    let rules = d.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for (name, text) in
        [("bad_field.yml", BAD_FIELD), ("bad_example.yml", BAD_EXAMPLE), ("slow.yml", SLOW), ("big.yml", BIG_REGEX)]
    {
        std::fs::write(rules.join(name), text).unwrap();
    }
    std::fs::copy(Path::new(DEMO).join("dll_from_temp.yml"), rules.join("dll_from_temp.yml")).unwrap();
    let (ok, out) = vigil(&["content", "check", s(&rules), SMALL[0], SMALL[1]]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("FAIL  bad_field.yml")
            && out.contains("line 9: field 'CommandLine' does not exist in file_event events"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  bad_example.yml") && out.contains("line 12: positive example does not match the rule"),
        "{out}"
    );
    assert!(out.contains("FAIL  slow.yml") && out.contains("over budget"), "{out}");
    assert!(out.contains("FAIL  big.yml") && out.contains("does not compile") && out.contains("size limit"), "{out}");
    assert!(out.contains("PASS  dll_from_temp.yml") && out.contains("5 rules: 1 passed, 4 failed"), "{out}");

    let pack = d.join("p.vpack");
    let (ok, out) = vigil(&["content", "build", s(&rules), "-o", s(&pack), SMALL[0], SMALL[1]]);
    assert!(!ok && !pack.exists() && out.contains("no pack written"), "{out}");
    let (ok, out) = vigil(&["content", "build", s(&rules), "-o", s(&pack), "--drop-failing", SMALL[0], SMALL[1]]);
    assert!(ok && out.contains("left out bad_field.yml") && out.contains("1 rules"), "{out}");
}

#[test]
fn store_stages_a_release_and_rolls_it_back_on_bad_health() {
    let d = temp("store");
    let (v1, v2) = (d.join("v1.vpack"), d.join("v2.vpack"));
    for (p, v) in [(&v1, "1"), (&v2, "2")] {
        let (ok, out) = vigil(&["content", "build", DEMO, "-o", s(p), "--pack-version", v, SMALL[0], SMALL[1]]);
        assert!(ok, "{out}");
    }
    let store = d.join("store");
    let st = ["--store", s(&store)];
    let at = |t: u64| t.to_string();
    let run = |cmd: &[&str], t: u64| {
        let now = at(1_795_500_000 + t);
        let mut a = vec!["content"];
        a.extend(cmd);
        a.extend(st);
        a.extend(["--now", &now]);
        vigil(&a)
    };
    assert!(run(&["init"], 0).0);
    let (ok, out) = run(&["promote", s(&v1)], 0);
    assert!(ok && out.contains("first pack: last known good"), "{out}");
    let (ok, out) = run(&["promote", s(&v1)], 10);
    assert!(!ok && out.contains("not newer"), "{out}");
    let (ok, out) = run(&["promote", s(&v2)], 60);
    assert!(ok && out.contains("started on canary"), "{out}");

    // Health reports as analyzers file them.
    let s_ = Store::open(&store).unwrap();
    let r = s_.load().unwrap();
    let (rel, lkg) = (r.release.unwrap().pack.digest, r.last_known_good.unwrap().digest);
    for i in 0..20 {
        let alerts = [("process_creation".to_string(), 30)].into();
        s_.put_report(&HostReport {
            host: format!("c{i}"),
            pack: lkg.clone(),
            events: 1000,
            eval_ns: 1_000_000,
            alerts,
            ..HostReport::default()
        })
        .unwrap();
        let alerts = [("process_creation".to_string(), 28)].into();
        s_.put_report(&HostReport {
            host: format!("r{i}"),
            pack: rel.clone(),
            events: 1000,
            eval_ns: 1_000_000,
            alerts,
            ..HostReport::default()
        })
        .unwrap();
    }
    let (ok, out) = run(&["promote"], 3_600);
    assert!(ok && out.contains("still baking on canary"), "{out}");
    let (ok, out) = run(&["promote"], 60 + 4 * 3_600);
    assert!(ok && out.contains("promoted to early"), "{out}");

    let (ok, out) = run(&["status", "--host", "host-00001"], 5 * 3_600);
    assert!(ok && out.contains("baking on early") && out.contains("host host-00001: bucket"), "{out}");

    // A ring pinned by its operators stays on the last known good.
    let (ok, out) = run(&["pin", "--ring", "broad", "--pack", "lkg"], 5 * 3_600);
    assert!(ok && out.contains("ring broad pinned"), "{out}");
    assert_eq!(Store::open(&store).unwrap().load().unwrap().pins.len(), 1);

    // The early ring goes silent on process_creation: automatic rollback.
    for i in 20..60 {
        s_.put_report(&HostReport {
            host: format!("r{i}"),
            pack: rel.clone(),
            events: 1000,
            eval_ns: 1_000_000,
            ..HostReport::default()
        })
        .unwrap();
    }
    let (ok, out) = run(&["promote"], 6 * 3_600);
    assert!(!ok && out.contains("rolled back") && out.contains("process_creation alert volume down"), "{out}");
    let (_, out) = run(&["status"], 6 * 3_600);
    assert!(out.contains("rolled back from early"), "{out}");
    let (ok, out) = run(&["rollback"], 6 * 3_600);
    assert!(!ok && out.contains("no release in progress"), "{out}");
}

#[test]
fn simulate_prints_the_table() {
    let (ok, out) = vigil(&["content", "simulate", "--hosts", "1000"]);
    assert!(ok, "{out}");
    for label in
        ["(a) good pack", "(b) fails on load", "(b) hangs on some events", "(c) silences a category", "(d) corrupted"]
    {
        assert!(out.contains(label), "{out}");
    }
    assert!(out.contains("hosts exposed") && out.contains("time to halt"), "{out}");
}

#[test]
fn a_store_created_with_a_key_promotes_only_packs_it_signed() {
    let d = temp("keys");
    assert!(vigil(&["content", "keygen", "-o", s(&d.join("op"))]).0);
    let (signed, unsigned) = (d.join("signed.vpack"), d.join("unsigned.vpack"));
    let secret = d.join("op.secret");
    let (ok, out) = vigil(&[
        "content",
        "build",
        DEMO,
        "-o",
        s(&signed),
        "--pack-version",
        "1",
        "--sign",
        s(&secret),
        SMALL[0],
        SMALL[1],
    ]);
    assert!(ok, "{out}");
    let (ok, out) = vigil(&["content", "build", DEMO, "-o", s(&unsigned), "--pack-version", "2", SMALL[0], SMALL[1]]);
    assert!(ok, "{out}");
    let store = d.join("store");
    let (ok, out) = vigil(&["content", "init", "--store", s(&store), "--key", s(&d.join("op.pub"))]);
    assert!(ok && out.contains("signed packs only"), "{out}");
    let (ok, out) = vigil(&["content", "promote", "--store", s(&store), s(&unsigned)]);
    assert!(!ok && out.contains("unsigned pack"), "{out}");
    let (ok, out) = vigil(&["content", "promote", "--store", s(&store), s(&signed)]);
    assert!(ok, "{out}");
    let (_, out) = vigil(&["content", "status", "--store", s(&store)]);
    assert!(out.contains("signatures: required, by key"), "{out}");
}
