//! Content safety: how detection content gets from an operator's rules
//! directory to every analyzer without ever being able to take one down.
//!
//! - [`pack`]: the pack file (manifest + normalized rules, SHA-256, optional
//!   ed25519 signature) and its total loader.
//! - [`build`] and [`check`]: `content build` / `content check`: the
//!   runtime's own compiler, the event schema ([`schema`]), regex limits,
//!   a per-rule cost budget measured on a [`corpus`], and each rule's examples.
//! - [`runtime`]: atomic installation with last-known-good fallback, and the
//!   per-rule watchdog that quarantines rules over budget.
//! - [`rollout`]: channels, rings, health gates and the content store behind
//!   `content promote | rollback | pause | pin | status`.
//! - [`sim`]: the deterministic in-process fleet of `content simulate`.
//! - [`driver_config`]: kernel configuration from a channel, through the
//!   driver's own validation.
//!
//! `docs/content-safety.md` maps each of these to the July 2024 root-cause
//! analysis and to the test that proves it.

pub mod build;
pub mod check;
pub mod corpus;
pub mod driver_config;
pub mod pack;
pub mod rollout;
pub mod runtime;
pub mod schema;
pub mod sim;
