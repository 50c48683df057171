//! Where `vigil run` takes its rules from: a content store, a pack file, or
//! a rules directory (or the embedded demo rules) made into an in-memory
//! pack. All three go through the content runtime: the pack's framing,
//! digest and signature are verified before anything is parsed, and the
//! rules are compiled and checked by the same loader `content check` uses.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil::content::build::{self, PackInfo};
use vigil::content::check::Budget;
use vigil::content::pack::{TrustPolicy, hex, keys};
use vigil::content::rollout::Store;
use vigil::content::runtime::{ContentAlert, ContentRuntime, FollowStats, Follower, PackIdentity, PackOrigin};
use vigil::replay::demo_rules;
use vigil::sigma::CompileOptions;

/// Content options of `vigil run`.
#[derive(Clone, Debug, clap::Args)]
pub struct ContentArgs {
    /// Sigma rules: a directory (searched recursively) or one rule file,
    /// loaded once as an unsigned in-memory pack: any rule failing the
    /// pack loader's checks refuses them all (default: the embedded demo
    /// rules).
    #[arg(long, conflicts_with_all = ["store", "pack"])]
    pub rules: Option<PathBuf>,
    /// A content store (`vigil content init`): run the pack it assigns to
    /// this host, and switch when it changes (`content promote | rollback | pin`).
    #[arg(long, conflicts_with = "pack")]
    pub store: Option<PathBuf>,
    /// A pack file (`vigil content build`), installed again when it changes.
    #[arg(long)]
    pub pack: Option<PathBuf>,
    /// Require packs signed by this public key (repeat for several; default:
    /// the store's trusted keys; for --pack, unsigned packs are accepted).
    #[arg(long)]
    pub key: Vec<PathBuf>,
    /// This host's id in the store's rollout (default: the host name).
    #[arg(long)]
    pub host_id: Option<String>,
    /// Look at the store or pack file for changes this often, in seconds.
    #[arg(long, default_value_t = 1.0)]
    pub content_poll: f64,
    /// Quarantine a rule that takes longer than this on one event, in milliseconds.
    #[arg(long, default_value_t = 10.0)]
    pub rule_budget_ms: f64,
    /// Keep the last pack accepted here and start from it if the store or
    /// pack file cannot be used at start-up.
    #[arg(long)]
    pub content_state: Option<PathBuf>,
}

impl ContentArgs {
    /// Installs the content and returns the follower that keeps it current,
    /// with the alerts raised meanwhile.
    pub fn start(&self) -> anyhow::Result<(Follower, Vec<ContentAlert>, String)> {
        let keys = self
            .key
            .iter()
            .map(|k| keys::read_verifying_key(k).with_context(|| format!("{}: cannot read the key", k.display())))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (origin, label) = self.origin(keys)?;
        let mut runtime = ContentRuntime::new(TrustPolicy::AllowUnsigned);
        if let Some(dir) = &self.content_state {
            runtime = runtime.with_state_dir(dir.clone());
        }
        let every = Duration::try_from_secs_f64(self.content_poll)
            .ok()
            .filter(|d| !d.is_zero())
            .context("--content-poll must be a positive number of seconds")?;
        let (follower, alerts) =
            Follower::start(runtime, origin, every).with_context(|| format!("{label}: no usable content"))?;
        Ok((follower, alerts, label))
    }

    /// The watchdog's budget (`--rule-budget-ms`).
    pub fn budget(&self) -> anyhow::Result<Budget> {
        let max = Duration::try_from_secs_f64(self.rule_budget_ms / 1e3)
            .ok()
            .filter(|d| !d.is_zero())
            .context("--rule-budget-ms must be a positive number of milliseconds")?;
        Ok(Budget { max_ns: u64::try_from(max.as_nanos()).unwrap_or(u64::MAX), ..Budget::default() })
    }

    fn origin(&self, keys: Vec<ed25519_dalek::VerifyingKey>) -> anyhow::Result<(PackOrigin, String)> {
        if let Some(dir) = &self.store {
            let store = Store::open(dir)?;
            let host = self.host_id.clone().unwrap_or_else(host_name);
            let label = format!("content store {} (host {host})", dir.display());
            let keys = (!keys.is_empty()).then_some(keys);
            return Ok((PackOrigin::Store { store, host, keys }, label));
        }
        if let Some(path) = &self.pack {
            let policy = if keys.is_empty() { TrustPolicy::AllowUnsigned } else { TrustPolicy::Keys(keys) };
            return Ok((PackOrigin::File { path: path.clone(), policy }, format!("pack {}", path.display())));
        }
        let (sources, label) = match &self.rules {
            Some(p) => (rule_sources(p)?, format!("rules {}", p.display())),
            None => {
                let s = demo_rules::SOURCES.iter().map(|(p, t)| ((*p).to_owned(), build::normalize(t))).collect();
                (s, "the embedded demo rules".to_owned())
            }
        };
        let info = PackInfo { pack_version: 0, created: build::now_rfc3339(), compile: CompileOptions::default() };
        let bytes = build::assemble(&sources, &info, None).with_context(|| format!("{label}: cannot make a pack"))?;
        Ok((PackOrigin::Fixed { label: label.clone(), bytes }, label))
    }
}

/// `(name, normalized text)` of a rules directory or of one rule file.
fn rule_sources(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    if path.is_dir() {
        let files = build::read_rules(path)?;
        return Ok(files.into_iter().map(|(p, t)| (build::rel_name(&p), t)).collect());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read rules", path.display()))?;
    let name = path.file_name().map_or_else(|| "rule.yml".into(), |n| n.to_string_lossy().into_owned());
    Ok(vec![(name, build::normalize(&text))])
}

/// The host name, for the store's ring assignment.
fn host_name() -> String {
    let from_env = std::env::var("COMPUTERNAME").or_else(|_| std::env::var("HOSTNAME")).ok();
    let from_proc = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_owned());
    from_env.or_else(from_proc).filter(|h| !h.is_empty()).unwrap_or_else(|| "localhost".into())
}

/// One content alert as `vigil run` logs it; `records`: records delivered
/// when it was raised (a swap applies from the next one on).
pub fn alert_line(a: &ContentAlert, records: Option<u64>) -> String {
    match records {
        Some(n) => format!("content: {a} [after record {n}]"),
        None => format!("content: {a}"),
    }
}

/// The closing content line.
pub fn final_line(pack: Option<&PackIdentity>, s: &FollowStats) -> String {
    let pack = pack.map_or_else(|| "none".into(), |p| format!("{} version {}", p.short_id(), p.pack_version));
    format!(
        "content: pack {pack} active; swaps {}, refused {}, quarantined rules {}",
        s.swaps, s.refusals, s.quarantined
    )
}

/// The content part of `--summary`.
pub fn summary_json(pack: Option<&PackIdentity>, s: &FollowStats) -> serde_json::Value {
    serde_json::json!({
        "pack": pack.map(|p| hex(&p.digest)),
        "pack_version": pack.map(|p| p.pack_version),
        "swaps": s.swaps,
        "refusals": s.refusals,
        "quarantined": s.quarantined,
    })
}
