//! The analyzer's content runtime: refused packs leave the last known good
//! active (and say why), the last known good survives a restart, and a rule
//! over its budget is quarantined while the rest keep detecting.

use std::sync::Arc;
use vigil::content::build::{PackInfo, assemble};
use vigil::content::check::Budget;
use vigil::content::corpus;
use vigil::content::pack::{PackError, TrustPolicy};
use vigil::content::runtime::{ContentAlert, ContentRuntime, Evaluator};
use vigil::event::{Category, Event, Field};
use vigil::replay::demo_rules;
use vigil::sigma::CompileOptions;

fn demo_with(extra: Option<(&str, &str)>, version: u64) -> Vec<u8> {
    let mut sources: Vec<(String, String)> =
        demo_rules::SOURCES.iter().map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect();
    if let Some((p, t)) = extra {
        sources.push((p.to_owned(), t.to_owned()));
    }
    let info =
        PackInfo { pack_version: version, created: "2026-11-24T00:00:00Z".into(), compile: CompileOptions::default() };
    assemble(&sources, &info, None).unwrap()
}

const UNKNOWN_FIELD: &str = "title: t\nid: 51111111-2222-4333-8444-555555555555\nlogsource:\n    category: image_load\n    product: windows\ndetection:\n    sel:\n        TargetFilename|endswith: '.dll'\n    condition: sel\n";
const SLOW: &str = "title: Slow\nid: 61111111-2222-4333-8444-555555555555\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    sel:\n        CommandLine|re: '(?i)[a-z].{300}[0-9]{3}[%&!]'\n    condition: sel\n";

#[test]
fn a_refused_pack_keeps_the_last_known_good_and_says_why() {
    let mut rt = ContentRuntime::new(TrustPolicy::AllowUnsigned);
    let good = rt.install(&demo_with(None, 1)).unwrap();
    rt.take_alerts();
    let bad = demo_with(Some(("bad.yml", UNKNOWN_FIELD)), 2);
    for broken in [bad.clone(), bad[..bad.len() / 2].to_vec(), Vec::new(), b"VIGILPAK".to_vec()] {
        assert!(rt.install(&broken).is_err());
        assert_eq!(rt.current(), Some(good.clone()), "the last known good stays active");
    }
    let alerts = rt.take_alerts();
    assert_eq!(alerts.len(), 4);
    let first = alerts[0].to_string();
    assert!(first.contains("field 'TargetFilename' does not exist in image_load events"), "{first}");
    assert!(first.contains(&format!("keeping {}", good.short_id())), "{first}");
    assert!(matches!(&alerts[1], ContentAlert::PackRefused { pack: None, .. }), "a truncated pack has no identity");
}

#[test]
fn the_last_known_good_survives_a_restart_and_is_verified_again() {
    let dir = std::env::temp_dir().join(format!("vigil-lkg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rt = ContentRuntime::new(TrustPolicy::AllowUnsigned).with_state_dir(dir.clone());
    let id = rt.install(&demo_with(None, 1)).unwrap();
    assert!(rt.install(b"garbage").is_err());
    let restarted = ContentRuntime::new(TrustPolicy::AllowUnsigned).with_state_dir(dir.clone());
    assert_eq!(restarted.current(), Some(id));

    let lkg = dir.join(vigil::content::runtime::LKG_FILE);
    let mut bytes = std::fs::read(&lkg).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&lkg, &bytes).unwrap();
    let mut tampered = ContentRuntime::new(TrustPolicy::AllowUnsigned).with_state_dir(dir.clone());
    assert_eq!(tampered.current(), None, "a corrupted last-known-good file is not loaded");
    assert!(matches!(tampered.take_alerts()[..], [ContentAlert::PackRefused { .. }]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_signed_only_runtime_refuses_unsigned_packs() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let mut rt = ContentRuntime::new(TrustPolicy::Keys(vec![key.verifying_key()]));
    assert!(matches!(rt.install(&demo_with(None, 1)), Err(PackError::Unsigned)));
}

#[test]
fn a_rule_over_budget_is_quarantined_and_the_rest_keep_running() {
    let mut rt = ContentRuntime::new(TrustPolicy::AllowUnsigned);
    rt.install(&demo_with(Some(("slow.yml", SLOW)), 1)).unwrap();
    let active = Arc::clone(rt.active());
    let mut ev = Evaluator::new(Arc::clone(&active), Budget::default());

    let mut shell = Event::new(Category::ProcessCreation);
    shell.set_str(Field::ParentImage, r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE");
    shell.set_str(Field::Image, r"C:\Windows\System32\cmd.exe");
    shell.set_str(Field::CommandLine, "cmd.exe /c whoami");
    let mut long = Event::new(Category::ProcessCreation);
    long.set_str(Field::Image, r"C:\Tools\agent.exe");
    long.set_str(Field::CommandLine, &corpus::long_text(5, corpus::STRESS_FIELD_LEN));

    let first = ev.run(&[shell.clone(), long.clone(), shell.clone()]);
    assert_eq!(first.hits.len(), 2, "the batch that showed the cost was fully evaluated");
    let [ContentAlert::RuleQuarantined { rule_id, cost_ns, budget_ns, .. }] = &first.alerts[..] else {
        panic!("expected one quarantine: {:?}", first.alerts)
    };
    assert_eq!(rule_id, "61111111-2222-4333-8444-555555555555");
    assert!(cost_ns > budget_ns);
    let snap = active.load();
    assert_eq!(snap.quarantined.len(), 1);
    assert_eq!(snap.generation, first.generation + 1);

    assert_eq!(snap.engine.stats().rules, 6, "the quarantined rule is out of the engine");
    let second = ev.run(&[long, shell]);
    assert!(second.alerts.is_empty());
    assert_eq!(second.hits.len(), 1, "the other rules still detect");
    assert_eq!(second.generation, snap.generation);
}

#[test]
fn record_by_record_pipelines_get_the_same_watchdog() {
    let mut rt = ContentRuntime::new(TrustPolicy::AllowUnsigned);
    rt.install(&demo_with(Some(("slow.yml", SLOW)), 1)).unwrap();
    let mut ev = Evaluator::new(Arc::clone(rt.active()), Budget::default());
    let g = ev.begin_batch();
    let mut buf = Event::new(Category::ProcessCreation);
    let mut hits = Vec::new();
    for text in [corpus::long_text(1, corpus::STRESS_FIELD_LEN), "cmd.exe /c ver".to_owned()] {
        buf.reset(Category::ProcessCreation);
        buf.set_str(Field::CommandLine, &text);
        ev.matches(&buf, &mut hits);
    }
    let alerts = ev.end_batch();
    assert!(matches!(&alerts[..], [ContentAlert::RuleQuarantined { title, .. }] if title == "Slow"), "{alerts:?}");
    assert_eq!(ev.begin_batch(), g + 1, "the next batch takes the snapshot without the rule");
    assert_eq!(ev.snapshot().quarantined.len(), 1);
}
