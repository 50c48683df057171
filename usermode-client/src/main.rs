//! `vigil`: the Vigil analyzer.

mod cli;

use clap::Parser;

fn main() -> anyhow::Result<std::process::ExitCode> {
    cli::Cli::parse().run()
}
