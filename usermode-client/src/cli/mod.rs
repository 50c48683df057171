//! The `vigil` command line: one module per subcommand.

mod rules;

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
}

impl Cli {
    /// Runs the chosen subcommand; the exit code comes back as `Ok`.
    pub fn run(self) -> anyhow::Result<std::process::ExitCode> {
        match self.command {
            Command::Rules(c) => c.run(),
        }
    }
}
