//! The packs of the simulation: the fleet's current content, a good update,
//! and the bad updates of each scenario. Bad packs are written with
//! [`assemble`], which skips `content check`: the simulation models a
//! validator that let bad content through (as in July 2024), to show that
//! the analyzer and the rollout stop it on their own.

use crate::content::build::{PackInfo, assemble};
use crate::replay::demo_rules;
use crate::sigma::CompileOptions;
use ed25519_dalek::SigningKey;

/// A rule the good update adds: certutil fetching a URL (nothing in the
/// synthetic workload does that, so alert volume must not move).
const CERTUTIL: &str = r"title: Certutil Downloads a File
id: 0b9a5e3c-4f7e-4c39-9a51-6e1c2f7d8a10
status: experimental
author: Vigil project
date: 2026-11-24
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\certutil.exe'
        CommandLine|contains|all:
            - 'urlcache'
            - 'http'
    condition: selection
examples:
    positive:
        - Image: 'C:\Windows\System32\certutil.exe'
          CommandLine: 'certutil -urlcache -split -f http://198.51.100.7/a.exe a.exe'
    negative:
        - Image: 'C:\Windows\System32\certutil.exe'
          CommandLine: 'certutil -hashfile report.pdf SHA256'
level: high
";

/// The "21 inputs vs 20" bug: a file_event rule reading a field file_event
/// events never carry. The loader refuses the whole pack.
const FIELD_NOT_IN_SCHEMA: &str = r"title: Script Written by a Shell With a Suspicious Command Line
id: 7c1d2e3f-0a4b-4c5d-8e6f-7a8b9c0d1e2f
status: experimental
author: Vigil project
date: 2026-11-24
logsource:
    category: file_event
    product: windows
detection:
    selection:
        TargetFilename|endswith: '.ps1'
        CommandLine|contains: 'Invoke-WebRequest'
    condition: selection
level: medium
";

/// A regex that is harmless on ordinary command lines and takes around a
/// tenth of a second on a 32 KB one: the watchdog must quarantine it.
const CATASTROPHIC_REGEX: &str = r"title: Long Obfuscated Command Line
id: 3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7
status: experimental
author: Vigil project
date: 2026-11-24
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        CommandLine|re: '(?i)[a-z].{300}[0-9]{3}[%&!]'
    condition: selection
level: medium
";

/// Which content a pack carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// The demo rules: what every host runs before the update.
    Baseline,
    /// Baseline plus a new rule: a good update.
    Good,
    /// Good plus a rule reading a field its category lacks.
    FieldNotInSchema,
    /// Good plus a rule that is catastrophically slow on long command lines.
    CatastrophicRegex,
    /// Good, but a templating step escaped every backslash of the
    /// process_creation rules twice: they compile and load, and never match.
    SilentProcessCreation,
}

fn sources(content: Content) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = demo_rules::SOURCES
        .iter()
        .map(|(p, t)| (p.trim_start_matches("rules/demo/").to_owned(), (*t).to_owned()))
        .collect();
    let extra = match content {
        Content::Baseline => return s,
        Content::Good | Content::SilentProcessCreation => None,
        Content::FieldNotInSchema => Some(("script_by_shell.yml", FIELD_NOT_IN_SCHEMA)),
        Content::CatastrophicRegex => Some(("long_obfuscated_cmdline.yml", CATASTROPHIC_REGEX)),
    };
    s.push(("certutil_download.yml".into(), CERTUTIL.into()));
    if let Some((p, t)) = extra {
        s.push((p.into(), t.into()));
    }
    if content == Content::SilentProcessCreation {
        for (_, text) in &mut s {
            if text.contains("category: process_creation") {
                *text = double_escape(text);
            }
        }
    }
    s.sort();
    s
}

/// `'\x'` → `'\\\\x'` inside single-quoted values: two literal backslashes
/// where one was meant (and dropped examples, which would have caught it).
fn double_escape(text: &str) -> String {
    let body = text.split("\nexamples:").next().unwrap_or(text);
    let mut out = body.replace("'\\", "'\\\\\\\\");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The signed pack of `content` with version `version`.
pub fn pack(content: Content, version: u64, key: &SigningKey) -> Vec<u8> {
    let info = PackInfo {
        pack_version: version,
        created: crate::content::build::rfc3339(1_795_478_400 + version),
        compile: CompileOptions::default(),
    };
    // The sources are constants of this file; a failure here is a bug in it.
    assemble(&sources(content), &info, Some(key)).unwrap_or_else(|e| panic!("simulation pack {content:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::pack::{self, PackError, TrustPolicy};

    #[test]
    fn each_pack_is_what_its_scenario_needs() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let trust = TrustPolicy::Keys(vec![key.verifying_key()]);
        let (_, good) = pack::load(&pack(Content::Good, 2, &key), &trust).unwrap();
        assert_eq!(good.rules.len(), 7);
        assert!(matches!(pack::load(&pack(Content::FieldNotInSchema, 2, &key), &trust), Err(PackError::Checks(_))));
        assert!(pack::load(&pack(Content::CatastrophicRegex, 2, &key), &trust).is_ok());
        let (_, silent) = pack::load(&pack(Content::SilentProcessCreation, 2, &key), &trust).unwrap();
        assert_eq!(silent.rules.len(), 7, "silent content loads cleanly: only alert volume can tell");
    }

    #[test]
    fn with_their_examples_kept_the_silenced_rules_are_refused_at_load() {
        let mut s = sources(Content::Good);
        for (_, text) in &mut s {
            if text.contains("category: process_creation") {
                *text = text.replace("'\\", "'\\\\\\\\");
            }
        }
        let info =
            PackInfo { pack_version: 2, created: "2026-11-24T00:00:00Z".into(), compile: CompileOptions::default() };
        let bytes = assemble(&s, &info, None).unwrap();
        let err = pack::load(&bytes, &TrustPolicy::AllowUnsigned).unwrap_err().to_string();
        assert!(err.contains("positive example does not match the rule"), "{err}");
    }
}
