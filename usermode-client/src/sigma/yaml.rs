//! YAML to a small owned tree that remembers the line of every node, so
//! compile errors can point at the line that caused them.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// A YAML node with its 1-based line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub line: u32,
    pub kind: Kind,
}

/// The node's content.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys are scalars written as text; order is kept.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The text of a scalar (strings as is, numbers and booleans as written
    /// by YAML's canonical form); `None` for null and collections.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    /// A mapping's value by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.kind == Kind::Str(key.to_owned())).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A YAML syntax error.
#[derive(Debug)]
pub(crate) struct YamlError {
    pub line: u32,
    pub reason: String,
}

/// Parses every document in `text`.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let docs = MarkedYaml::load_from_str(text)
        .map_err(|e| YamlError { line: line_of(e.marker().line()), reason: format!("YAML: {}", e.info()) })?;
    docs.iter().map(|d| convert(d, 0)).collect()
}

fn line_of(l: usize) -> u32 {
    u32::try_from(l).unwrap_or(u32::MAX)
}

/// Deeper nesting than any rule needs; stops stack exhaustion on hostile input.
const MAX_DEPTH: usize = 64;

fn convert(node: &MarkedYaml<'_>, depth: usize) -> Result<Node, YamlError> {
    let line = line_of(node.span.start.line());
    if depth > MAX_DEPTH {
        return Err(YamlError { line, reason: "YAML nested too deeply".into() });
    }
    let kind = match &node.data {
        YamlData::Value(s) => match s {
            Scalar::Null => Kind::Null,
            Scalar::Boolean(b) => Kind::Bool(*b),
            Scalar::Integer(i) => Kind::Int(*i),
            Scalar::FloatingPoint(f) => Kind::Float(f.into_inner()),
            Scalar::String(s) => Kind::Str(s.to_string()),
        },
        YamlData::Representation(s, _, _) => Kind::Str(s.to_string()),
        YamlData::Sequence(items) => Kind::Seq(items.iter().map(|n| convert(n, depth + 1)).collect::<Result<_, _>>()?),
        YamlData::Mapping(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                let key = convert(k, depth + 1)?;
                let key = match key.scalar_text() {
                    Some(t) => Node { line: key.line, kind: Kind::Str(t) },
                    None => return Err(YamlError { line: key.line, reason: "mapping key is not a scalar".into() }),
                };
                entries.push((key, convert(v, depth + 1)?));
            }
            Kind::Map(entries)
        }
        YamlData::Tagged(_, inner) => return convert(inner, depth + 1),
        YamlData::Alias(_) => return Err(YamlError { line, reason: "YAML aliases are not supported in rules".into() }),
        YamlData::BadValue => return Err(YamlError { line, reason: "invalid YAML value".into() }),
    };
    Ok(Node { line, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_types() {
        let docs = parse_documents("a: 1\nb:\n  - 'x'\n  - null\nc: true\n").unwrap();
        let d = &docs[0];
        assert_eq!(d.get("a").unwrap().kind, Kind::Int(1));
        let b = d.get("b").unwrap();
        let Kind::Seq(items) = &b.kind else { panic!("not a seq") };
        assert_eq!(items[0].kind, Kind::Str("x".into()));
        assert_eq!(items[0].line, 3);
        assert_eq!(items[1].kind, Kind::Null);
        assert_eq!(d.get("c").unwrap().kind, Kind::Bool(true));
    }

    #[test]
    fn quoted_numbers_stay_text() {
        let docs = parse_documents("a: '1'\n").unwrap();
        assert_eq!(docs[0].get("a").unwrap().kind, Kind::Str("1".into()));
    }

    #[test]
    fn syntax_error_has_line() {
        let err = parse_documents("a: 1\nb: [\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }
}
