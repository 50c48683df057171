//! One rule file: metadata, logsource routing and the compiled detection.

use super::compile::{self, CompileOptions, Compiled};
use super::error::{CResult, Located};
use super::ir::FieldName;
use super::yaml::{self, Kind, Node};
use crate::event::Category;
use std::path::PathBuf;

/// A rule's `logsource`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSource {
    /// `category`, e.g. `process_creation`.
    pub category: Option<String>,
    /// `product`, e.g. `windows`.
    pub product: Option<String>,
    /// `service`, if any.
    pub service: Option<String>,
}

/// What a rule says about itself. Keep `author` with every alert: SigmaHQ
/// rules are under the Detection Rule License 1.1, which requires attribution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleMeta {
    /// `id` (a UUID in SigmaHQ); empty if the rule has none.
    pub id: String,
    /// `title`.
    pub title: String,
    /// `level` (informational, low, medium, high, critical).
    pub level: Option<String>,
    /// `status` (stable, test, experimental, ...).
    pub status: Option<String>,
    /// `author`, verbatim.
    pub author: Option<String>,
    /// `tags`, e.g. `attack.t1059.001`.
    pub tags: Vec<String>,
    /// `description`.
    pub description: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `date` and `modified`, as written.
    pub date: Option<String>,
    /// `modified`, as written.
    pub modified: Option<String>,
    /// The file the rule came from (or the name given to `from_sources`).
    pub path: PathBuf,
    /// `logsource`.
    pub logsource: LogSource,
}

/// A compiled rule: metadata, the category it is routed to, the fields it
/// reads and its detection.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub meta: RuleMeta,
    pub category: Category,
    pub fields: Vec<FieldName>,
    pub compiled: Compiled,
}

fn text(doc: &Node, key: &str) -> CResult<Option<String>> {
    match doc.get(key) {
        None => Ok(None),
        Some(n) if matches!(n.kind, Kind::Null) => Ok(None),
        Some(n) => n.scalar_text().map(Some).ok_or_else(|| Located::new(n.line, format!("'{key}' must be a scalar"))),
    }
}

fn list(doc: &Node, key: &str) -> CResult<Vec<String>> {
    match doc.get(key) {
        None => Ok(Vec::new()),
        Some(n) => match &n.kind {
            Kind::Null => Ok(Vec::new()),
            Kind::Seq(items) => Ok(items.iter().filter_map(Node::scalar_text).collect()),
            _ => {
                n.scalar_text().map(|s| vec![s]).ok_or_else(|| Located::new(n.line, format!("'{key}' must be a list")))
            }
        },
    }
}

/// Parses and compiles the text of one rule file.
pub(crate) fn parse_rule(source: &str, path: PathBuf, opts: &CompileOptions) -> CResult<Rule> {
    let docs = yaml::parse_documents(source).map_err(|e| Located::new(e.line, e.reason))?;
    let doc = match docs.as_slice() {
        [d] => d,
        [] => return Err(Located::new(0, "file holds no YAML document")),
        [_, second, ..] => {
            return Err(Located::new(second.line, "rule collections (several YAML documents) are not supported"));
        }
    };
    if !matches!(doc.kind, Kind::Map(_)) {
        return Err(Located::new(doc.line, "a rule must be a YAML mapping"));
    }
    for unsupported in ["correlation", "filter"] {
        if let Some(n) = doc.get(unsupported) {
            return Err(Located::new(n.line, format!("'{unsupported}' rules are not supported")));
        }
    }
    let title = text(doc, "title")?.ok_or_else(|| Located::new(doc.line, "rule has no 'title'"))?;
    let ls_node = doc.get("logsource").ok_or_else(|| Located::new(doc.line, "rule has no 'logsource'"))?;
    let logsource = LogSource {
        category: text(ls_node, "category")?,
        product: text(ls_node, "product")?,
        service: text(ls_node, "service")?,
    };
    if let Some(p) = logsource.product.as_deref().filter(|p| !p.eq_ignore_ascii_case("windows")) {
        return Err(Located::new(ls_node.line, format!("logsource product '{p}' is not windows")));
    }
    let category = match logsource.category.as_deref() {
        Some(c) => Category::from_name(c).ok_or_else(|| {
            Located::new(ls_node.line, format!("logsource category '{c}' is not one Vigil routes events to"))
        })?,
        None => return Err(Located::new(ls_node.line, "logsource has no 'category'")),
    };
    let det = doc.get("detection").ok_or_else(|| Located::new(doc.line, "rule has no 'detection'"))?;
    let compiled = compile::compile_detection(det, opts)?;
    let mut fields: Vec<FieldName> = compiled
        .leaves
        .iter()
        .flat_map(|l| {
            let other = match &l.test {
                super::ir::Test::FieldRef { other, .. } => Some(other.clone()),
                _ => None,
            };
            l.field.clone().into_iter().chain(other)
        })
        .collect();
    fields.sort();
    fields.dedup();
    let meta = RuleMeta {
        id: text(doc, "id")?.unwrap_or_default(),
        title,
        level: text(doc, "level")?,
        status: text(doc, "status")?,
        author: text(doc, "author")?,
        tags: list(doc, "tags")?,
        description: text(doc, "description")?,
        references: list(doc, "references")?,
        falsepositives: list(doc, "falsepositives")?,
        date: text(doc, "date")?,
        modified: text(doc, "modified")?,
        path,
        logsource,
    };
    Ok(Rule { meta, category, fields, compiled })
}
