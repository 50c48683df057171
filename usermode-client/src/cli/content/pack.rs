//! `content keygen | build | check`.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vigil::content::build::{self, BuildError, PackInfo};
use vigil::content::check::{self, Budget, CheckOptions, CheckReport, ns};
use vigil::content::corpus::Corpus;
use vigil::content::pack::{self, TrustPolicy, keys};
use vigil::sigma::CompileOptions;

/// Arguments of `content keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Writes OUT.secret (keep it with the operator) and OUT.pub (give it to analyzers).
    #[arg(short, long)]
    out: PathBuf,
}

impl KeygenArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let key = keys::generate().map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
        let (secret, public) = keys::write_pair(&key, &self.out)?;
        let id = pack::KeyId::of(&key.verifying_key());
        println!("key {id}: secret {} (keep private), public {}", secret.display(), public.display());
        Ok(ExitCode::SUCCESS)
    }
}

/// Cost budget and corpus options shared by `build` and `check`.
#[derive(Debug, clap::Args)]
pub struct CostArgs {
    /// Synthetic records in the benchmark corpus (plus one 32 KB stress event per category).
    #[arg(long, default_value_t = 5_000)]
    corpus_records: u64,
    /// Budget: mean microseconds per event of the rule's category.
    #[arg(long, default_value_t = Budget::default().mean_ns as f64 / 1e3)]
    budget_mean_us: f64,
    /// Budget: milliseconds on any single event.
    #[arg(long, default_value_t = Budget::default().max_ns as f64 / 1e6)]
    budget_max_ms: f64,
}

impl CostArgs {
    fn budget(&self) -> Budget {
        Budget { mean_ns: (self.budget_mean_us * 1e3) as u64, max_ns: (self.budget_max_ms * 1e6) as u64 }
    }
}

/// Arguments of `content build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Rules directory (searched recursively for *.yml / *.yaml).
    dir: PathBuf,
    /// The pack to write.
    #[arg(short, long)]
    out: PathBuf,
    /// Version number of this content; must grow from release to release
    /// (default: the creation time in seconds since 1970).
    #[arg(long)]
    pack_version: Option<u64>,
    /// Sign with this secret key (from `content keygen`).
    #[arg(long)]
    sign: Option<PathBuf>,
    /// Leave failing rules out (listed) instead of refusing to build.
    #[arg(long)]
    drop_failing: bool,
    #[command(flatten)]
    cost: CostArgs,
}

impl BuildArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let key = self.sign.as_deref().map(keys::read_signing_key).transpose()?;
        let created = build::now_rfc3339();
        let pack_version = self.pack_version.unwrap_or_else(|| {
            std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
            })
        });
        let info = PackInfo { pack_version, created, compile: CompileOptions::default() };
        let corpus = Corpus::benchmark(self.cost.corpus_records);
        let built = match build::build(&self.dir, &info, self.cost.budget(), &corpus, self.drop_failing, key.as_ref()) {
            Ok(b) => b,
            Err(BuildError::Checks { report }) => {
                print_report(&report);
                eprintln!("error: no pack written: rules failed their checks");
                return Ok(ExitCode::FAILURE);
            }
            Err(e) => return Err(e.into()),
        };
        print_report(&built.report);
        for d in &built.dropped {
            println!("left out {}", d.display());
        }
        std::fs::write(&self.out, &built.bytes).with_context(|| format!("{}: cannot write", self.out.display()))?;
        let v = pack::verify(&built.bytes, &TrustPolicy::AllowUnsigned)?;
        println!(
            "wrote {} ({} bytes): pack {} version {}, {} rules, schema v{}, content sha256 {}, {}",
            self.out.display(),
            built.bytes.len(),
            v.short_id(),
            v.manifest.pack_version,
            v.manifest.rule_count,
            v.manifest.schema_version,
            &v.manifest.content_sha256[..16],
            match &key {
                Some(k) => format!("signed by key {}", pack::KeyId::of(&k.verifying_key())),
                None => "unsigned".into(),
            }
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// Arguments of `content check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A pack file or a rules directory.
    input: PathBuf,
    /// Require a pack signed by this public key (default: accept unsigned packs).
    #[arg(long)]
    key: Option<PathBuf>,
    #[command(flatten)]
    cost: CostArgs,
}

impl CheckArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let sources = if self.input.is_dir() {
            build::read_rules(&self.input)?
        } else {
            match pack_sources(&self.input, self.key.as_deref())? {
                Ok(s) => s,
                Err(e) => {
                    println!("REFUSED {}: {e}", self.input.display());
                    return Ok(ExitCode::FAILURE);
                }
            }
        };
        let corpus = Corpus::benchmark(self.cost.corpus_records);
        let opts = CheckOptions { compile: CompileOptions::default(), budget: self.cost.budget() };
        let (report, _) = check::check_sources(&sources, &opts, Some(&corpus));
        print_report(&report);
        Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}

/// The rules of a pack, after the runtime loader accepted it; the inner
/// error is the loader's refusal.
fn pack_sources(path: &Path, key: Option<&Path>) -> anyhow::Result<Result<Vec<(PathBuf, String)>, pack::PackError>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let policy = match key {
        Some(k) => TrustPolicy::Keys(vec![keys::read_verifying_key(k)?]),
        None => TrustPolicy::AllowUnsigned,
    };
    Ok(pack::load(&bytes, &policy).map(|(v, _)| {
        println!(
            "pack {} version {} created {} by {}: {} rules, schema v{}, signature {}",
            v.short_id(),
            v.manifest.pack_version,
            v.manifest.created,
            v.manifest.compiler,
            v.manifest.rule_count,
            v.manifest.schema_version,
            if v.signature_verified { "verified" } else { "not checked" }
        );
        v.sources.into_iter().map(|(p, t)| (PathBuf::from(p), t)).collect()
    }))
}

/// One line per rule, its problems and warnings under it, then a summary.
pub fn print_report(report: &CheckReport) {
    for r in &report.rules {
        let cost = r.cost.map_or_else(String::new, |c| format!("  mean {} max {}", ns(c.mean_ns), ns(c.max_ns)));
        let id = r.id.get(..8).unwrap_or(&r.id);
        println!(
            "{:<4}  {}  {id}  {}{cost}  {} examples",
            if r.passed() { "PASS" } else { "FAIL" },
            r.path.display(),
            r.title,
            r.examples
        );
        for p in &r.problems {
            println!("      {p}");
        }
        for w in &r.warnings {
            println!("      warning: {w}");
        }
    }
    println!(
        "{} rules: {} passed, {} failed",
        report.rules.len(),
        report.rules.len() - report.failed(),
        report.failed()
    );
}
