//! Sigma semantics on hand-written rules: modifiers, null, keywords,
//! conditions, and rejection with file, line and reason.

use vigil::event::{Category, Event, Field};
use vigil::sigma::{Engine, FieldName, RuleSet};

fn rule(detection: &str) -> String {
    format!(
        "title: t\nid: r1\nauthor: me\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n{detection}\nlevel: high\n"
    )
}

fn fires(detection: &str, set: &[(Field, &str)]) -> bool {
    let (rules, errors) = RuleSet::from_sources([("r.yml", rule(detection))]);
    assert!(errors.is_empty(), "{errors:?}");
    let mut ev = Event::new(Category::ProcessCreation);
    for (f, v) in set {
        ev.set_str(*f, v);
    }
    let mut hits = Vec::new();
    Engine::new(&rules).matches(&ev, &mut hits);
    !hits.is_empty()
}

const CL: Field = Field::CommandLine;

#[test]
fn string_matching() {
    let d = "    sel:\n        CommandLine|contains: 'WhoAmI'\n    condition: sel";
    assert!(fires(d, &[(CL, "cmd /c whoami /all")]));
    assert!(!fires(d, &[(CL, "cmd")]));
    let cased = "    sel:\n        CommandLine|contains|cased: 'WhoAmI'\n    condition: sel";
    assert!(!fires(cased, &[(CL, "whoami")]) && fires(cased, &[(CL, "x WhoAmI")]));
    let glob = "    sel:\n        CommandLine: 'a*b?d'\n    condition: sel";
    assert!(fires(glob, &[(CL, "AxxBcD")]) && !fires(glob, &[(CL, "axxbd")]));
    let esc = "    sel:\n        CommandLine: 'a\\*b'\n    condition: sel";
    assert!(fires(esc, &[(CL, "a*b")]) && !fires(esc, &[(CL, "axb")]));
    let all = "    sel:\n        CommandLine|contains|all: ['a', 'b']\n    condition: sel";
    assert!(fires(all, &[(CL, "ab")]) && !fires(all, &[(CL, "a")]));
}

#[test]
fn windash_base64_regex() {
    let wd = "    sel:\n        CommandLine|contains|windash: ' /accepteula'\n    condition: sel";
    for v in ["x -accepteula", "x /accepteula", "x \u{2013}accepteula"] {
        assert!(fires(wd, &[(CL, v)]), "{v}");
    }
    let b64 = "    sel:\n        CommandLine|base64offset|contains: 'http'\n    condition: sel";
    for enc in ["aHR0cDovL2V4YW1wbGU=", "IGh0dHA6Ly8=", "ICBodHRwOi8v"] {
        assert!(fires(b64, &[(CL, enc)]), "{enc}");
    }
    let re = "    sel:\n        CommandLine|re: '\\s-c\\s'\n    condition: sel";
    assert!(fires(re, &[(CL, "bash -c x")]) && !fires(re, &[(CL, "bash -C x")]), "re is case-sensitive");
    let rei = "    sel:\n        CommandLine|re|i: 'NET\\s+USER'\n    condition: sel";
    assert!(fires(rei, &[(CL, "net   user x")]));
}

#[test]
fn null_exists_fieldref_numbers() {
    let null = "    sel:\n        CommandLine: null\n    condition: sel";
    assert!(fires(null, &[]) && !fires(null, &[(CL, "")]), "null is absent, not empty");
    let empty = "    sel:\n        CommandLine: ''\n    condition: sel";
    assert!(fires(empty, &[(CL, "")]) && !fires(empty, &[]));
    let ex = "    sel:\n        CommandLine|exists: false\n    condition: sel";
    assert!(fires(ex, &[]) && !fires(ex, &[(CL, "x")]));
    let fr = "    sel:\n        User|fieldref: ParentUser\n    condition: sel";
    assert!(fires(fr, &[(Field::User, "A\\b"), (Field::ParentUser, "a\\B")]));
    assert!(!fires(fr, &[(Field::User, "a"), (Field::ParentUser, "b")]));
    let gt = "    sel:\n        LogonId|gt: 10\n    condition: sel";
    assert!(fires(gt, &[(Field::LogonId, "11")]) && !fires(gt, &[(Field::LogonId, "0x3e7")]));
}

