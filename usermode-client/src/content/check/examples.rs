//! A rule's own examples: events it must match and events it must not.
//!
//! ```yaml
//! examples:
//!     positive:            # each must raise the rule
//!         - ParentImage: 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE'
//!           Image: 'C:\Windows\System32\cmd.exe'
//!     negative:            # none may raise it
//!         - ParentImage: 'C:\Windows\explorer.exe'
//!           Image: 'C:\Windows\System32\cmd.exe'
//! ```
//!
//! Examples carry concrete values (no wildcards: they are events, not
//! patterns), so they test the rule the way real events will. They travel
//! inside the pack and run again when the analyzer loads it.

use crate::event::{Event, Field, Value};
use crate::sigma::yaml::{self, Kind, Node};
use crate::sigma::{Engine, FieldName, RuleId, RuleSet, schema};

/// One example event.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// Must the rule match it?
    pub positive: bool,
    /// 1-based line of the example in the rule text.
    pub line: u32,
    /// Field name and value, as written.
    pub fields: Vec<(String, ExampleValue)>,
}

/// An example field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ExampleValue {
    /// Text.
    Str(String),
    /// An integer.
    Int(i64),
}

/// An example that did not behave as declared, or could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExampleFailure {
    /// 1-based line in the rule text.
    pub line: u32,
    /// What went wrong.
    pub reason: String,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The examples of a rule (none if it has no `examples` key).
pub fn parse(text: &str) -> Result<Vec<Example>, ExampleFailure> {
    let fail = |line: u32, reason: &str| ExampleFailure { line, reason: reason.to_owned() };
    let docs = yaml::parse_documents(text).map_err(|e| ExampleFailure { line: e.line, reason: e.reason })?;
    let Some(ex) = docs.first().and_then(|d| d.get("examples")) else { return Ok(Vec::new()) };
    let Kind::Map(entries) = &ex.kind else { return Err(fail(ex.line, "'examples' must be a mapping")) };
    let mut out = Vec::new();
    for (k, v) in entries {
        let positive = match k.scalar_text().as_deref() {
            Some("positive") => true,
            Some("negative") => false,
            _ => return Err(fail(k.line, "'examples' takes only 'positive' and 'negative'")),
        };
        let Kind::Seq(items) = &v.kind else { return Err(fail(v.line, "examples must be a list of events")) };
        for item in items {
            out.push(Example { positive, line: item.line, fields: fields_of(item)? });
        }
    }
    Ok(out)
}

fn fields_of(item: &Node) -> Result<Vec<(String, ExampleValue)>, ExampleFailure> {
    let Kind::Map(entries) = &item.kind else {
        return Err(ExampleFailure { line: item.line, reason: "an example must be a mapping of field: value".into() });
    };
    entries
        .iter()
        .map(|(k, v)| {
            let name = k.scalar_text().unwrap_or_default();
            let value = match &v.kind {
                Kind::Int(i) => ExampleValue::Int(*i),
                Kind::Str(_) | Kind::Bool(_) | Kind::Float(_) => ExampleValue::Str(v.scalar_text().unwrap_or_default()),
                _ => {
                    let reason = format!("example field '{name}' must be a scalar");
                    return Err(ExampleFailure { line: v.line, reason });
                }
            };
            Ok((name, value))
        })
        .collect()
}

/// Runs `examples` against rule `id` alone; every failure comes back.
pub fn run(set: &RuleSet, id: RuleId, examples: &[Example]) -> Vec<ExampleFailure> {
    let category = set.category(id);
    let mut engine = Engine::single(set, id);
    let mut hits = Vec::new();
    let mut failures = Vec::new();
    for ex in examples {
        let mut ev = Event::new(category);
        for (name, value) in &ex.fields {
            if !Field::from_name(name).is_some_and(|f| schema::has_field(category, f)) {
                let reason = format!("example field '{name}' does not exist in {} events", category.name());
                failures.push(ExampleFailure { line: ex.line, reason });
            }
            match value {
                ExampleValue::Str(s) => ev.set_named(name, Value::Str(s)),
                ExampleValue::Int(i) => ev.set_named(name, Value::Int(*i)),
            }
        }
        engine.matches(&ev, &mut hits);
        let matched = hits.contains(&id);
        if matched != ex.positive {
            let reason = if ex.positive {
                "positive example does not match the rule"
            } else {
                "negative example matches the rule"
            };
            failures.push(ExampleFailure { line: ex.line, reason: reason.into() });
        }
    }
    failures
}

/// Fields the rule reads that no example sets: what the examples do not
/// exercise (a warning, not a failure: filters often need no example).
pub fn uncovered_fields(set: &RuleSet, id: RuleId, examples: &[Example]) -> Vec<String> {
    set.fields(id)
        .iter()
        .map(FieldName::as_str)
        .filter(|f| !examples.iter().any(|e| e.fields.iter().any(|(n, _)| n == f)))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = r"title: t
logsource:
    category: process_creation
    product: windows
detection:
    sel:
        Image|endswith: '\cmd.exe'
        ParentImage|endswith: '\WINWORD.EXE'
    condition: sel
examples:
    positive:
        - Image: 'C:\Windows\System32\cmd.exe'
          ParentImage: 'C:\Office\WINWORD.EXE'
    negative:
        - Image: 'C:\Windows\System32\cmd.exe'
          ParentImage: 'C:\Windows\explorer.exe'
        - Image: 'C:\Windows\System32\cmd.exe'
          ParentImage: 'C:\Office\WINWORD.EXE'
          Bogus: 1
";

    #[test]
    fn examples_are_read_and_checked() {
        let ex = parse(RULE).unwrap();
        assert_eq!(ex.len(), 3);
        assert!(ex[0].positive && !ex[1].positive);
        assert_eq!(ex[0].line, 12);
        let (set, errors) = RuleSet::from_sources([("r.yml", RULE)]);
        assert!(errors.is_empty(), "{errors:?}");
        let id = set.ids().next().unwrap();
        let failures = run(&set, id, &ex);
        let reasons: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert_eq!(
            reasons,
            [
                "line 17: example field 'Bogus' does not exist in process_creation events",
                "line 17: negative example matches the rule"
            ]
        );
        assert!(uncovered_fields(&set, id, &ex).is_empty());
        assert_eq!(uncovered_fields(&set, id, &ex[..0]), ["Image", "ParentImage"]);
    }

    #[test]
    fn malformed_examples_are_errors_with_lines() {
        assert_eq!(parse("title: t\nexamples:\n    maybe: []\n").unwrap_err().line, 3);
        assert_eq!(parse("title: t\nexamples: [1]\n").unwrap_err().line, 2);
        assert!(parse("title: t\n").unwrap().is_empty());
    }
}
