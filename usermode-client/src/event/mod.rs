//! The event model the rule engine matches on: a Sigma logsource category
//! and Sysmon-named field values.
//!
//! Every source produces [`Event`]s: Vigil records (mapped in user mode),
//! Windows event JSON and EVTX. Field names are Sysmon's, because SigmaHQ
//! rules are written against them and must apply unmodified. A field the
//! source cannot know is *absent* (never an empty string): Sigma's `null`
//! semantics depend on it.
//!
//! An `Event` is built for reuse: [`Event::reset`] keeps its buffers, so a
//! replay loop allocates nothing per event once warmed up.

mod category;
mod field;

pub use category::Category;
pub use field::Field;

use std::ops::Range;

/// A field value as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Absent,
    Str(u32, u32),
    Int(i64),
}

/// A field value as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// Text.
    Str(&'a str),
    /// An integer (process ids, session ids, event ids).
    Int(i64),
}

impl Value<'_> {
    /// The value as text, formatting integers in decimal into `buf`.
    pub fn as_str<'b>(&'b self, buf: &'b mut itoa_buf::Buffer) -> &'b str {
        match self {
            Value::Str(s) => s,
            Value::Int(i) => buf.format(*i),
        }
    }
}

/// Small decimal formatting buffer (no allocation).
pub mod itoa_buf {
    /// Holds the digits of one `i64`.
    #[derive(Debug, Default)]
    pub struct Buffer {
        bytes: [u8; 20],
        len: usize,
    }

    impl Buffer {
        /// A new, empty buffer.
        pub fn new() -> Self {
            Self::default()
        }

        /// Formats `v` and returns the text.
        pub fn format(&mut self, v: i64) -> &str {
            use std::io::Write;
            let mut cur = std::io::Cursor::new(&mut self.bytes[..]);
            // 20 bytes hold any i64 ("-9223372036854775808" is 20 bytes).
            let _ = write!(cur, "{v}");
            self.len = cur.position() as usize;
            std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
        }
    }
}

/// One event: a category, known fields by [`Field`], other fields by name.
#[derive(Clone, Debug)]
pub struct Event {
    category: Category,
    known: Vec<Slot>,
    text: String,
    extra: Vec<(Range<u32>, Slot)>,
}

impl Event {
    /// An empty event of `category`.
    pub fn new(category: Category) -> Self {
        Self { category, known: vec![Slot::Absent; Field::COUNT], text: String::new(), extra: Vec::new() }
    }

    /// Empties the event for reuse as `category`, keeping its buffers.
    pub fn reset(&mut self, category: Category) {
        self.category = category;
        self.known.fill(Slot::Absent);
        self.text.clear();
        self.extra.clear();
    }

    /// The Sigma logsource category.
    pub fn category(&self) -> Category {
        self.category
    }

    /// Changes the category (e.g. a source that learns it late).
    pub fn set_category(&mut self, category: Category) {
        self.category = category;
    }

    fn push_text(&mut self, v: &str) -> Slot {
        let start = self.text.len() as u32;
        self.text.push_str(v);
        Slot::Str(start, self.text.len() as u32)
    }

    /// Sets a known text field.
    pub fn set_str(&mut self, field: Field, v: &str) {
        let slot = self.push_text(v);
        if let Some(s) = self.known.get_mut(field as usize) {
            *s = slot;
        }
    }

    /// Sets a known text field to what `write` appends to the event's text
    /// (a source that decodes straight into the event, with no copy of its
    /// own). If `write` fails, the field and the text are left as they were.
    pub fn set_str_with<E>(&mut self, field: Field, write: impl FnOnce(&mut String) -> Result<(), E>) -> Result<(), E> {
        let start = self.text.len();
        if let Err(e) = write(&mut self.text) {
            self.text.truncate(start);
            return Err(e);
        }
        let slot = Slot::Str(start as u32, self.text.len() as u32);
        if let Some(s) = self.known.get_mut(field as usize) {
            *s = slot;
        }
        Ok(())
    }

