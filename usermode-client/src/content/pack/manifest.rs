//! The manifest: what a pack is, what it was checked against, and which
//! bytes of the content are which rule.

use serde::{Deserialize, Serialize};

/// A pack's manifest (JSON in the container). Unknown fields are refused:
/// a manifest this build does not fully understand is not loaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Container format; equals [`super::format::FORMAT_VERSION`].
    pub format: u16,
    /// The operator's version of this content; must grow from release to release.
    pub pack_version: u64,
    /// [`crate::content::schema::SCHEMA_VERSION`] the rules were checked against.
    pub schema_version: u32,
    /// [`crate::content::schema::fingerprint`] of that schema, in hex.
    pub schema_fingerprint: String,
    /// When the pack was built (RFC 3339, UTC).
    pub created: String,
    /// The compiler that checked it (`vigil <version>`).
    pub compiler: String,
    /// Number of rules; the loader refuses a pack that compiles to another count.
    pub rule_count: u32,
    /// SHA-256 of the content, in hex.
    pub content_sha256: String,
    /// Compile limits the rules were checked with; the runtime uses them
    /// only if they are no looser than its own.
    pub limits: Limits,
    /// The rules, in content order.
    pub sources: Vec<Source>,
}

/// Regex limits of [`crate::sigma::CompileOptions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// `CompileOptions::regex_size_limit`.
    pub regex_size_limit: u64,
    /// `CompileOptions::regex_dfa_size_limit`.
    pub regex_dfa_size_limit: u64,
}

/// One rule of the pack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Path relative to the rules directory, `/`-separated.
    pub path: String,
    /// The rule's Sigma `id`.
    pub id: String,
    /// The rule's title.
    pub title: String,
    /// Length of its normalized text in the content.
    pub bytes: u32,
    /// SHA-256 of its normalized text, in hex.
    pub sha256: String,
}
