//! `vigil run`: the live analyzer. Reads the driver's ring (Windows) or the
//! stand-in producer's (`--source shm:<name>`, Linux), matches every event
//! against the active content's rules (see [`super::run_content`]), prints
//! alerts as they are raised, installs new content between batches when the
//! store or pack file changes, and on Ctrl-C, SIGTERM or a service stop
//! drains the ring and flushes before it exits.

use super::report::{Format, Printer, thousands};
use super::run_content::{self, ContentArgs};
use super::stats::driver_stats_lines;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use vigil::content::runtime::Evaluator;
use vigil::live::latency::Histogram;
use vigil::live::pipeline::{Callbacks, Notice};
use vigil::live::source::Backoff;
use vigil::live::{EventSource, LiveOptions, LiveStats, RingSource, SourceEvent};
use vigil::sigma::RuleSet;

/// The default `--source`: the driver where there is one.
pub const DEFAULT_SOURCE: &str = if cfg!(windows) { "driver" } else { "shm:vigil" };

/// Arguments of `vigil run`.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Where records come from: `driver` (Windows: vigil.sys) or `shm:<name>`
    /// (Linux: the stand-in producer started with `vigil simulate-driver`).
    #[arg(long, default_value = DEFAULT_SOURCE)]
    pub source: String,
    /// Where the rules come from.
    #[command(flatten)]
    pub content: ContentArgs,
    /// Alert format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Append alerts to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Append messages and statistics to this file instead of standard error.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Record every record into this capture (with the host's volume and
    /// account tables) for `vigil replay`.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Print statistics every this many seconds (0: only at the end).
    #[arg(long, default_value_t = 0.0)]
    pub stats_every: f64,
    /// Write the final statistics as JSON to this file.
    #[arg(long)]
    pub summary: Option<PathBuf>,
    /// Do not read PE metadata (version strings, hashes) of images. Always
    /// off for `shm:` sources, whose images are not on this machine.
    #[arg(long)]
    pub no_pe: bool,
}

impl RunArgs {
    /// Runs until stopped (Ctrl-C, SIGINT/SIGTERM).
    pub fn run(self) -> anyhow::Result<ExitCode> {
        vigil::live::stop::install_handlers().context("cannot install the stop handler")?;
        run_live(&self, vigil::live::stop::flag())
    }
}

/// Where messages go: standard error or the `--log` file.
struct Log(Box<dyn Write>);

impl Log {
    fn open(path: Option<&PathBuf>) -> anyhow::Result<Self> {
        Ok(Log(match path {
            Some(p) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("{}: cannot open the log", p.display()))?,
            ),
            None => Box::new(std::io::stderr()),
        }))
    }

    fn say(&mut self, line: &str) {
        let _ = writeln!(self.0, "{line}");
        let _ = self.0.flush();
    }
}

fn open_source(spec: &str) -> anyhow::Result<Box<dyn EventSource>> {
    if let Some(name) = spec.strip_prefix("shm:") {
        return shm_source(name);
    }
    if spec == "driver" {
        return driver_source();
    }
    bail!("unknown source {spec:?}: use `driver` (Windows) or `shm:<name>` (Linux)")
}

#[cfg(target_os = "linux")]
fn shm_source(name: &str) -> anyhow::Result<Box<dyn EventSource>> {
    let provider = vigil::live::shm::ShmProvider::new(name)?;
    let backoff = Backoff { min: Duration::from_millis(50), max: Duration::from_secs(1) };
    Ok(Box::new(RingSource::new(provider, backoff)))
}

#[cfg(not(target_os = "linux"))]
fn shm_source(_name: &str) -> anyhow::Result<Box<dyn EventSource>> {
    bail!("`shm:` sources (the stand-in producer) exist on Linux only")
}

#[cfg(windows)]
fn driver_source() -> anyhow::Result<Box<dyn EventSource>> {
    let provider = vigil::live::windows::DriverProvider::new(vigil::live::windows::RingOptions::default());
    let backoff = Backoff { min: Duration::from_secs(1), max: Duration::from_secs(30) };
    Ok(Box::new(RingSource::new(provider, backoff)))
}

