//! `vigil demo`: generate a synthetic workstation's records, write them as a
//! capture, replay the capture through the embedded demo rules.

use super::replay::{default_threads, run_replay};
use super::report::Format;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use vigil::capture::CaptureWriter;
use vigil::replay::{ReplayOptions, demo_rules};
use vigil::synth::{self, Workload};

/// Arguments of `vigil demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Records to generate (about; the boot and the attack chain complete).
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Seed of the generator: the same seed gives the same records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the capture here (default: a temporary file, removed after).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Alert format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Matching threads (default: available cores).
    #[arg(long)]
    threads: Option<usize>,
}

impl DemoArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (rules, errors) = demo_rules::load();
        anyhow::ensure!(errors.is_empty(), "embedded demo rules do not compile: {errors:?}");
        let keep = self.out.is_some();
        let path =
            self.out.unwrap_or_else(|| std::env::temp_dir().join(format!("vigil-demo-{}.vcap", std::process::id())));
        let say = |s: String| if self.format == Format::Json { eprintln!("{s}") } else { println!("{s}") };

        let t = Instant::now();
        let workload = Workload::new(self.seed, self.events);
        let runs = workload.attack_runs();
        let mut w = CaptureWriter::create(&path, &Workload::capture_info())?;
        let labels = synth::write_capture(workload, &mut w)?;
        w.finish()?;
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        say(format!(
            "generated {} records of a synthetic workstation (seed {}, attack chain x{runs}) in {:.2} s -> {} ({:.1} MB)",
            labels.len(),
            self.seed,
            t.elapsed().as_secs_f64(),
            path.display(),
            size as f64 / 1e6
        ));
        say(format!("replaying through {} demo rules (rules/demo, embedded)\n", rules.len()));

        let opts = ReplayOptions { threads: self.threads.unwrap_or_else(default_threads), pe_metadata: false };
        let result = run_replay(std::slice::from_ref(&path), &rules, self.format, opts);
        if !keep {
            std::fs::remove_file(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
        }
        let stats = result?;
        Ok(if stats.inputs_failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    }
}
