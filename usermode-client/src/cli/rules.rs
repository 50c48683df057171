//! `vigil rules check <dir>`: compile every rule, report loaded/rejected.

use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil::sigma::{Engine, RuleSet};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Compile every rule under DIR; list rejections (file:line: reason).
    /// Exits 1 if any rule was rejected.
    Check {
        /// Directory searched recursively for *.yml / *.yaml.
        dir: PathBuf,
    },
}

impl RulesCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            RulesCommand::Check { dir } => check(&dir),
        }
    }
}

fn check(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        anyhow::bail!("{}: not a directory", dir.display());
    }
    let (rules, errors) = RuleSet::load_dir(dir);
    for e in &errors {
        println!("rejected {e}");
    }
    let stats = Engine::new(&rules).stats();
    println!(
        "{} loaded, {} rejected ({} prefilter needles, {} rules without a prefilter)",
        rules.len(),
        errors.len(),
        stats.needles,
        stats.unfiltered_rules
    );
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
