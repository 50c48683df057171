//! Shared helpers for the integration tests: where the SigmaHQ dataset is
//! and how its regression manifest reads.

#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod mutate;
#[cfg(unix)]
pub mod process;
pub mod reference;

use std::path::PathBuf;

/// `../shared/datasets/sigma` beside the repository root.
pub fn dataset() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/sigma");
    assert!(
        p.join("regression-manifest.tsv").is_file(),
        "SigmaHQ dataset not found at {} (expected ../shared beside the repository)",
        p.display()
    );
    p
}

/// One row of `regression-manifest.tsv`.
#[derive(Clone, Debug)]
pub struct Case {
    pub rule_id: String,
    pub rule_path: String,
    pub category: String,
    pub json_path: String,
    pub expected: Option<u64>,
}

pub fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(dataset().join("regression-manifest.tsv")).expect("manifest");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Case {
                rule_id: c[0].into(),
                rule_path: c[1].into(),
                category: c[2].into(),
                json_path: c[3].into(),
                expected: c.get(4).and_then(|s| s.trim().parse().ok()),
            }
        })
        .collect()
}

/// Reads every event of a file into owned events.
pub fn read_events(path: &std::path::Path) -> Vec<vigil::event::Event> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    vigil::input::read_path(path, &mut |e| out.push(e.clone()), &mut |e| errors.push(e)).expect("readable");
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    out
}
