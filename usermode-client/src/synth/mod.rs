//! A deterministic synthetic workload, as Vigil records.
//!
//! A Windows workstation boots (smss → csrss/wininit/winlogon → services →
//! svchost…, userinit → explorer → browser, mail, editor, chat), then does
//! what workstations do: cache files, log writes, antivirus scans, helper
//! processes, Word sessions, DLL loads. At fixed points an attack chain runs
//! ([`Attack`]): Word spawns cmd, an encoded PowerShell drops persistence in
//! the Startup folder, rundll32 loads an unsigned DLL from %TEMP%, the stager
//! is deleted and documents are renamed.
//!
//! The same seed gives the same records, byte for byte. [`Workload`] yields
//! [`SynthEvent`]s: the CPU the record was "captured" on, a record that
//! implements the protocol's `Encode` (so it can go to a capture writer or to
//! `vigil_protocol::ring::Producer::push(cpu, &record)` exactly as the
//! driver's records do), and the attack label used as ground truth.

mod attack;
mod boot;
pub mod catalog;
mod noise;
mod record;
mod rng;
mod world;

pub use attack::{Attack, PAYLOAD, encode_command};
pub use record::{Body, SynthRecord, VarData};
pub use rng::Rng;
pub use world::SYSTEM_VOLUME;

use crate::capture::{CaptureError, CaptureInfo, CaptureWriter};
use crate::enrich::volumes::Volume;
use boot::Machine;
use world::World;

/// One generated record.
#[derive(Clone, Debug)]
pub struct SynthEvent {
    /// CPU the record was produced on (selects its ring shard).
    pub cpu: u32,
    /// The record.
    pub record: SynthRecord,
    /// The attack step it belongs to; `None` for benign activity.
    pub label: Option<Attack>,
}

/// 2026-11-23 08:00:00 UTC as FILETIME: when the synthetic machine boots.
pub const BOOT_TIME: u64 = 116_444_736_000_000_000 + 1_795_420_800 * 10_000_000;

/// CPUs of the synthetic machine.
pub const CPUS: u32 = 4;

/// Records between two runs of the attack chain in long workloads.
pub const ATTACK_PERIOD: u64 = 500_000;

/// The workload generator: an iterator of about `events` records.
#[derive(Debug)]
pub struct Workload {
    world: World,
    machine: Option<Machine>,
    target: u64,
    produced: u64,
    attacks_at: Vec<u64>,
    attacks_done: usize,
}

impl Workload {
    /// A workload of about `events` records (a little more: the boot
    /// sequence and every scheduled attack chain always complete). The
    /// attack chain runs `max(1, events / ATTACK_PERIOD)` times, spread
    /// evenly, the first at mid-stream for short workloads.
    pub fn new(seed: u64, events: u64) -> Self {
        Self::with_attack_runs(seed, events, (events / ATTACK_PERIOD).max(1) as usize)
    }

    /// A workload of about `events` records in which the attack chain runs
    /// `runs` times, spread evenly as in [`Workload::new`] (the live tests
    /// want one run before and one after an analyzer restart).
    pub fn with_attack_runs(seed: u64, events: u64, runs: usize) -> Self {
        let runs = runs as u64;
        let attacks_at = (0..runs).map(|i| events * (2 * i + 1) / (2 * runs)).collect();
        Self {
            world: World::new(seed, BOOT_TIME, CPUS),
            machine: None,
            target: events,
            produced: 0,
            attacks_at,
            attacks_done: 0,
        }
    }

    /// How many times the attack chain runs.
    pub fn attack_runs(&self) -> usize {
        self.attacks_at.len()
    }

    /// The header a live capture of this machine would have.
    pub fn capture_info() -> CaptureInfo {
        let mut info = CaptureInfo::new(catalog::HOST, BOOT_TIME);
        info.volumes = Self::volumes();
        info.accounts = catalog::Account::table();
        info
    }

    /// The machine's volume table.
    pub fn volumes() -> Vec<Volume> {
        vec![Volume { device: SYSTEM_VOLUME.into(), dos: "C:".into() }]
    }

    fn refill(&mut self) {
        let w = &mut self.world;
        let m = self.machine.get_or_insert_with(|| boot::boot(w));
        if let Some(&at) = self.attacks_at.get(self.attacks_done)
            && self.produced >= at
        {
            self.attacks_done += 1;
            attack::chain(w, m, self.attacks_done as u64);
            return;
        }
        noise::step(w, m);
    }
}

impl Iterator for Workload {
    type Item = SynthEvent;

    fn next(&mut self) -> Option<SynthEvent> {
        while self.world.queue.is_empty() {
            let attacks_left = self.attacks_done < self.attacks_at.len();
            if self.produced >= self.target && !attacks_left && self.machine.is_some() {
                return None;
            }
            self.refill();
        }
        self.produced += 1;
        self.world.queue.pop_front()
    }
}

/// Writes a whole workload as a capture, numbering records per CPU shard as
/// the ring does; returns the records written and the labels by record
/// number (index 0 is record 1).
pub fn write_capture<W: std::io::Write>(
    workload: Workload,
    writer: &mut CaptureWriter<W>,
) -> Result<Vec<Option<Attack>>, CaptureError> {
    let mut seq = [0u64; CPUS as usize];
    let mut labels = Vec::new();
    for ev in workload {
        let s = seq.get_mut(ev.cpu as usize).map_or(0, |s| {
            *s += 1;
            *s - 1
        });
        writer.push(&ev.record, s)?;
        labels.push(ev.label);
    }
    Ok(labels)
}

#[cfg(test)]
mod tests;
