//! Content packs: one file holding a manifest and normalized rules, its
//! SHA-256, and optionally an operator's ed25519 signature.
//!
//! Loading ([`verify`] then [`compile`], or [`load`]) is total: every
//! malformed, truncated, corrupted, unsigned-when-it-must-be-signed or
//! inconsistent pack is a [`PackError`], never a panic (the `pack_loader`
//! fuzz target holds it to that). The order is fixed: framing, digest and
//! signature before any parsing ([`format::open`]); then the manifest and
//! its versions; then the content hash and the split into rules; then the
//! same compiler and the same static checks `content check` ran. Any rule
//! failing any check refuses the whole pack.

pub mod format;
pub mod keys;
pub mod manifest;

pub use keys::{KeyId, TrustPolicy, hex};
pub use manifest::{Limits, Manifest, Source};

use super::check::{self, Problem};
use super::schema::SCHEMA_VERSION;
use crate::sigma::{CompileOptions, Engine, RuleError, RuleSet};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a pack was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The file does not start with the pack magic.
    #[error("not a Vigil content pack (bad magic)")]
    NotAPack,
    /// The file is shorter than its header says.
    #[error("truncated: {got} bytes, the header says {expected}")]
    Truncated {
        /// Bytes the header implies.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// The file is longer than its header says.
    #[error("{got} bytes, the header says {expected}: trailing bytes")]
    TrailingBytes {
        /// Bytes the header implies.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// A container format this analyzer does not read.
    #[error("container format {got} is not supported (this analyzer reads format {supported})")]
    UnsupportedFormat {
        /// Format in the file.
        got: u16,
        /// Format supported.
        supported: u16,
    },
    /// A header field is invalid.
    #[error("header {field}: {reason}")]
    Header {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Manifest or content exceeds its limit.
    #[error("too large: manifest {manifest} bytes, content {content} bytes")]
    TooLarge {
        /// Manifest bytes.
        manifest: u64,
        /// Content bytes.
        content: u64,
    },
    /// The SHA-256 trailer does not match the bytes: corrupted in transit or at rest.
    #[error("digest mismatch: the pack is corrupted")]
    DigestMismatch,
    /// Signatures are required and the pack has none.
    #[error("unsigned pack, and this analyzer requires a signature")]
    Unsigned,
    /// Signed by a key this analyzer does not trust.
    #[error("signed by key {key_id}, which this analyzer does not trust")]
    UnknownKey {
        /// The signing key's id.
        key_id: KeyId,
    },
    /// The signature does not verify.
    #[error("signature by key {key_id} does not verify")]
    BadSignature {
        /// The key it claims.
        key_id: KeyId,
    },
    /// The manifest is not valid manifest JSON.
    #[error("manifest: {0}")]
    Manifest(String),
    /// A manifest field contradicts the pack or this analyzer.
    #[error("manifest {field}: {reason}")]
    ManifestField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// One rule's bytes are inconsistent with the manifest.
    #[error("{path}: {reason}")]
    Source {
        /// The rule's path in the manifest.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Rules that do not compile.
    #[error("{} rule(s) do not compile: {}", .0.len(), first_of(.0))]
    Rules(Vec<RuleError>),
    /// Rules that fail a static check (schema fields, examples).
    #[error("{} rule(s) fail their checks: {}", .0.len(), first_of(.0))]
    Checks(Vec<RuleProblem>),
}

impl PackError {
    /// The loader check that refused the pack, for alerts: `framing`,
    /// `digest`, `signature`, `manifest`, `content`, `compile` or `rule` (the static checks).
    pub fn check(&self) -> &'static str {
        match self {
            PackError::NotAPack
            | PackError::Truncated { .. }
            | PackError::TrailingBytes { .. }
            | PackError::UnsupportedFormat { .. }
            | PackError::Header { .. }
            | PackError::TooLarge { .. } => "framing",
            PackError::DigestMismatch => "digest",
            PackError::Unsigned | PackError::UnknownKey { .. } | PackError::BadSignature { .. } => "signature",
            PackError::Manifest(_) | PackError::ManifestField { .. } => "manifest",
            PackError::Source { .. } => "content",
            PackError::Rules(_) => "compile",
            PackError::Checks(_) => "rule",
        }
    }
}

/// A rule of a pack that failed a static check.
#[derive(Clone, Debug)]
pub struct RuleProblem {
    /// The rule's path in the manifest.
    pub path: String,
    /// The problem.
    pub problem: Problem,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

fn first_of<T: fmt::Display>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

/// A pack whose bytes, signature, manifest and content hash checked out;
/// its rules are split out but not compiled yet.
#[derive(Clone, Debug)]
pub struct VerifiedPack {
    /// SHA-256 of the pack's header, manifest and content: its identity.
    pub digest: [u8; 32],
    /// SHA-256 of the content alone: identical content shares one compiled form.
    pub content_sha256: [u8; 32],
    /// The manifest.
    pub manifest: Manifest,
    /// `(path, normalized text)` of every rule, in manifest order.
    pub sources: Vec<(String, String)>,
    /// Whether a trusted key's signature was verified.
    pub signature_verified: bool,
}

impl VerifiedPack {
    /// The short id people see: the first 12 hex digits of the digest.
    pub fn short_id(&self) -> String {
        hex(&self.digest[..6])
    }
}

/// Compiled content of a pack.
#[derive(Debug)]
pub struct Compiled {
    /// The rules.
    pub rules: RuleSet,
    /// An engine over all of them (clone it per thread).
    pub engine: Engine,
}

fn field(field: &'static str, reason: impl Into<String>) -> PackError {
    PackError::ManifestField { field, reason: reason.into() }
}

/// Verifies a pack's bytes, manifest and content; compiles nothing.
pub fn verify(bytes: &[u8], policy: &TrustPolicy) -> Result<VerifiedPack, PackError> {
    parse(&format::open(bytes, policy)?)
}

/// The manifest and rules of a pack whose framing, digest and signature
/// [`format::open`] verified.
pub fn parse(sealed: &format::Sealed<'_>) -> Result<VerifiedPack, PackError> {
    let manifest: Manifest = serde_json::from_slice(sealed.manifest).map_err(|e| PackError::Manifest(e.to_string()))?;
    if manifest.format != format::FORMAT_VERSION {
        return Err(field(
            "format",
            format!("{} does not match the container's {}", manifest.format, format::FORMAT_VERSION),
        ));
    }
    if manifest.schema_version > SCHEMA_VERSION {
        return Err(field(
            "schema_version",
            format!(
                "pack was checked against schema v{}, this analyzer has v{SCHEMA_VERSION}",
                manifest.schema_version
            ),
        ));
    }
    let content_sha256: [u8; 32] = Sha256::digest(sealed.content).into();
    if manifest.content_sha256 != hex(&content_sha256) {
        return Err(field("content_sha256", "does not match the content"));
    }
    if manifest.rule_count as usize != manifest.sources.len() {
        return Err(field(
            "rule_count",
            format!("{} but {} sources listed", manifest.rule_count, manifest.sources.len()),
        ));
    }
    let defaults = CompileOptions::default();
    if manifest.limits.regex_size_limit > defaults.regex_size_limit as u64
        || manifest.limits.regex_dfa_size_limit > defaults.regex_dfa_size_limit as u64
    {
        return Err(field("limits", "looser than this analyzer's regex limits"));
    }
    let sources = split(&manifest, sealed.content)?;
    Ok(VerifiedPack {
        digest: sealed.digest,
        content_sha256,
        manifest,
        sources,
        signature_verified: sealed.signature_verified,
    })
}

fn split(manifest: &Manifest, content: &[u8]) -> Result<Vec<(String, String)>, PackError> {
    let mut at = 0usize;
    let mut out = Vec::with_capacity(manifest.sources.len());
    for s in &manifest.sources {
        let err = |reason: &str| PackError::Source { path: s.path.clone(), reason: reason.into() };
        let end = at
            .checked_add(s.bytes as usize)
            .filter(|&e| e <= content.len())
            .ok_or_else(|| err("extends past the content"))?;
        let bytes = &content[at..end];
        if hex(&Sha256::digest(bytes)) != s.sha256 {
            return Err(err("sha256 does not match its bytes"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8"))?;
        if super::build::normalize(text) != text {
            return Err(err("not in normal form (BOM, CR or missing final newline)"));
        }
        out.push((s.path.clone(), text.to_owned()));
        at = end;
    }
    if at != content.len() {
        return Err(field("sources", format!("cover {at} of {} content bytes", content.len())));
    }
    Ok(out)
}

/// Compiles a verified pack with the runtime compiler and runs the static
/// checks; any rule failing refuses the whole pack.
pub fn compile(pack: &VerifiedPack) -> Result<Compiled, PackError> {
    let l = pack.manifest.limits;
    let opts = CompileOptions {
        regex_size_limit: usize::try_from(l.regex_size_limit).unwrap_or(usize::MAX),
        regex_dfa_size_limit: usize::try_from(l.regex_dfa_size_limit).unwrap_or(usize::MAX),
    };
    let (rules, errors) = RuleSet::from_sources_with(pack.sources.iter().map(|(p, t)| (p.as_str(), t.as_str())), &opts);
    if !errors.is_empty() {
        return Err(PackError::Rules(errors));
    }
    if rules.len() != pack.sources.len() {
        return Err(field("rule_count", format!("{} listed, {} compiled", pack.sources.len(), rules.len())));
    }
    let mut problems = Vec::new();
    for (id, (path, text)) in rules.ids().zip(&pack.sources) {
        let (p, _, _) = check::static_checks(&rules, id, text);
        problems.extend(p.into_iter().map(|problem| RuleProblem { path: path.clone(), problem }));
    }
    if !problems.is_empty() {
        return Err(PackError::Checks(problems));
    }
    let engine = Engine::new(&rules);
    Ok(Compiled { rules, engine })
}

/// [`verify`] then [`compile`].
pub fn load(bytes: &[u8], policy: &TrustPolicy) -> Result<(VerifiedPack, Compiled), PackError> {
    let v = verify(bytes, policy)?;
    let c = compile(&v)?;
    Ok((v, c))
}

#[cfg(test)]
mod tests;
