//! Manifest-level refusals: each inconsistency between the manifest, the
//! content and this analyzer is its own typed error.

use super::*;
use crate::content::build::{PackInfo, assemble};

const RULE: &str = "title: t\nid: 71111111-2222-4333-8444-555555555555\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel\n";

fn good() -> Vec<u8> {
    let info = PackInfo { pack_version: 3, created: "2026-11-24T00:00:00Z".into(), compile: CompileOptions::default() };
    assemble(&[("r.yml".into(), RULE.into())], &info, None).unwrap()
}

/// Re-seals `pack` after `edit` changed its manifest (as JSON) or content.
fn tampered(edit: impl FnOnce(&mut serde_json::Value, &mut Vec<u8>)) -> Vec<u8> {
    let bytes = good();
    let s = format::open(&bytes, &TrustPolicy::AllowUnsigned).unwrap();
    let mut m: serde_json::Value = serde_json::from_slice(s.manifest).unwrap();
    let mut c = s.content.to_vec();
    edit(&mut m, &mut c);
    format::seal(&serde_json::to_vec(&m).unwrap(), &c, None).unwrap()
}

fn refusal(bytes: &[u8]) -> String {
    load(bytes, &TrustPolicy::AllowUnsigned).err().map(|e| e.to_string()).unwrap_or_else(|| "loaded".into())
}

#[test]
fn a_consistent_pack_loads() {
    let (v, c) = load(&good(), &TrustPolicy::AllowUnsigned).unwrap();
    assert_eq!((v.manifest.pack_version, c.rules.len()), (3, 1));
    assert_eq!(v.sources[0].0, "r.yml");
}

#[test]
fn each_inconsistency_is_refused_with_its_field() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (tampered(|m, _| m["schema_version"] = 99.into()), "schema_version: pack was checked against schema v99"),
        (tampered(|m, _| m["format"] = 2.into()), "manifest format"),
        (tampered(|m, _| m["rule_count"] = 2.into()), "rule_count: 2 but 1 sources listed"),
        (tampered(|m, _| m["limits"]["regex_size_limit"] = (1u64 << 40).into()), "limits: looser"),
        (tampered(|m, _| m["surprise"] = true.into()), "unknown field `surprise`"),
        (tampered(|_, c| c.push(b'#')), "content_sha256: does not match"),
        (
            tampered(|m, c| {
                c.push(b'#');
                m["content_sha256"] = hex(&Sha256::digest(&c[..])).into();
            }),
            "sources: cover",
        ),
        (
            tampered(|m, c| {
                let crlf = RULE.replace('\n', "\r\n");
                *c = crlf.clone().into_bytes();
                m["content_sha256"] = hex(&Sha256::digest(&c[..])).into();
                m["sources"][0]["bytes"] = crlf.len().into();
                m["sources"][0]["sha256"] = hex(&Sha256::digest(crlf.as_bytes())).into();
            }),
            "r.yml: not in normal form",
        ),
        (
            tampered(|m, c| {
                c[0] = 0xff;
                m["content_sha256"] = hex(&Sha256::digest(&c[..])).into();
                m["sources"][0]["sha256"] = hex(&Sha256::digest(&c[..])).into();
            }),
            "r.yml: not UTF-8",
        ),
        (tampered(|m, _| m["sources"][0]["sha256"] = hex(&[0; 32]).into()), "r.yml: sha256 does not match its bytes"),
    ];
    for (bytes, want) in cases {
        let got = refusal(&bytes);
        assert!(got.contains(want), "want '{want}', got '{got}'");
    }
}

#[test]
fn a_rule_that_does_not_compile_refuses_the_whole_pack() {
    let bytes = tampered(|m, c| {
        let broken = RULE.replace("condition: sel", "condition: nope");
        *c = broken.clone().into_bytes();
        m["content_sha256"] = hex(&Sha256::digest(&c[..])).into();
        m["sources"][0]["bytes"] = broken.len().into();
        m["sources"][0]["sha256"] = hex(&Sha256::digest(broken.as_bytes())).into();
    });
    let got = refusal(&bytes);
    assert!(got.contains("1 rule(s) do not compile: r.yml:9:"), "{got}");
}
