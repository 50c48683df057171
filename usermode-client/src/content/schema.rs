//! The event schema content is checked against: which fields each logsource
//! category's events carry ([`crate::sigma::schema::fields_of`]), its
//! version, and a fingerprint that pins the version to the field lists.
//!
//! This is the "21 inputs vs 20" check: a rule that reads a field its
//! category's events never carry is refused when the pack is built and again
//! when it is loaded, and a pack checked against a newer schema than the
//! analyzer's is refused outright.

use crate::event::Category;
use crate::sigma::{FieldName, RuleId, RuleSet, schema};
use sha2::{Digest, Sha256};

/// Version of the event schema. Bump it whenever [`schema::fields_of`]
/// changes; the `fingerprint_is_pinned` test fails until you do.
pub const SCHEMA_VERSION: u32 = 1;

/// [`fingerprint`] of the schema [`SCHEMA_VERSION`] names, in hex.
pub const SCHEMA_FINGERPRINT: &str = "cc76e598c102735b5c554339ef74c71f96c6e590ed85f9504f3a31d17cbcbc18";

/// SHA-256 over every category's name and field names, in order.
pub fn fingerprint() -> [u8; 32] {
    let mut h = Sha256::new();
    for c in Category::ALL {
        h.update(c.name().as_bytes());
        h.update(b":");
        for f in schema::fields_of(c) {
            h.update(f.name().as_bytes());
            h.update(b",");
        }
        h.update(b"\n");
    }
    h.finalize().into()
}

/// A field a rule reads that its category's events never carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownField {
    /// The field as the rule names it.
    pub field: String,
    /// The rule's category.
    pub category: Category,
    /// 1-based line in the rule text where the field is first named (0 if not found).
    pub line: u32,
}

impl std::fmt::Display for UnknownField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: field '{}' does not exist in {} events (schema v{SCHEMA_VERSION})",
            self.line,
            self.field,
            self.category.name()
        )
    }
}

/// Every field `id` reads that its category lacks. `text` is the rule's
/// source, used only to find the line.
pub fn unknown_fields(set: &RuleSet, id: RuleId, text: &str) -> Vec<UnknownField> {
    let category = set.category(id);
    set.fields(id)
        .iter()
        .filter(|f| match f {
            FieldName::Known(k) => !schema::has_field(category, *k),
            FieldName::Other(_) => true,
        })
        .map(|f| UnknownField { field: f.as_str().to_owned(), category, line: line_of_field(text, f.as_str()) })
        .collect()
}

/// The first line naming `field` as a detection key (`field:` or `field|...`).
pub fn line_of_field(text: &str, field: &str) -> u32 {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start().trim_start_matches("- ").trim_start_matches(['\'', '"']);
        if let Some(rest) = t.strip_prefix(field)
            && (rest.starts_with(':') || rest.starts_with('|') || rest.starts_with(['\'', '"']))
        {
            return u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_pinned() {
        assert_eq!(
            crate::content::pack::hex(&fingerprint()),
            SCHEMA_FINGERPRINT,
            "the event schema changed: bump SCHEMA_VERSION and pin the new fingerprint"
        );
    }

    #[test]
    fn a_field_the_category_lacks_is_named_with_its_line() {
        let rule = "title: t\nlogsource:\n    category: file_event\n    product: windows\ndetection:\n    sel:\n        TargetFilename|endswith: '.exe'\n        CommandLine|contains: 'x'\n    condition: sel\n";
        let (set, errors) = RuleSet::from_sources([("r.yml", rule)]);
        assert!(errors.is_empty(), "{errors:?}");
        let id = set.ids().next().unwrap();
        let bad = unknown_fields(&set, id, rule);
        assert_eq!(bad, vec![UnknownField { field: "CommandLine".into(), category: Category::FileEvent, line: 8 }]);
        assert!(bad[0].to_string().contains("field 'CommandLine' does not exist in file_event events"));
    }
}