#[cfg(not(windows))]
fn driver_source() -> anyhow::Result<Box<dyn EventSource>> {
    bail!(
        "the `driver` source needs Windows and vigil.sys; on Linux use --source shm:<name> with `vigil simulate-driver`"
    )
}

/// The live loop behind `vigil run` and `vigil service run`.
pub fn run_live(args: &RunArgs, stop: &AtomicBool) -> anyhow::Result<ExitCode> {
    let budget = args.content.budget()?;
    let (mut follower, started_alerts, origin) = args.content.start()?;
    if let Some(p) = &args.record {
        // Fail now rather than at the first attach, which may be much later.
        std::fs::File::create(p).with_context(|| format!("{}: cannot create the capture", p.display()))?;
    }
    let mut source = open_source(&args.source)?;
    let mut log = Log::open(args.log.as_ref())?;
    let evaluator = Evaluator::new(Arc::clone(follower.active()), budget);
    let is_shm = args.source.starts_with("shm:");
    let opts = LiveOptions {
        record: args.record.clone(),
        pe_metadata: !args.no_pe && !is_shm,
        account_lookup: !is_shm,
        tick: (args.stats_every > 0.0).then(|| Duration::from_secs_f64(args.stats_every)),
        ..LiveOptions::default()
    };
    let inputs = [PathBuf::from(source.describe())];
    let no_rules = RuleSet::default();
    let mut printer = Printer::live(args.format, &no_rules, &inputs);
    if let Some(p) = &args.output {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .with_context(|| format!("{}: cannot open the alert output", p.display()))?;
        printer = printer.with_output(f);
    }
    for a in &started_alerts {
        log.say(&run_content::alert_line(a, None));
    }
    let rules = follower.active().load().rules().len();
    log.say(&format!("vigil run: {rules} rules from {origin}, source {}; Ctrl-C to stop", source.describe()));
    let describe = source.describe();
    let mut last_retry = String::new();
    let (stats, capture_error) = vigil::live::run(
        source.as_mut(),
        evaluator,
        &opts,
        stop,
        Callbacks {
            on_alert: &mut |a, rules| printer.alert_of(a, rules),
            on_notice: &mut |n| match n {
                Notice::Source(ev) => {
                    if let Some(line) = notice_line(&describe, ev, &mut last_retry) {
                        log.say(&line);
                    }
                }
                Notice::Content(a) => {
                    follower.note(a);
                    log.say(&run_content::alert_line(a, None));
                }
                Notice::Batch { records } => {
                    for a in follower.poll(Instant::now()) {
                        log.say(&run_content::alert_line(&a, Some(records)));
                    }
                }
                Notice::Tick(s, driver) => {
                    log.say(&format!("stats: {}", summary_line(s)));
                    // Mode, ring and totals; per-shard counters are `vigil stats`'s.
                    for l in driver.map(driver_stats_lines).unwrap_or_default().iter().take(3) {
                        log.say(&format!("  driver: {l}"));
                    }
                }
            },
        },
    );
    drop(printer);
    for line in final_lines(&stats) {
        log.say(&line);
    }
    let pack = follower.current();
    log.say(&run_content::final_line(pack.as_ref(), follower.stats()));
    if let Some(path) = &args.summary {
        let mut json = summary_json(&stats, source.driver_stats().as_ref());
        json["content"] = run_content::summary_json(pack.as_ref(), follower.stats());
        std::fs::write(path, json.to_string()).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    if let Some(e) = capture_error {
        log.say(&format!("error: recording stopped: {e}"));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn notice_line(source: &str, ev: &SourceEvent, last_retry: &mut String) -> Option<String> {
    Some(match ev {
        SourceEvent::Attached { shards, shard_size } => {
            last_retry.clear();
            format!("{source}: attached: {shards} shards of {} KiB", shard_size / 1024)
        }
        SourceEvent::Detached { reason, drained } => {
            format!("{source}: detached: {reason}; {} records drained; reattaching", thousands(*drained as u64))
        }
        SourceEvent::Retry { error, after } => {
            let text = error.to_string();
            if *last_retry == text {
                return None;
            }
            *last_retry = text;
            format!("{source}: {error}; retrying (every {:.1} s at most)", after.as_secs_f64().max(1.0))
        }
        SourceEvent::Delivered(_) | SourceEvent::Idle => return None,
    })
}

fn micros(ns: u64) -> String {
    format!("{:.0} µs", ns as f64 / 1000.0)
}

fn latency(h: &Histogram) -> String {
    if h.count() == 0 {
        return "none".into();
    }
    format!(
        "p50 {}, p99 {}, max {} ({} samples)",
        micros(h.quantile(0.5)),
        micros(h.quantile(0.99)),
        micros(h.max()),
        thousands(h.count())
    )
}

fn summary_line(s: &LiveStats) -> String {
    let src = &s.source;
    format!(
        "records {}, events {}, alerts {}, lost {} (in {} Lost records), gaps {}, decode errors {}, resyncs {}, attaches {}",
        thousands(s.records),
        thousands(s.total_events()),
        thousands(s.total_alerts()),
        thousands(src.merge.lost_events),
        thousands(src.merge.lost_records),
        src.merge.seq_gaps,
        src.consumer.decode_errors,
        src.consumer.resyncs,
        src.attaches,
    )
}

fn final_lines(s: &LiveStats) -> Vec<String> {
    let mut l = vec![format!("stopped after {:.1} s: {}", s.elapsed.as_secs_f64(), summary_line(s))];
    l.push(format!("latency commit→match: {}", latency(&s.commit_to_match)));
    l.push(format!("latency commit→alert: {}", latency(&s.commit_to_alert)));
    if let Some(h) = &s.last_heartbeat {
        l.push(format!(
            "last heartbeat: produced {}, dropped {}, config generation {}, mode {}, unclean starts {}",
            thousands(h.produced),
            thousands(h.dropped),
            h.config_generation,
            super::stats::mode_name(h.mode),
            h.unclean_starts
        ));
    }
    for r in s.alerts_by_rule.values() {
        l.push(format!("  {:>8}  {:<8}  {}", thousands(r.count), r.level.as_deref().unwrap_or("-"), r.title));
    }
    if s.captured > 0 {
        l.push(format!("recorded {} records", thousands(s.captured)));
    }
    l
}

fn histogram_json(h: &Histogram) -> serde_json::Value {
    serde_json::json!({
        "count": h.count(), "p50_ns": h.quantile(0.5), "p99_ns": h.quantile(0.99), "max_ns": h.max(), "negative": h.negative,
    })
}

/// The final statistics as JSON (`--summary`).
pub fn summary_json(s: &LiveStats, driver: Option<&vigil_protocol::control::DriverStats>) -> serde_json::Value {
    let src = &s.source;
    serde_json::json!({
        "records": s.records,
        "events": s.total_events(),
        "alerts": s.total_alerts(),
        "alerts_by_rule": s.alerts_by_rule.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.count))).collect::<serde_json::Map<_, _>>(),
        "lost_records": src.merge.lost_records,
        "lost_events": src.merge.lost_events,
        "mapped_lost": s.mapping.lost,
        "seq_gaps": src.merge.seq_gaps,
        "decode_errors": src.consumer.decode_errors,
        "resyncs": src.consumer.resyncs,
        "attaches": src.attaches,
        "detaches": src.detaches,
        "unknown_process": s.mapping.unknown_process,
        "captured": s.captured,
        "elapsed_s": s.elapsed.as_secs_f64(),
        "commit_to_match": histogram_json(&s.commit_to_match),
        "commit_to_alert": histogram_json(&s.commit_to_alert),
        "driver_dropped": driver.map(|d| d.total.dropped()),
    })
}
