//! An alert: a rule matched an event. The event's fields are copied, since
//! the event buffer is reused for the next record.

use crate::event::{Category, Event, Value};
use crate::sigma::RuleId;

/// A field value, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedValue {
    /// Text.
    Str(String),
    /// Integer.
    Int(i64),
}

/// One rule match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// The rule (look up its metadata in the rule set).
    pub rule: RuleId,
    /// Index of the input file in the replay's input list.
    pub input: usize,
    /// 1-based record number in that input.
    pub record: u64,
    /// The event's category.
    pub category: Category,
    /// The event's present fields, in field order.
    pub fields: Vec<(String, OwnedValue)>,
}

impl Alert {
    /// Snapshots `event` for `rule`.
    pub fn new(rule: RuleId, input: usize, record: u64, event: &Event) -> Self {
        let fields = event
            .fields()
            .map(|(k, v)| {
                let v = match v {
                    Value::Str(s) => OwnedValue::Str(s.to_owned()),
                    Value::Int(i) => OwnedValue::Int(i),
                };
                (k.to_owned(), v)
            })
            .collect();
        Self { rule, input, record, category: event.category(), fields }
    }

    /// A field's value as text, if present.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| match v {
            OwnedValue::Str(s) => s.clone(),
            OwnedValue::Int(i) => i.to_string(),
        })
    }
}
