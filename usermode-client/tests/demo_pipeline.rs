//! The demo end to end: synthetic workload → capture file → replay through
//! mapping and the Sigma engine with the demo rules. Every attack behaviour
//! raises its rule's alert; no benign record raises any; the result does not
//! depend on the number of matching threads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use vigil::capture::CaptureWriter;
use vigil::replay::{self, Alert, Callbacks, ReplayOptions, demo_rules};
use vigil::sigma::Engine;
use vigil::synth::{self, Attack, Workload};

/// Which demo rule (by id) each behaviour must raise.
fn expected_rule(a: Attack) -> &'static str {
    match a {
        Attack::OfficeSpawnsShell => "1a7d2f8c-c48a-454b-a04e-8818d0201979",
        Attack::EncodedPowerShell => "1cd99c6b-c4a7-472c-b9c8-c6500cf6356a",
        Attack::StartupFolderDrop => "5719c81c-8864-477f-a5f2-18637284868a",
        Attack::DllFromTemp => "befdf7e2-5b78-46de-9562-6e36e73cccea",
        Attack::StagerDeleted => "bb649dc0-53a1-464c-a379-16506c716e02",
        Attack::DocumentsRenamed => "2d8923a1-ca90-4cb7-a8b2-ce1dba32e6d9",
        Attack::Lure => "none",
    }
}

fn run(threads: usize, capture: &PathBuf) -> (Vec<Alert>, replay::ReplayStats) {
    let (rules, errors) = demo_rules::load();
    assert!(errors.is_empty());
    let engine = Engine::new(&rules);
    let mut alerts = Vec::new();
    let mut problems = Vec::new();
    let stats = replay::replay(
        std::slice::from_ref(capture),
        &engine,
        ReplayOptions { threads, pe_metadata: false },
        Callbacks {
            on_alert: &mut |a| alerts.push(a.clone()),
            on_error: &mut |e| problems.push(e.to_string()),
            on_progress: &mut |_| {},
        },
    );
    assert!(problems.is_empty(), "{problems:?}");
    (alerts, stats)
}

#[test]
fn demo_detects_every_attack_behaviour_and_nothing_benign() {
    let dir = std::env::temp_dir().join(format!("vigil-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("demo.vcap");
    let workload = Workload::new(42, 60_000);
    let mut w = CaptureWriter::create(&capture, &Workload::capture_info()).unwrap();
    let labels = synth::write_capture(workload, &mut w).unwrap();
    w.finish().unwrap();

    let (rules, _) = demo_rules::load();
    let (alerts, stats) = run(1, &capture);
    assert_eq!(stats.records, labels.len() as u64);
    assert_eq!(stats.mapping.unknown_process, 0);
    assert!(stats.total_events() > 50_000);

    let mut raised: BTreeMap<Attack, BTreeSet<String>> = BTreeMap::new();
    for a in &alerts {
        let rule_id = rules.meta(a.rule).id.clone();
        let label = labels[(a.record - 1) as usize];
        let Some(attack) = label else {
            panic!("benign record {} raised {} ({:?}): {:?}", a.record, rules.meta(a.rule).title, a.category, a.fields);
        };
        assert_eq!(rule_id, expected_rule(attack), "{attack:?} raised the wrong rule: {:?}", a.fields);
        raised.entry(attack).or_default().insert(rule_id);
    }
    for attack in Attack::ALERTING {
        assert!(raised.contains_key(&attack), "{attack:?} raised no alert");
    }
    // Both Startup files (.exe and .lnk) alert, and all four documents.
    let count = |a: Attack| alerts.iter().filter(|x| labels[(x.record - 1) as usize] == Some(a)).count();
    assert_eq!(count(Attack::StartupFolderDrop), 2);
    assert_eq!(count(Attack::DocumentsRenamed), 4);
    // Alerts carry the mapped event.
    let ps = alerts.iter().find(|a| labels[(a.record - 1) as usize] == Some(Attack::EncodedPowerShell)).unwrap();
    assert_eq!(ps.field("ParentImage").as_deref(), Some(r"C:\Windows\System32\cmd.exe"));
    assert_eq!(ps.field("User").as_deref(), Some(r"CONTOSO\alice"));
    assert_eq!(ps.field("Computer").as_deref(), Some("WS-VIGIL-01"));

    let (parallel, pstats) = run(3, &capture);
    assert_eq!(parallel, alerts, "threads change nothing");
    assert_eq!(pstats.events, stats.events);
    std::fs::remove_dir_all(&dir).unwrap();
}
