//! `vigil replay <inputs…> --rules <dir|file>`: captures, Windows event JSON
//! and EVTX through the Sigma engine.

use super::report::{Format, Printer, stats_lines};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vigil::replay::{self, Callbacks, ReplayOptions};
use vigil::sigma::{Engine, RuleSet};

/// Arguments of `vigil replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Vigil captures, Windows event JSON or EVTX files (format detected).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Sigma rules: a directory (searched recursively) or one rule file.
    #[arg(long)]
    rules: PathBuf,
    /// Alert format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Matching threads (default: available cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Do not read PE metadata (version strings, hashes) from this
    /// machine's files: use when replaying another Windows host's capture.
    #[arg(long)]
    no_pe: bool,
}

/// Loads rules from a directory or a single file; rejected rules are
/// printed and the rest are used.
pub fn load_rules(path: &Path) -> anyhow::Result<RuleSet> {
    let (rules, errors) = if path.is_dir() {
        RuleSet::load_dir(path)
    } else {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read rules", path.display()))?;
        RuleSet::from_sources([(path.to_path_buf(), text)])
    };
    for e in &errors {
        eprintln!("warning: rule rejected: {e}");
    }
    if rules.is_empty() {
        bail!("{}: no usable rule", path.display());
    }
    Ok(rules)
}

/// The default number of matching threads.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Replays `inputs` with `rules` and prints alerts, then statistics.
/// Statistics go to stderr with `--format json` so stdout stays JSON lines.
pub fn run_replay(
    inputs: &[PathBuf],
    rules: &RuleSet,
    format: Format,
    opts: ReplayOptions,
) -> anyhow::Result<vigil::replay::ReplayStats> {
    let total: u64 = inputs.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    let engine = Engine::new(rules);
    let printer = std::cell::RefCell::new(Printer::new(format, rules, inputs, total));
    let stats = replay::replay(
        inputs,
        &engine,
        opts,
        Callbacks {
            on_alert: &mut |a| printer.borrow_mut().alert(a),
            on_error: &mut |e| printer.borrow_mut().error(&e),
            on_progress: &mut |n| printer.borrow().progress(n),
        },
    );
    printer.borrow().finish_progress();
    for line in stats_lines(&stats, rules) {
        match format {
            Format::Json => eprintln!("{line}"),
            Format::Table => println!("{line}"),
        }
    }
    Ok(stats)
}

impl ReplayArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let rules = load_rules(&self.rules)?;
        let opts = ReplayOptions { threads: self.threads.unwrap_or_else(default_threads), pe_metadata: !self.no_pe };
        let stats = run_replay(&self.inputs, &rules, self.format, opts)?;
        Ok(if stats.inputs_failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    }
}
