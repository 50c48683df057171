//! `content simulate`: the fleet simulation's table.

use std::process::ExitCode;
use std::time::Instant;
use vigil::content::sim::{self, Scenario, SimConfig};

/// Arguments of `content simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Hosts in the fleet.
    #[arg(long, default_value_t = 10_000)]
    hosts: usize,
    /// Seed of the workload and signing key.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl SimulateArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let cfg = SimConfig { hosts: self.hosts, seed: self.seed, ..SimConfig::default() };
        let rings: Vec<String> = cfg
            .channel
            .rings
            .iter()
            .map(|r| format!("{} {} % ({} h)", r.name, r.percent, r.bake_minutes / 60))
            .collect();
        println!("{} simulated hosts, channel {}, one period = 1 simulated hour\n", cfg.hosts, rings.join(" -> "));
        let t = Instant::now();
        let outcomes: Vec<_> = Scenario::ALL.iter().map(|&s| sim::run(s, &cfg)).collect();
        print!("{}", sim::table(&outcomes));
        println!();
        for o in &outcomes {
            let why = o.reason.as_deref().or(o.first_alert.as_deref()).unwrap_or("completed");
            println!("{}: {why}", o.scenario.label());
        }
        println!("\n({:.1} s)", t.elapsed().as_secs_f64());
        Ok(ExitCode::SUCCESS)
    }
}
