//! Staged rollout: channels of rings with bake times and health gates, a
//! state machine that promotes or rolls back, and the content store the CLI
//! keeps it in.

pub mod assign;
pub mod channel;
pub mod health;
pub mod state;
pub mod store;

pub use assign::{bucket, ring_of};
pub use channel::{Channel, Gates, Ring, VolumeGate};
pub use health::{GateFailure, HostReport, Tally};
pub use state::{Decision, PackRef, Phase, Pin, PinTarget, Release, Rollout, RolloutError};
pub use store::{Store, StoreError};
