//! Deterministic event mutations for differential testing: change case,
//! swap values between events, truncate, drop or empty fields, flip Windows
//! flag dashes, inject non-ASCII characters, splice text.

use vigil::event::{Event, Value};

/// xorshift64*: small, deterministic, good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Owned {
    S(String),
    I(i64),
}

/// An event as an editable list of fields.
#[derive(Clone, Debug)]
pub struct Draft {
    pub category: vigil::event::Category,
    pub fields: Vec<(String, Owned)>,
}

impl Draft {
    pub fn of(ev: &Event) -> Draft {
        let fields = ev
            .fields()
            .map(|(n, v)| {
                let o = match v {
                    Value::Str(s) => Owned::S(s.to_owned()),
                    Value::Int(i) => Owned::I(i),
                };
                (n.to_owned(), o)
            })
            .collect();
        Draft { category: ev.category(), fields }
    }

    pub fn build(&self) -> Event {
        let mut e = Event::new(self.category);
        for (n, v) in &self.fields {
            match v {
                Owned::S(s) => e.set_named(n, Value::Str(s)),
                Owned::I(i) => e.set_named(n, Value::Int(*i)),
            }
        }
        e
    }

    fn str_field(&self, rng: &mut Rng) -> Option<usize> {
        let idx: Vec<usize> = (0..self.fields.len()).filter(|&i| matches!(self.fields[i].1, Owned::S(_))).collect();
        (!idx.is_empty()).then(|| idx[rng.below(idx.len())])
    }
}

const INJECT: &[&str] = &["\u{130}", "\u{17F}", "\u{212A}", "\u{2013}", "\u{E9}", "\u{DF}", " ", "\\", "\""];

fn cut(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Applies 1 to 3 random mutations; `pool` supplies values of other events.
pub fn mutate(d: &mut Draft, pool: &[Draft], rng: &mut Rng) {
    for _ in 0..1 + rng.below(3) {
        let Some(i) = d.str_field(rng) else { return };
        let name = d.fields[i].0.clone();
        let Owned::S(s) = &mut d.fields[i].1 else { continue };
        match rng.below(10) {
            0 => *s = s.to_uppercase(),
            1 => {
                *s = s
                    .chars()
                    .map(|c| if rng.below(2) == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                    .collect()
            }
            2 => {
                let other = &pool[rng.below(pool.len())];
                if let Some((_, Owned::S(v))) = other.fields.iter().find(|(n, _)| *n == name) {
                    *s = v.clone();
                }
            }
            3 => {
                let at = cut(s, rng.below(s.len() + 1));
                s.truncate(at);
            }
            4 => {
                d.fields.remove(i);
            }
            5 => s.clear(),
            6 => {
                let (from, to) = match rng.below(4) {
                    0 => (" -", " /"),
                    1 => (" /", " -"),
                    2 => (" -", " \u{2013}"),
                    _ => (" /", " \u{2014}"),
                };
                *s = s.replace(from, to);
            }
            7 => {
                let at = cut(s, rng.below(s.len() + 1));
                s.insert_str(at, INJECT[rng.below(INJECT.len())]);
            }
            8 => {
                let other = &pool[rng.below(pool.len())];
                let donor = other.fields.iter().filter_map(|(_, v)| match v {
                    Owned::S(x) => Some(x.as_str()),
                    Owned::I(_) => None,
                });
                let donors: Vec<&str> = donor.collect();
                if !donors.is_empty() {
                    let x = donors[rng.below(donors.len())];
                    let a = cut(x, rng.below(x.len() + 1));
                    s.push(' ');
                    s.push_str(&x[a..]);
                }
            }
            _ => *s = s.replace(' ', "  "),
        }
    }
}