    /// Sets a known text field from characters (e.g. decoded UTF-16).
    pub fn set_chars(&mut self, field: Field, chars: impl Iterator<Item = char>) {
        let start = self.text.len() as u32;
        self.text.extend(chars);
        let slot = Slot::Str(start, self.text.len() as u32);
        if let Some(s) = self.known.get_mut(field as usize) {
            *s = slot;
        }
    }

    /// Sets a known integer field.
    pub fn set_int(&mut self, field: Field, v: i64) {
        if let Some(s) = self.known.get_mut(field as usize) {
            *s = Slot::Int(v);
        }
    }

    /// Sets a field by name: a known one if the name is a [`Field`], else an
    /// extra field. A later value for the same name replaces the earlier one.
    pub fn set_named(&mut self, name: &str, v: Value<'_>) {
        if let Some(f) = Field::from_name(name) {
            match v {
                Value::Str(s) => self.set_str(f, s),
                Value::Int(i) => self.set_int(f, i),
            }
            return;
        }
        let slot = match v {
            Value::Str(s) => self.push_text(s),
            Value::Int(i) => Slot::Int(i),
        };
        let start = self.text.len() as u32;
        self.text.push_str(name);
        let range = start..self.text.len() as u32;
        if let Some(existing) =
            self.extra.iter_mut().find(|(r, _)| self.text.get(r.start as usize..r.end as usize) == Some(name))
        {
            existing.1 = slot;
        } else {
            self.extra.push((range, slot));
        }
    }

    /// Removes a known field (makes it absent).
    pub fn clear_field(&mut self, field: Field) {
        if let Some(s) = self.known.get_mut(field as usize) {
            *s = Slot::Absent;
        }
    }

    fn read(&self, slot: Slot) -> Option<Value<'_>> {
        match slot {
            Slot::Absent => None,
            Slot::Str(a, b) => self.text.get(a as usize..b as usize).map(Value::Str),
            Slot::Int(i) => Some(Value::Int(i)),
        }
    }

    /// A known field's value; `None` if absent.
    #[inline]
    pub fn get(&self, field: Field) -> Option<Value<'_>> {
        self.read(*self.known.get(field as usize)?)
    }

    /// A field by name (known or extra); `None` if absent.
    pub fn get_named(&self, name: &str) -> Option<Value<'_>> {
        if let Some(f) = Field::from_name(name) {
            return self.get(f);
        }
        let (_, slot) =
            self.extra.iter().find(|(r, _)| self.text.get(r.start as usize..r.end as usize) == Some(name))?;
        self.read(*slot)
    }

    /// Every present field, known ones first, as `(name, value)`.
    pub fn fields(&self) -> impl Iterator<Item = (&str, Value<'_>)> {
        let known = Field::ALL.iter().filter_map(|&f| self.get(f).map(|v| (f.name(), v)));
        let extra = self.extra.iter().filter_map(|(r, slot)| {
            let name = self.text.get(r.start as usize..r.end as usize)?;
            Some((name, self.read(*slot)?))
        });
        known.chain(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_is_not_empty() {
        let mut e = Event::new(Category::ProcessCreation);
        assert_eq!(e.get(Field::CommandLine), None);
        e.set_str(Field::CommandLine, "");
        assert_eq!(e.get(Field::CommandLine), Some(Value::Str("")));
    }

    #[test]
    fn named_fields_and_reset() {
        let mut e = Event::new(Category::FileEvent);
        e.set_named("TargetFilename", Value::Str(r"C:\x.exe"));
        e.set_named("SomethingElse", Value::Int(7));
        e.set_named("SomethingElse", Value::Int(8));
        assert_eq!(e.get(Field::TargetFilename), Some(Value::Str(r"C:\x.exe")));
        assert_eq!(e.get_named("SomethingElse"), Some(Value::Int(8)));
        assert_eq!(e.fields().count(), 2);
        e.reset(Category::ImageLoad);
        assert_eq!(e.fields().count(), 0);
        assert_eq!(e.category(), Category::ImageLoad);
    }

    #[test]
    fn int_as_str() {
        let mut b = itoa_buf::Buffer::new();
        assert_eq!(Value::Int(-42).as_str(&mut b), "-42");
        assert_eq!(Value::Int(i64::MIN).as_str(&mut b), "-9223372036854775808");
    }
}
