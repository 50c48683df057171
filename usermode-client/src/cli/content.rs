//! `vigil content`: build, check and sign packs; stage them through a
//! content store; simulate a fleet.

mod pack;
mod simulate;
mod store;

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// Create an ed25519 key pair for signing packs (BASE.secret, BASE.pub).
    Keygen(pack::KeygenArgs),
    /// Check every rule of DIR and write a versioned (optionally signed) pack.
    Build(pack::BuildArgs),
    /// Check a pack or a rules directory; one verdict per rule. Exits 1 on any failure.
    Check(pack::CheckArgs),
    /// Create a content store (a local directory) for a channel.
    Init(store::InitArgs),
    /// Start releasing PACK at the first ring, or move the release on if it baked and is healthy.
    Promote(store::PromoteArgs),
    /// Withdraw the release in progress: every host goes back to the last known good.
    Rollback(store::RollbackArgs),
    /// Hold the release at its current ring (or resume it).
    Pause(store::PauseArgs),
    /// Hold a host or a ring on a pack whatever the rollout does (or release it).
    Pin(store::PinArgs),
    /// Show the channel, the release, exposure, pins and history.
    Status(store::StatusArgs),
    /// Run the 10,000-host fleet simulation and print its table.
    Simulate(simulate::SimulateArgs),
}

impl ContentCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            ContentCommand::Keygen(a) => a.run(),
            ContentCommand::Build(a) => a.run(),
            ContentCommand::Check(a) => a.run(),
            ContentCommand::Init(a) => a.run(),
            ContentCommand::Promote(a) => a.run(),
            ContentCommand::Rollback(a) => a.run(),
            ContentCommand::Pause(a) => a.run(),
            ContentCommand::Pin(a) => a.run(),
            ContentCommand::Status(a) => a.run(),
            ContentCommand::Simulate(a) => a.run(),
        }
    }
}
