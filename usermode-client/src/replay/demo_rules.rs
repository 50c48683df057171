//! The demo rule set (`rules/demo/` at the repository root), compiled into
//! the binary so `vigil demo` works from any directory with no files.

use crate::sigma::{RuleError, RuleSet};

/// `(file name, YAML)` of each demo rule.
pub const SOURCES: [(&str, &str); 6] = [
    ("rules/demo/office_spawns_shell.yml", include_str!("../../../rules/demo/office_spawns_shell.yml")),
    ("rules/demo/encoded_powershell.yml", include_str!("../../../rules/demo/encoded_powershell.yml")),
    ("rules/demo/startup_folder_drop.yml", include_str!("../../../rules/demo/startup_folder_drop.yml")),
    ("rules/demo/dll_from_temp.yml", include_str!("../../../rules/demo/dll_from_temp.yml")),
    ("rules/demo/stager_deleted.yml", include_str!("../../../rules/demo/stager_deleted.yml")),
    ("rules/demo/documents_renamed.yml", include_str!("../../../rules/demo/documents_renamed.yml")),
];

/// The demo rules, compiled.
pub fn load() -> (RuleSet, Vec<RuleError>) {
    RuleSet::from_sources(SOURCES)
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_rules_compile_and_match_the_directory() {
        let (set, errors) = super::load();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(set.len(), super::SOURCES.len());
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/demo");
        let on_disk = std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yml")));
        assert_eq!(on_disk.count(), super::SOURCES.len(), "every rules/demo file is embedded");
        for id in set.ids() {
            assert_eq!(set.meta(id).author.as_deref(), Some("Vigil project"));
        }
    }
}
