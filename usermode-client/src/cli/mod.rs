//! The `vigil` command line: one module per subcommand.

mod content;
mod demo;
mod replay;
mod report;
mod rules;
mod run;
mod run_content;
#[cfg(windows)]
mod service;
#[cfg(target_os = "linux")]
mod simulate;
mod stats;

use clap::{Parser, Subcommand};

/// Vigil analyzer.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sigma rule tools.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Replay captures, Windows event JSON or EVTX through Sigma rules.
    Replay(replay::ReplayArgs),
    /// Generate a synthetic workstation, capture it, and detect the attack in it.
    Demo(demo::DemoArgs),
    /// The live analyzer: the driver's ring (Windows) or a stand-in's (Linux).
    Run(Box<run::RunArgs>),
    /// The driver's statistics: drops, mode (boot-loop guard), configuration.
    Stats(stats::StatsArgs),
    /// Install, remove or run the analyzer as a Windows service.
    #[cfg(windows)]
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Linux stand-in for vigil.sys: a synthetic workload through the ring.
    #[cfg(target_os = "linux")]
    SimulateDriver(simulate::SimulateArgs),
    /// Content safety: packs, checks, staged rollout, fleet simulation.
    #[command(subcommand)]
    Content(content::ContentCommand),
}

impl Cli {
    /// Runs the chosen subcommand; the exit code comes back as `Ok`.
    pub fn run(self) -> anyhow::Result<std::process::ExitCode> {
        match self.command {
            Command::Rules(c) => c.run(),
            Command::Replay(a) => a.run(),
            Command::Demo(a) => a.run(),
            Command::Run(a) => a.run(),
            Command::Stats(a) => a.run(),
            #[cfg(windows)]
            Command::Service(c) => c.run(),
            #[cfg(target_os = "linux")]
            Command::SimulateDriver(a) => a.run(),
            Command::Content(c) => c.run(),
        }
    }
}
