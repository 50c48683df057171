//! The events simulated hosts evaluate: one synthetic workstation's
//! workload, mapped like live records, from which each host takes a small
//! deterministic slice per period.

use crate::content::corpus::{self, long_text};
use crate::event::{Category, Event, Field};
use crate::synth::Rng;

/// Benign events per host per period.
pub const BENIGN_PER_TICK: usize = 10;

/// The shared event pool.
#[derive(Debug)]
pub struct Pool {
    benign: Vec<Event>,
    attack: Vec<Event>,
    long_cmdline: Event,
}

impl Pool {
    /// A pool from about `records` synthetic records of `seed`.
    pub fn new(seed: u64, records: u64) -> Pool {
        let (attack, benign): (Vec<_>, Vec<_>) =
            corpus::synthetic_events(seed, records).into_iter().partition(|l| l.label.is_some());
        let mut long_cmdline = Event::new(Category::ProcessCreation);
        long_cmdline.set_str(Field::Image, r"C:\Program Files\Backup\agent.exe");
        let mut cmd = String::from(r#""C:\Program Files\Backup\agent.exe" --manifest "#);
        cmd.push_str(&long_text(seed, corpus::STRESS_FIELD_LEN - cmd.len()));
        long_cmdline.set_str(Field::CommandLine, &cmd);
        Pool {
            benign: benign.into_iter().map(|l| l.event).collect(),
            attack: attack.into_iter().map(|l| l.event).collect(),
            long_cmdline,
        }
    }

    /// Events of the attack chain (each raises a demo rule's alert or is its lure).
    pub fn attack_len(&self) -> usize {
        self.attack.len()
    }

    /// Whether host `host` runs the attack chain in period `tick`: a third
    /// of the hosts each period, every host once every three periods.
    pub fn attacked(host: usize, tick: u64) -> bool {
        (host as u64 + tick).is_multiple_of(3)
    }

    /// Host `host`'s events of period `tick`: benign events picked by a
    /// generator seeded with both, the attack chain when [`Pool::attacked`],
    /// and, in one host-period out of `long_every`, a 32 KB command line.
    pub fn batch(&self, host: usize, tick: u64, long_every: u64) -> Vec<&Event> {
        let mut rng = Rng::new((host as u64) << 20 ^ tick ^ 0x5157);
        let poisoned = rng.below(long_every.max(1)) == 0;
        let mut out: Vec<&Event> = (0..BENIGN_PER_TICK)
            .filter_map(|_| self.benign.get(rng.below(self.benign.len() as u64) as usize))
            .collect();
        if Self::attacked(host, tick) {
            out.extend(&self.attack);
        }
        if poisoned {
            out.push(&self.long_cmdline);
        }
        out
    }
}