#[test]
fn conditions_and_keywords() {
    let d = "    a_1:\n        CommandLine|contains: 'x'\n    a_2:\n        Image|endswith: '.exe'\n    _hidden:\n        User: 'u'\n    condition: all of them and not 1 of _hid*";
    assert!(fires(d, &[(CL, "x"), (Field::Image, "a.exe")]));
    assert!(!fires(d, &[(CL, "x"), (Field::Image, "a.exe"), (Field::User, "u")]));
    let n_of = "    s1:\n        CommandLine|contains: 'a'\n    s2:\n        CommandLine|contains: 'b'\n    s3:\n        CommandLine|contains: 'c'\n    condition: 2 of s*";
    assert!(fires(n_of, &[(CL, "ab")]) && !fires(n_of, &[(CL, "a")]));
    let kw = "    keywords:\n        - 'mimikatz'\n    condition: keywords";
    assert!(fires(kw, &[(Field::Image, "C:\\MimiKatz.exe")]) && !fires(kw, &[(CL, "x")]));
}

#[test]
fn rejections_name_file_line_reason() {
    let bad = [
        ("    sel:\n        CommandLine|bogus: 'x'\n    condition: sel", 9, "unknown modifier 'bogus'"),
        ("    sel:\n        CommandLine: 'x'\n    condition: sel | count() > 5", 10, "aggregation"),
        ("    sel:\n        CommandLine|re: '('\n    condition: sel", 9, "invalid regex"),
        ("    sel:\n        CommandLine: 'x'\n    condition: other", 10, "unknown detection identifier"),
    ];
    for (det, line, reason) in bad {
        let good = rule("    sel:\n        CommandLine: 'x'\n    condition: sel").replace("id: r1", "id: r2");
        let (rules, errors) = RuleSet::from_sources([("bad.yml", rule(det)), ("good.yml", good)]);
        assert_eq!(rules.len(), 1, "the good rule still loads");
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!(e.path.to_str(), Some("bad.yml"));
        assert_eq!(e.line, line, "{e}");
        assert!(e.reason.contains(reason), "{e}");
    }
}

#[test]
fn fields_used_and_single_rule_engine() {
    let d = "    sel:\n        CommandLine|contains: 'x'\n        User|fieldref: ParentUser\n        Foo: 'y'\n    condition: sel";
    let (rules, _) = RuleSet::from_sources([("r.yml", rule(d))]);
    let id = rules.find("r1").unwrap();
    let names: Vec<&str> = rules.fields(id).iter().map(FieldName::as_str).collect();
    // Sorted: known fields in `Field` order, then other names.
    assert_eq!(names, ["User", "CommandLine", "ParentUser", "Foo"]);
    assert_eq!(Engine::single(&rules, id).stats().rules, 1);
    assert_eq!(rules.meta(id).author.as_deref(), Some("me"));
}

#[test]
fn fuzz_seed_rule_compiles() {
    let text = include_str!("../fuzz/seeds/rule_compiler/all_modifiers.yml");
    let (rules, errors) = RuleSet::from_sources([("seed.yml", text)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules.len(), 1);
}

#[test]
fn batch_matches_single_thread_results() {
    let d = "    sel:\n        CommandLine|contains: 'evil'\n    condition: sel";
    let (rules, _) = RuleSet::from_sources([("r.yml", rule(d))]);
    let events: Vec<Event> = (0..1000)
        .map(|i| {
            let mut e = Event::new(Category::ProcessCreation);
            e.set_str(CL, if i % 7 == 0 { "an evil one" } else { "benign" });
            e
        })
        .collect();
    let hits = Engine::new(&rules).matches_batch(&events, 4);
    let idx: Vec<usize> = hits.iter().map(|(i, _)| *i).collect();
    assert_eq!(idx, (0..1000).filter(|i| i % 7 == 0).collect::<Vec<_>>());
}
