//! Events content is measured and exercised on: the synthetic workstation
//! ([`crate::synth`]) mapped exactly as live records are, plus stress events
//! that fill every field of a category with the longest text Windows allows
//! (a command line is at most 32,767 characters).

use crate::enrich::{AccountTable, VolumeTable};
use crate::event::{Category, Event};
use crate::mapping::Mapper;
use crate::sigma::schema;
use crate::synth::{Attack, Rng, Workload, catalog};
use vigil_protocol::encode::encode_to_vec;
use vigil_protocol::schema::MAX_RECORD_SIZE;

/// Length of each field of a stress event.
pub const STRESS_FIELD_LEN: usize = 32_767;

/// A mapped synthetic event and the attack step it belongs to.
#[derive(Clone, Debug)]
pub struct Labeled {
    /// The event.
    pub event: Event,
    /// `None` for benign activity.
    pub label: Option<Attack>,
}

/// Maps a synthetic workload of about `records` records into events.
pub fn synthetic_events(seed: u64, records: u64) -> Vec<Labeled> {
    let mut volumes = VolumeTable::new();
    for v in Workload::volumes() {
        volumes.insert(&v.device, &v.dos);
    }
    let mut accounts = AccountTable::new();
    for (sid, name) in catalog::Account::table() {
        accounts.insert(&sid, &name);
    }
    let mut mapper = Mapper::new(volumes, accounts);
    mapper.pe = None;
    mapper.set_computer(Some(catalog::HOST.into()));
    let mut buf = Vec::new();
    let mut ev = Event::new(Category::ProcessCreation);
    let mut out = Vec::new();
    for s in Workload::new(seed, records) {
        buf.clear();
        if encode_to_vec(&s.record, 0, MAX_RECORD_SIZE, &mut buf).is_err() {
            continue;
        }
        let Ok(rec) = vigil_protocol::decode::decode(&buf) else { continue };
        if mapper.map(&rec, &mut ev).is_ok() {
            out.push(Labeled { event: ev.clone(), label: s.label });
        }
    }
    out
}

/// Text of `len` bytes that looks like an encoded PowerShell payload.
pub fn long_text(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = Rng::new(seed);
    let mut s = String::with_capacity(len);
    s.push_str(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoP -W Hidden -enc ");
    while s.len() < len {
        s.push(ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char);
    }
    s.truncate(len);
    s
}

/// An event of `category` whose every schema field holds `len` bytes of text.
pub fn stress_event(category: Category, len: usize) -> Event {
    let mut ev = Event::new(category);
    for (i, f) in schema::fields_of(category).iter().enumerate() {
        ev.set_str(*f, &long_text(i as u64 + 1, len));
    }
    ev
}

/// Events grouped by category.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    by_category: Vec<Vec<Event>>,
    stress: Vec<Event>,
}

impl Corpus {
    /// The benchmark corpus of `content check`: `records` synthetic records
    /// (seed fixed, so every run measures the same events) and one stress
    /// event per category.
    pub fn benchmark(records: u64) -> Corpus {
        let mut c = Corpus { by_category: vec![Vec::new(); Category::COUNT], stress: Vec::new() };
        for l in synthetic_events(0xC0FFEE, records) {
            c.push(l.event);
        }
        c.stress = Category::ALL.iter().map(|&cat| stress_event(cat, STRESS_FIELD_LEN)).collect();
        c
    }

    /// Adds one event.
    pub fn push(&mut self, ev: Event) {
        if self.by_category.is_empty() {
            self.by_category = vec![Vec::new(); Category::COUNT];
        }
        self.by_category[ev.category() as usize].push(ev);
    }

    /// The ordinary events of `category`.
    pub fn of(&self, category: Category) -> &[Event] {
        self.by_category.get(category as usize).map_or(&[], Vec::as_slice)
    }

    /// The stress events (one per category).
    pub fn stress(&self) -> &[Event] {
        &self.stress
    }

    /// Number of events, stress events included.
    pub fn len(&self) -> usize {
        self.by_category.iter().map(Vec::len).sum::<usize>() + self.stress.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_covers_every_category_with_a_stress_event() {
        let c = Corpus::benchmark(3_000);
        for cat in Category::ALL {
            assert!(!c.of(cat).is_empty(), "{}", cat.name());
            let longest =
                c.stress().iter().filter(|e| e.category() == cat).flat_map(|e| e.fields().map(|(_, v)| v)).filter_map(
                    |v| match v {
                        crate::event::Value::Str(s) => Some(s.len()),
                        crate::event::Value::Int(_) => None,
                    },
                );
            assert_eq!(longest.max(), Some(STRESS_FIELD_LEN));
        }
        assert!(c.len() > 2_000);
    }
}
