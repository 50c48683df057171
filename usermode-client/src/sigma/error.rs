//! Why a rule was rejected, and where.

use std::fmt;
use std::path::PathBuf;

/// A rule that could not be loaded or compiled: the file, the 1-based line
/// of the offending YAML node (0 when the whole file is at fault) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    /// The rule file (or the name given to [`crate::sigma::RuleSet::from_sources`]).
    pub path: PathBuf,
    /// 1-based line of the node at fault; 0 if none applies (e.g. unreadable file).
    pub line: u32,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.reason)
    }
}

/// A compile failure before the file is known; [`Located::at`] adds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Located {
    pub line: u32,
    pub reason: String,
}

impl Located {
    pub fn new(line: u32, reason: impl Into<String>) -> Self {
        Self { line, reason: reason.into() }
    }

    pub fn at(self, path: impl Into<PathBuf>) -> RuleError {
        RuleError { path: path.into(), line: self.line, reason: self.reason }
    }
}

/// Shorthand for fallible compile steps.
pub(crate) type CResult<T> = Result<T, Located>;
