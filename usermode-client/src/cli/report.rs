//! How `replay` and `demo` print: alerts (JSON lines or a table), problems,
//! a progress bar, and the closing statistics.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use vigil::event::Category;
use vigil::mapping::Skip;
use vigil::replay::{Alert, OwnedValue, ReplayError, ReplayStats};
use vigil::sigma::{RuleId, RuleSet};
use vigil_protocol::schema::Kind;

/// Alert output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per alert per line.
    Json,
    /// A table for people.
    Table,
}

/// Problems printed before the rest are only counted.
const MAX_PRINTED_ERRORS: u64 = 20;

/// Prints alerts and problems as they come.
pub struct Printer<'a> {
    format: Format,
    rules: &'a RuleSet,
    inputs: &'a [PathBuf],
    out: Box<dyn Write>,
    header_done: bool,
    errors: u64,
    progress: ProgressBar,
}

impl<'a> Printer<'a> {
    /// A printer; the progress bar shows only when stderr is a terminal.
    pub fn new(format: Format, rules: &'a RuleSet, inputs: &'a [PathBuf], total_bytes: u64) -> Self {
        let progress = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total_bytes);
            let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { format, rules, inputs, out: Box::new(std::io::stdout().lock()), header_done: false, errors: 0, progress }
    }

    /// A printer for a live run: no progress bar; alerts to standard output.
    pub fn live(format: Format, rules: &'a RuleSet, inputs: &'a [PathBuf]) -> Self {
        let out = Box::new(std::io::stdout().lock());
        Self { format, rules, inputs, out, header_done: false, errors: 0, progress: ProgressBar::hidden() }
    }

    /// The same printer writing alerts to `out` (flushed line by line).
    pub fn with_output(mut self, out: impl Write + 'static) -> Self {
        self.out = Box::new(std::io::LineWriter::new(out));
        self
    }

    /// Advances the progress bar.
    pub fn progress(&self, bytes: u64) {
        self.progress.inc(bytes);
    }

    /// Removes the progress bar.
    pub fn finish_progress(&self) {
        self.progress.finish_and_clear();
    }

    /// Prints one problem (the first few; the rest are counted).
    pub fn error(&mut self, e: &ReplayError) {
        self.errors += 1;
        if self.errors <= MAX_PRINTED_ERRORS {
            self.progress.suspend(|| eprintln!("warning: {e}"));
        } else if self.errors == MAX_PRINTED_ERRORS + 1 {
            self.progress.suspend(|| eprintln!("warning: further problems are counted, not printed"));
        }
    }

    /// Prints one alert.
    pub fn alert(&mut self, a: &Alert) {
        self.alert_of(a, self.rules);
    }

    /// Prints one alert whose rule is in `rules` (live content changes).
    pub fn alert_of(&mut self, a: &Alert, rules: &RuleSet) {
        let line = match self.format {
            Format::Json => self.json_line(a, rules),
            Format::Table => {
                let mut s = String::new();
                if !self.header_done {
                    self.header_done = true;
                    s = format!("{:<23}  {:<8}  {:<50}  {}\n", "TIME (UTC)", "LEVEL", "RULE", "WHAT");
                }
                s + &self.table_line(a, rules)
            }
        };
        self.progress.suspend(|| {
            let _ = writeln!(self.out, "{line}");
        });
    }

    fn json_line(&self, a: &Alert, rules: &RuleSet) -> String {
        let m = rules.meta(a.rule);
        let mut event = serde_json::Map::new();
        for (k, v) in &a.fields {
            let v = match v {
                OwnedValue::Str(s) => serde_json::Value::from(s.as_str()),
                OwnedValue::Int(i) => serde_json::Value::from(*i),
            };
            event.insert(k.clone(), v);
        }
        let obj = serde_json::json!({
            "rule_id": m.id,
            "rule_title": m.title,
            "level": m.level,
            "tags": m.tags,
            "author": m.author,
            "rule_path": m.path.display().to_string(),
            "category": a.category.name(),
            "input": self.inputs.get(a.input).map(|p| p.display().to_string()),
            "record": a.record,
            "event": event,
        });
        obj.to_string()
    }

    fn table_line(&self, a: &Alert, rules: &RuleSet) -> String {
        let m = rules.meta(a.rule);
        let f = |n: &str| a.field(n).unwrap_or_default();
        let what = match a.category {
            Category::ProcessCreation => format!("{} ← {}: {}", f("Image"), f("ParentImage"), f("CommandLine")),
            Category::ImageLoad => format!("{} loaded {}", f("Image"), f("ImageLoaded")),
            Category::FileRename => format!("{}: {} → {}", f("Image"), f("SourceFilename"), f("TargetFilename")),
            Category::FileAccess => format!("{}: {}", f("Image"), f("FileName")),
            _ => format!("{}: {}", f("Image"), f("TargetFilename")),
        };
        let what: String =
            if what.chars().count() > 140 { what.chars().take(139).chain(['…']).collect() } else { what };
        let title: String = m.title.chars().take(50).collect();
        format!("{:<23}  {:<8}  {:<50}  {}", f("UtcTime"), m.level.as_deref().unwrap_or("-"), title, what)
    }
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The closing statistics, as lines.
pub fn stats_lines(stats: &ReplayStats, rules: &RuleSet) -> Vec<String> {
    let mut l = Vec::new();
    l.push(format!(
        "replayed {} input(s), {} records, {} events in {:.2} s ({} events/s)",
        stats.inputs,
        thousands(stats.records),
        thousands(stats.total_events()),
        stats.elapsed.as_secs_f64(),
        thousands(stats.events_per_second() as u64),
    ));
    let cats: Vec<String> = Category::ALL
        .iter()
        .filter(|&&c| stats.events[c as usize] > 0)
        .map(|&c| format!("{} {}", c.name(), thousands(stats.events[c as usize])))
        .collect();
    l.push(format!("events by category: {}", if cats.is_empty() { "none".into() } else { cats.join(", ") }));
    l.push(format!("alerts: {}", thousands(stats.total_alerts())));
    let mut by_level: std::collections::BTreeMap<String, u64> = Default::default();
    let mut by_rule: Vec<(u64, String)> = Vec::new();
    for (&rule, &n) in &stats.alerts_by_rule {
        let m = rules.meta(RuleId(rule));
        *by_level.entry(m.level.clone().unwrap_or_else(|| "-".into())).or_default() += n;
        by_rule.push((n, format!("{:<8}  {}", m.level.as_deref().unwrap_or("-"), m.title)));
    }
    by_rule.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    if !by_level.is_empty() {
        let order = ["critical", "high", "medium", "low", "informational"];
        let mut levels: Vec<_> = by_level.into_iter().collect();
        levels.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
        l.push(format!(
            "  by level: {}",
            levels.iter().map(|(k, n)| format!("{k} {}", thousands(*n))).collect::<Vec<_>>().join(", ")
        ));
        l.push("  by rule:".into());
        for (n, r) in by_rule {
            l.push(format!("    {:>8}  {r}", thousands(n)));
        }
    }
    let m = &stats.mapping;
    if m.total_records() > 0 {
        let kinds: Vec<String> = Kind::ALL
            .iter()
            .filter(|&&k| m.records_of(k) > 0)
            .map(|&k| format!("{} {}", k.name(), thousands(m.records_of(k))))
            .collect();
        l.push(format!("capture records by kind: {}", kinds.join(", ")));
        let skips: Vec<String> = Skip::ALL
            .iter()
            .filter(|&&s| m.skipped_for(s) > 0)
            .map(|&s| format!("{} {}", s.name(), thousands(m.skipped_for(s))))
            .collect();
        if !skips.is_empty() {
            l.push(format!("records with no Sigma event: {}", skips.join(", ")));
        }
        if m.lost > 0 || m.truncated > 0 || m.unknown_process > 0 {
            l.push(format!(
                "driver-reported lost records: {}, truncated records: {}, events from unknown processes: {}",
                thousands(m.lost),
                thousands(m.truncated),
                thousands(m.unknown_process)
            ));
        }
    }
    l.push(format!(
        "records skipped (malformed or damaged): {}, not events: {}, problems reported: {}, inputs refused: {}",
        thousands(stats.records_skipped),
        thousands(stats.records_not_events),
        thousands(stats.errors),
        stats.inputs_failed
    ));
    l
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
