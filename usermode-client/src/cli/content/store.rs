//! `content init | promote | rollback | pause | pin | status` on a content store.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil::content::build::rfc3339;
use vigil::content::pack::{TrustPolicy, keys};
use vigil::content::rollout::{Channel, Decision, Phase, PinTarget, Rollout, Store, bucket, ring_of};

/// The store and the clock every store command takes.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// The content store directory.
    #[arg(long)]
    store: PathBuf,
    /// Current time in seconds since 1970 (default: now); for scripts and tests.
    #[arg(long, hide = true)]
    now: Option<u64>,
}

impl StoreArgs {
    fn now(&self) -> u64 {
        self.now.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
        })
    }

    fn open(&self) -> anyhow::Result<(Store, Rollout)> {
        let s = Store::open(&self.store)?;
        let r = s.load()?;
        Ok((s, r))
    }
}

/// Arguments of `content init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// Channel definition (JSON); default: canary 1 % 4 h, early 10 % 8 h, broad 100 % 24 h.
    #[arg(long)]
    channel: Option<PathBuf>,
    /// Public key whose signature every promoted pack must carry (repeat for several).
    #[arg(long)]
    key: Vec<PathBuf>,
}

impl InitArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let channel = match &self.channel {
            Some(p) => {
                let text = std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
                serde_json::from_slice(&text).with_context(|| format!("{}: not a channel definition", p.display()))?
            }
            None => Channel::standard(),
        };
        let store = Store::init(&self.at.store, channel)?;
        if !self.key.is_empty() {
            let mut r = store.load()?;
            for k in &self.key {
                r.trusted_keys.push(vigil::content::pack::hex(keys::read_verifying_key(k)?.as_bytes()));
            }
            store.save(&r)?;
        }
        println!(
            "content store {} created ({})",
            self.at.store.display(),
            if self.key.is_empty() { "unsigned packs accepted" } else { "signed packs only" }
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// Arguments of `content promote`.
#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// A pack to start releasing; without it, the release in progress moves
    /// on if its ring has baked and its health gates pass.
    pack: Option<PathBuf>,
    /// Require the pack to be signed by this public key (default: the
    /// store's trusted keys, if it has any).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Skip the rest of the bake (recorded in the history).
    #[arg(long)]
    force: bool,
    /// Hosts in the current rings, for the minimum-reporting gate (default: not applied).
    #[arg(long, default_value_t = 0)]
    expected_hosts: u64,
}

impl PromoteArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (store, mut r) = self.at.open()?;
        let now = self.at.now();
        if let Some(path) = &self.pack {
            let policy = match &self.key {
                Some(k) => TrustPolicy::Keys(vec![keys::read_verifying_key(k)?]),
                None if r.trusted_keys.is_empty() => TrustPolicy::AllowUnsigned,
                None => TrustPolicy::Keys(store_keys(&r)?),
            };
            let p = store.add_pack(path, &policy)?;
            r.start(p.clone(), now)?;
            store.save(&r)?;
            println!("{}", r.log.last().map_or("", |l| l.what.as_str()));
            return Ok(ExitCode::SUCCESS);
        }
        let decision = if self.force {
            r.force_advance(now)?
        } else {
            let release = r.release.as_ref().filter(|x| matches!(x.phase, Phase::Baking | Phase::Paused));
            let release = release.context("no release in progress")?;
            if release.phase == Phase::Paused {
                anyhow::bail!("release {} is paused: `vigil content pause --resume` first", release.pack.short());
            }
            let t = store.tally(&release.pack.digest)?;
            let control = match &r.last_known_good {
                Some(l) => store.tally(&l.digest)?,
                None => Default::default(),
            };
            r.step(now, &t, &control, self.expected_hosts)
        };
        store.save(&r)?;
        match decision {
            Decision::Wait => {
                let rel = r.release.as_ref().context("no release")?;
                let end = rel.ring_started + r.channel.rings[rel.ring].bake_minutes * 60;
                println!(
                    "still baking on {} until {} (health gates pass so far)",
                    r.channel.rings[rel.ring].name,
                    rfc3339(end)
                );
            }
            Decision::RolledBack(_) => {
                println!("{}", r.log.last().map_or("", |l| l.what.as_str()));
                return Ok(ExitCode::FAILURE);
            }
            _ => println!("{}", r.log.iter().rev().find(|l| !l.what.starts_with('(')).map_or("", |l| l.what.as_str())),
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The store's trusted public keys.
fn store_keys(r: &Rollout) -> anyhow::Result<Vec<ed25519_dalek::VerifyingKey>> {
    r.trusted_keys
        .iter()
        .map(|h| {
            let bytes = keys::unhex::<32>(h).context("state.json: trusted_keys entry is not 64 hex digits")?;
            ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .context("state.json: trusted_keys entry is not an ed25519 key")
        })
        .collect()
}

/// Arguments of `content rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// Why (kept in the history).
    #[arg(long, default_value = "no reason given")]
    reason: String,
}

