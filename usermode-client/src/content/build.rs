//! `content build`: rules directory → checked, normalized, versioned pack.
//!
//! Normal form of a rule: its source text as UTF-8 without a byte-order
//! mark, with `\n` line endings and exactly one final newline. Nothing else
//! is rewritten, so comments, authors (DRL 1.1 attribution) and line numbers
//! survive, and an error the analyzer reports names the same line the author
//! sees. Rules are ordered by their `/`-separated path relative to the
//! rules directory, so the same rules give the same content hash wherever
//! they are built.

use super::check::{self, CheckOptions, CheckReport};
use super::corpus::Corpus;
use super::pack::{self, Limits, Manifest, PackError, Source, format, hex};
use super::schema::{SCHEMA_VERSION, fingerprint};
use crate::sigma::{CompileOptions, RuleSet};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A rule file is not UTF-8.
    #[error("{}: not UTF-8", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// No rule files were found.
    #[error("{}: no *.yml or *.yaml rules", dir.display())]
    Empty {
        /// The directory.
        dir: PathBuf,
    },
    /// Rules failed their checks (the report says which and why).
    #[error("{} of {} rules failed their checks", report.failed(), report.rules.len())]
    Checks {
        /// The full report.
        report: Box<CheckReport>,
    },
    /// The pack could not be written.
    #[error(transparent)]
    Pack(#[from] PackError),
}

/// A rule's normal form (see the module docs).
pub fn normalize(text: &str) -> String {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut s = t.replace("\r\n", "\n").replace('\r', "\n");
    let kept = s.trim_end_matches('\n').len();
    s.truncate(kept);
    s.push('\n');
    s
}

/// Reads every `*.yml`/`*.yaml` under `dir`: `(relative path, normalized
/// text)`, ordered by path.
pub fn read_rules(dir: &Path) -> Result<Vec<(PathBuf, String)>, BuildError> {
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort_by_key(|a| rel_name(&a.0));
    if files.is_empty() {
        return Err(BuildError::Empty { dir: dir.into() });
    }
    Ok(files)
}

/// `/`-separated form of a relative path.
pub fn rel_name(p: &Path) -> String {
    p.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<(), BuildError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let p = entry.map_err(io(dir))?.path();
        if p.is_dir() {
            walk(root, &p, out)?;
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            let bytes = std::fs::read(&p).map_err(io(&p))?;
            let text = String::from_utf8(bytes).map_err(|_| BuildError::NotUtf8 { path: p.clone() })?;
            out.push((p.strip_prefix(root).unwrap_or(&p).to_path_buf(), normalize(&text)));
        }
    }
    Ok(())
}

/// What goes into a manifest besides the rules.
#[derive(Clone, Debug)]
pub struct PackInfo {
    /// The operator's version number of this content.
    pub pack_version: u64,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Compile limits.
    pub compile: CompileOptions,
}

/// Writes a pack of `sources` as they are, without checking them. `content
/// build` calls it only after every check passed; the fleet simulation
/// calls it directly to model a validator that let bad content through.
pub fn assemble(sources: &[(String, String)], info: &PackInfo, key: Option<&SigningKey>) -> Result<Vec<u8>, PackError> {
    let (set, _) = RuleSet::from_sources_with(sources.iter().map(|(p, t)| (p.as_str(), t.as_str())), &info.compile);
    let mut content = Vec::new();
    let mut listed = Vec::with_capacity(sources.len());
    for (path, text) in sources {
        let meta = set.find_by_path(path);
        content.extend_from_slice(text.as_bytes());
        listed.push(Source {
            path: path.clone(),
            id: meta.map(|m| m.id.clone()).unwrap_or_default(),
            title: meta.map(|m| m.title.clone()).unwrap_or_default(),
            bytes: u32::try_from(text.len())
                .map_err(|_| PackError::TooLarge { manifest: 0, content: text.len() as u64 })?,
            sha256: hex(&Sha256::digest(text.as_bytes())),
        });
    }
    let manifest = Manifest {
        format: format::FORMAT_VERSION,
        pack_version: info.pack_version,
        schema_version: SCHEMA_VERSION,
        schema_fingerprint: hex(&fingerprint()),
        created: info.created.clone(),
        compiler: format!("vigil {}", env!("CARGO_PKG_VERSION")),
        rule_count: u32::try_from(sources.len()).unwrap_or(u32::MAX),
        content_sha256: hex(&Sha256::digest(&content)),
        limits: Limits {
            regex_size_limit: info.compile.regex_size_limit as u64,
            regex_dfa_size_limit: info.compile.regex_dfa_size_limit as u64,
        },
        sources: listed,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| PackError::Manifest(e.to_string()))?;
    format::seal(&json, &content, key)
}

trait FindByPath {
    fn find_by_path(&self, path: &str) -> Option<&crate::sigma::RuleMeta>;
}

impl FindByPath for RuleSet {
    fn find_by_path(&self, path: &str) -> Option<&crate::sigma::RuleMeta> {
        self.ids().map(|id| self.meta(id)).find(|m| m.path == Path::new(path))
    }
}

/// A built pack.
#[derive(Debug)]
pub struct Built {
    /// The pack file's bytes.
    pub bytes: Vec<u8>,
    /// The check report of every rule read.
    pub report: CheckReport,
    /// Rules left out because they failed (only with `drop_failing`).
    pub dropped: Vec<PathBuf>,
}

/// Checks every rule under `dir` (cost measured on `corpus`) and, if all
/// pass (or `drop_failing` and at least one does), writes the pack.
pub fn build(
    dir: &Path,
    info: &PackInfo,
    budget: check::Budget,
    corpus: &Corpus,
    drop_failing: bool,
    key: Option<&SigningKey>,
) -> Result<Built, BuildError> {
    let sources = read_rules(dir)?;
    let opts = CheckOptions { compile: info.compile.clone(), budget };
    let (report, _) = check::check_sources(&sources, &opts, Some(corpus));
    let failed: Vec<PathBuf> = report.rules.iter().filter(|r| !r.passed()).map(|r| r.path.clone()).collect();
    if (!failed.is_empty() && !drop_failing) || failed.len() == report.rules.len() {
        return Err(BuildError::Checks { report: Box::new(report) });
    }
    let kept: Vec<(String, String)> =
        sources.into_iter().filter(|(p, _)| !failed.contains(p)).map(|(p, t)| (rel_name(&p), t)).collect();
    let bytes = assemble(&kept, info, key)?;
    // The runtime loader must accept what the build wrote; anything else is a bug here.
    pack::load(&bytes, &pack::TrustPolicy::AllowUnsigned)?;
    Ok(Built { bytes, report, dropped: failed })
}

/// `SOURCE_DATE_EPOCH` if set (reproducible builds), else now, as RFC 3339.
pub fn now_rfc3339() -> String {
    let secs =
        std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
        });
    rfc3339(secs)
}

/// Unix seconds as RFC 3339 UTC.
pub fn rfc3339(unix_secs: u64) -> String {
    let ft = (unix_secs + 11_644_473_600) * 10_000_000;
    let mut buf = [0u8; 23];
    let t = crate::mapping::format_utc_time(ft, &mut buf);
    format!("{}T{}Z", &t[..10], &t[11..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form() {
        assert_eq!(normalize("\u{feff}a: 1\r\nb: 2\r\n\r\n"), "a: 1\nb: 2\n");
        assert_eq!(normalize("a\rb"), "a\nb\n");
        assert_eq!(normalize(&normalize("x\r\n")), normalize("x\r\n"));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_420_800), "2026-11-23T08:00:00Z");
    }
}
