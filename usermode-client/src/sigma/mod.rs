//! The Sigma engine: rule parsing, compilation and matching.
//!
//! SigmaHQ rules apply unmodified: field names are Sysmon's (see
//! [`crate::event::Field`]), `logsource: category` routes a rule to the
//! events of that [`Category`](crate::event::Category).
//!
//! # Public API (stable)
//!
//! ```no_run
//! use vigil::event::{Category, Event, Field};
//! use vigil::sigma::{Engine, RuleSet};
//!
//! // Load a directory: rules that fail to compile come back as errors
//! // (file, line, reason); the rest load.
//! let (rules, errors) = RuleSet::load_dir("rules/");
//! for e in &errors {
//!     eprintln!("rejected {e}");
//! }
//! let mut engine = Engine::new(&rules);
//! let mut ev = Event::new(Category::ProcessCreation);
//! ev.set_str(Field::CommandLine, "whoami /all");
//! let mut hits = Vec::new();
//! engine.matches(&ev, &mut hits);
//! for id in &hits {
//!     let m = rules.meta(*id);
//!     println!("{} ({}) by {}", m.title, m.id, m.author.as_deref().unwrap_or("?"));
//! }
//! ```
//!
//! - [`RuleSet::load_dir`] / [`RuleSet::from_sources`] (and `_with` variants
//!   taking [`CompileOptions`], e.g. regex size limits) compile rules;
//!   [`RuleError`] names file, line and reason of each rejection.
//! - [`RuleSet::meta`] gives [`RuleMeta`] (id, title, level, status, author,
//!   tags, path, logsource, ...). Keep `author` in alerts: SigmaHQ rules are
//!   DRL 1.1 and require attribution.
//! - [`RuleSet::fields`] lists the fields each compiled rule reads;
//!   [`schema::fields_of`] lists the fields each category's events can carry.
//! - [`Engine::new`] indexes a set; [`Engine::matches`] evaluates one event
//!   (no allocation per event after warm-up); [`Engine::matches_batch`]
//!   spreads a batch over threads; [`Engine::single`] evaluates one rule alone.
//!
//! # Semantics
//!
//! Strings match case-insensitively unless `cased`; `*`/`?` are wildcards and
//! `\` escapes `*`, `?` and `\` (any other `\` is literal). A `null` value
//! matches an absent field, never an empty string. Modifiers: contains,
//! startswith, endswith, all, re (with i/m/s), windash (`-` and `/` at the
//! start of a word, five dash forms, like pySigma), base64, base64offset,
//! wide/utf16le/utf16be/utf16, cidr, exists, fieldref, cased,
//! lt/lte/gt/gte. Conditions: and/or/not, parentheses, `1 of`, `all of`,
//! `N of` (at least N), `them` (identifiers not starting with `_`), lists of
//! conditions (OR). Keyword (fieldless) selections search every field.
//! Not supported (rejected with a reason): aggregations (`| count()`),
//! `timeframe`, correlation and filter rules, `expand` placeholders,
//! multi-document rule collections.

mod compile;
mod condition;
mod engine;
mod error;
mod ir;
mod modifiers;
mod pattern;
mod regex_lit;
mod regex_trim;
mod rule;
mod ruleset;
pub mod schema;
pub(crate) mod yaml;

pub use compile::CompileOptions;
pub use engine::{Engine, EngineStats};
pub use error::RuleError;
pub use ir::FieldName;
pub use rule::{LogSource, RuleMeta};
pub use ruleset::{RuleId, RuleSet};