impl RollbackArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (store, mut r) = self.at.open()?;
        r.rollback(self.at.now(), &self.reason)?;
        store.save(&r)?;
        println!("{}", r.log.last().map_or("", |l| l.what.as_str()));
        Ok(ExitCode::SUCCESS)
    }
}

/// Arguments of `content pause`.
#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// Resume instead.
    #[arg(long)]
    resume: bool,
}

impl PauseArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (store, mut r) = self.at.open()?;
        r.pause(self.at.now(), !self.resume)?;
        store.save(&r)?;
        println!("{}", r.log.last().map_or("", |l| l.what.as_str()));
        Ok(ExitCode::SUCCESS)
    }
}

/// Arguments of `content pin`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["host", "ring"])))]
#[command(group(clap::ArgGroup::new("what").required(true).args(["pack", "unpin"])))]
pub struct PinArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// A host id.
    #[arg(long)]
    host: Option<String>,
    /// A ring name.
    #[arg(long)]
    ring: Option<String>,
    /// The pack (digest or unique prefix, or `lkg` for the last known good).
    #[arg(long)]
    pack: Option<String>,
    /// Release the pin.
    #[arg(long)]
    unpin: bool,
}

impl PinArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (store, mut r) = self.at.open()?;
        let target = match (self.host, self.ring) {
            (Some(h), _) => PinTarget::Host(h),
            (None, Some(n)) => PinTarget::Ring(n),
            (None, None) => anyhow::bail!("--host or --ring is required"),
        };
        let pack = match self.pack.as_deref() {
            None => None,
            Some("lkg") => Some(r.last_known_good.as_ref().context("no last known good yet")?.digest.clone()),
            Some(prefix) => Some(store.resolve(prefix)?),
        };
        r.pin(self.at.now(), target, pack)?;
        store.save(&r)?;
        println!("{}", r.log.last().map_or("", |l| l.what.as_str()));
        Ok(ExitCode::SUCCESS)
    }
}

/// Arguments of `content status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// Also say which ring this host is in and which pack it should run.
    #[arg(long)]
    host: Option<String>,
}

impl StatusArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (_, r) = self.at.open()?;
        let now = self.at.now();
        let rings: Vec<String> = r
            .channel
            .rings
            .iter()
            .map(|x| format!("{} {} % ({} h)", x.name, x.percent, x.bake_minutes as f64 / 60.0))
            .collect();
        println!("channel {}: {}", r.channel.name, rings.join(" -> "));
        match store_keys(&r)?.as_slice() {
            [] => println!("signatures: not required (digests are still verified)"),
            ks => {
                let ids: Vec<String> = ks.iter().map(|k| vigil::content::pack::KeyId::of(k).to_string()).collect();
                println!("signatures: required, by key {}", ids.join(" or "));
            }
        }
        match &r.last_known_good {
            Some(p) => println!("last known good: {} version {}, {} rules", p.short(), p.pack_version, p.rules),
            None => println!("last known good: none yet"),
        }
        match &r.release {
            Some(rel) => {
                let ring = &r.channel.rings[rel.ring];
                let state = match rel.phase {
                    Phase::Baking => {
                        let left = (rel.ring_started + ring.bake_minutes * 60).saturating_sub(now);
                        format!(
                            "baking on {} ({} % of hosts), {:.1} h of bake left",
                            ring.name,
                            ring.percent,
                            left as f64 / 3600.0
                        )
                    }
                    Phase::Paused => format!("paused on {} ({} % of hosts)", ring.name, ring.percent),
                    Phase::RolledBack => {
                        format!("rolled back from {}: {}", ring.name, rel.reason.as_deref().unwrap_or(""))
                    }
                    Phase::Complete => "complete (100 % of hosts)".into(),
                };
                println!("release: {} version {}: {state}", rel.pack.short(), rel.pack.pack_version);
            }
            None => println!("release: none"),
        }
        for p in &r.pins {
            println!("pin: {} -> {}", p.target, p.pack.get(..12).unwrap_or(&p.pack));
        }
        if let Some(h) = &self.host {
            let ring = &r.channel.rings[ring_of(&r.channel, h)];
            let runs = r.assigned(h).map_or("nothing", |d| d.get(..12).unwrap_or(d));
            println!("host {h}: bucket {} of 10000, ring {}, runs {runs}", bucket(h), ring.name);
        }
        println!("history:");
        for l in &r.log {
            println!("  {}  {}", rfc3339(l.at), l.what);
        }
        Ok(ExitCode::SUCCESS)
    }
}
