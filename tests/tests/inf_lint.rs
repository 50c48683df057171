//! inf/vigil.inf against the minifilter INF rules, and the lint against broken copies.

use vigil_tests::inf::{Expect, Inf, lint, split_fields};

fn vigil_inf() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../inf/vigil.inf");
    std::fs::read_to_string(path).expect("inf/vigil.inf is readable")
}

fn rules_broken_by(edit: impl Fn(&str) -> String) -> Vec<&'static str> {
    let text = edit(&vigil_inf());
    let inf = Inf::parse(&text).expect("edited INF still parses");
    lint(&inf, Expect::VIGIL).into_iter().map(|f| f.rule).collect()
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur exactly once in vigil.inf");
    text.replacen(from, to, 1)
}

#[test]
fn vigil_inf_passes() {
    let inf = Inf::parse(&vigil_inf()).unwrap();
    let findings = lint(&inf, Expect::VIGIL);
    assert!(findings.is_empty(), "{}", findings.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"));
}

#[test]
fn vigil_inf_values_are_substituted() {
    let inf = Inf::parse(&vigil_inf()).unwrap();
    assert_eq!(inf.value("Vigil.Service", "ServiceBinary"), Some("%12%\\vigil.sys"));
    let reg = inf.reg_lines("Vigil.AddRegistry");
    let altitude = reg.iter().find(|f| f.get(2).map(String::as_str) == Some("Altitude")).unwrap();
    assert_eq!(altitude[1], "Parameters\\Instances\\Vigil Instance");
    assert_eq!(altitude[4], "385100");
}

#[test]
fn altitude_outside_the_activity_monitor_range_is_caught() {
    for bad in ["\"400000\"", "\"359999\"", "\"abc\"", "\"\""] {
        let rules = rules_broken_by(|t| {
            replace_once(t, "Instance1.Altitude = \"385100\"", &format!("Instance1.Altitude = {bad}"))
        });
        assert_eq!(rules, ["reg-altitude"], "{bad}");
    }
}

#[test]
fn service_values_are_each_checked() {
    let cases: [(&str, &str, &str); 7] = [
        ("ServiceType    = 2 ", "ServiceType    = 1 ", "service-type"),
        ("StartType      = 3 ", "StartType      = 0 ", "service-start"),
        ("ErrorControl   = 1 ", "ErrorControl   = 3 ", "service-errorcontrol"),
        (
            "LoadOrderGroup = \"FSFilter Activity Monitor\"",
            "LoadOrderGroup = \"FSFilter Anti-Virus\"",
            "service-loadordergroup",
        ),
        ("Dependencies   = \"FltMgr\"", "Dependencies   = \"Tcpip\"", "service-dependencies"),
        ("ServiceBinary  = %12%\\%DriverName%.sys", "ServiceBinary  = %12%\\other.sys", "service-binary"),
        ("HKR,\"Parameters\",\"SupportedFeatures\",0x00010001,0x3", "", "reg-supportedfeatures"),
    ];
    for (from, to, rule) in cases {
        assert_eq!(rules_broken_by(|t| replace_once(t, from, to)), [rule], "{from} -> {to}");
    }
}

#[test]
fn class_and_guid_are_checked() {
    assert_eq!(
        rules_broken_by(|t| replace_once(t, "Class       = \"ActivityMonitor\"", "Class       = \"AntiVirus\"")),
        ["version-class"]
    );
    assert_eq!(
        rules_broken_by(|t| replace_once(
            t,
            "{b86dff51-a31e-4bac-b3cf-e8cfe75c9fc2}",
            "{b1d1a169-c54f-4379-81db-bee7d88d7454}"
        )),
        ["version-classguid"]
    );
}

#[test]
fn missing_uninstall_and_undecorated_sections_are_caught() {
    let rules = rules_broken_by(|t| replace_once(t, "[DefaultUninstall.NTamd64.Services]", "[Unused.Services]"));
    assert!(rules.contains(&"sections") && rules.contains(&"uninstall-delservice"), "{rules:?}");
    let rules = rules_broken_by(|t| replace_once(t, "[DefaultInstall.NTamd64]", "[DefaultInstall]"));
    assert!(rules.contains(&"sections") && rules.contains(&"install-copyfiles"), "{rules:?}");
}

#[test]
fn a_manufacturer_section_is_not_primitive() {
    let rules = rules_broken_by(|t| format!("{t}\n[Manufacturer]\n%ManufacturerName% = Models,NTamd64\n"));
    assert_eq!(rules, ["primitive"]);
}

#[test]
fn instance_flags_and_default_instance_are_required() {
    let rules = rules_broken_by(|t| {
        replace_once(t, "HKR,\"Parameters\\Instances\\\"%Instance1.Name%,\"Flags\",0x00010001,%Instance1.Flags%", "")
    });
    assert_eq!(rules, ["reg-flags"]);
    let rules = rules_broken_by(|t| {
        replace_once(t, "HKR,\"Parameters\\Instances\",\"DefaultInstance\",0x00000000,%DefaultInstance%", "")
    });
    assert_eq!(rules, ["reg-defaultinstance"]);
}

#[test]
fn parser_handles_comments_quotes_and_continuations() {
    let inf = Inf::parse(
        "[Version]\nSignature = \"$Windows NT$\" ; comment\n[A]\nK = \"a;b\" , \\\n  c ; tail\nHKR,\"x=y\",,0\n[Strings]\nS = \"v\"\n[B]\nX = %S%-%%-%12%\n",
    )
    .unwrap();
    assert_eq!(inf.value("version", "SIGNATURE"), Some("\"$Windows NT$\""));
    assert_eq!(inf.value("A", "K"), Some("\"a;b\" ,c"));
    assert_eq!(inf.reg_lines("A"), vec![vec!["HKR".to_owned(), "x=y".into(), "".into(), "0".into()]]);
    assert_eq!(inf.value("B", "X"), Some("v-%-%12%"));
    assert_eq!(split_fields("\"a,b\",c"), ["a,b", "c"]);
    assert!(Inf::parse("K = V\n").is_err());
    assert!(Inf::parse("[Open\n").is_err());
}
