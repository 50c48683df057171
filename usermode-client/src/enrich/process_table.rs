//! Live processes, keyed by `(pid, process_key)`: what a file or image event
//! needs to name its `Image`, and a new process its `ParentImage` and
//! `ParentCommandLine`.
//!
//! Fed by `ProcessStart` and `ProcessExit` in stream order. An exited process
//! stays for a grace period of *event* time (records from other CPU shards
//! may arrive slightly after the exit) and is evicted once the stream has
//! moved past `exit + grace`. Memory is bounded: past `capacity` entries the
//! longest-exited, then the oldest-started, processes are dropped (a lost
//! `ProcessExit` must not leak).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// The Fx hash (rustc's): keys here are small integers chosen by the
/// kernel, not by an attacker who could aim for collisions, and SipHash was
/// a measurable share of mapping time.
#[derive(Clone, Copy, Debug, Default)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// 100 ns ticks per second (FILETIME).
pub const TICKS_PER_SECOND: u64 = 10_000_000;

/// What the table knows about one process (analyst-facing values, already
/// mapped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Process start key.
    pub key: u64,
    /// DOS path of the image (`C:\Windows\System32\cmd.exe`).
    pub image: String,
    /// Command line, if the driver captured one.
    pub command_line: Option<String>,
    /// `DOMAIN\user` (or SID string).
    pub user: Option<String>,
    /// Parent process id.
    pub parent_pid: u32,
    /// Parent start key, 0 if unknown.
    pub parent_key: u64,
    /// FILETIME of the start.
    pub start_time: u64,
}

#[derive(Debug)]
struct Entry {
    info: ProcessInfo,
    exited: Option<u64>,
}

type Key = (u32, u64);

/// Counters for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessTableStats {
    /// Processes added.
    pub started: u64,
    /// Exits seen for known processes.
    pub exited: u64,
    /// Exits for processes the table never saw.
    pub unknown_exits: u64,
    /// Entries removed after their grace period.
    pub evicted_after_exit: u64,
    /// Entries removed because the table was full.
    pub evicted_for_capacity: u64,
}

/// The process table.
#[derive(Debug)]
pub struct ProcessTable {
    map: FxMap<Key, Entry>,
    latest_by_pid: FxMap<u32, u64>,
    /// Exited processes in exit order: (exit time, key).
    exits: VecDeque<(u64, Key)>,
    /// Every key in start order (may hold keys already evicted).
    starts: VecDeque<Key>,
    capacity: usize,
    grace_ticks: u64,
    now: u64,
    stats: ProcessTableStats,
}

impl Default for ProcessTable {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY, Self::DEFAULT_GRACE_TICKS)
    }
}

impl ProcessTable {
    /// Default bound on entries.
    pub const DEFAULT_CAPACITY: usize = 65_536;
    /// Default grace period after an exit: 30 s.
    pub const DEFAULT_GRACE_TICKS: u64 = 30 * TICKS_PER_SECOND;

    /// A table holding at most `capacity` processes (at least 1) that keeps
    /// exited ones for `grace_ticks` of event time.
    pub fn new(capacity: usize, grace_ticks: u64) -> Self {
        Self {
            map: FxMap::default(),
            latest_by_pid: FxMap::default(),
            exits: VecDeque::new(),
            starts: VecDeque::new(),
            capacity: capacity.max(1),
            grace_ticks,
            now: 0,
            stats: ProcessTableStats::default(),
        }
    }

    /// Number of processes held (exited ones in their grace period included).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> ProcessTableStats {
        self.stats
    }

    /// Advances event time to `ts` (never backwards) and evicts exited
    /// processes whose grace period is over.
    pub fn advance(&mut self, ts: u64) {
        self.now = self.now.max(ts);
        while let Some(&(exit, key)) = self.exits.front() {
            if exit.saturating_add(self.grace_ticks) > self.now {
                break;
            }
            self.exits.pop_front();
            if self.map.get(&key).is_some_and(|e| e.exited == Some(exit)) {
                self.remove(key);
                self.stats.evicted_after_exit += 1;
            }
        }
    }

    /// Adds a process (replacing one with the same key).
    pub fn start(&mut self, info: ProcessInfo) {
        self.advance(info.start_time);
        let key = (info.pid, info.key);
        self.latest_by_pid.insert(info.pid, info.key);
        self.map.insert(key, Entry { info, exited: None });
        self.starts.push_back(key);
        self.stats.started += 1;
        self.enforce_capacity();
    }

    /// Marks a process exited at `ts`; it stays visible for the grace period.
    pub fn exit(&mut self, pid: u32, key: u64, ts: u64) {
        self.advance(ts);
        let k = self.resolve_key(pid, key);
        match k.and_then(|k| self.map.get_mut(&k).map(|e| (k, e))) {
            Some((k, e)) if e.exited.is_none() => {
                e.exited = Some(ts);
                self.exits.push_back((ts, k));
                self.stats.exited += 1;
            }
            Some(_) => {}
            None => self.stats.unknown_exits += 1,
        }
    }

    /// The process `(pid, key)`; with `key == 0` (unknown) the latest process
    /// seen with that pid.
    pub fn get(&self, pid: u32, key: u64) -> Option<&ProcessInfo> {
        let k = self.resolve_key(pid, key)?;
        self.map.get(&k).map(|e| &e.info)
    }

    fn resolve_key(&self, pid: u32, key: u64) -> Option<Key> {
        if key != 0 {
            return Some((pid, key));
        }
        self.latest_by_pid.get(&pid).map(|&k| (pid, k))
    }

    fn remove(&mut self, key: Key) {
        self.map.remove(&key);
        if self.latest_by_pid.get(&key.0) == Some(&key.1) {
            self.latest_by_pid.remove(&key.0);
        }
    }

    fn enforce_capacity(&mut self) {
        while self.map.len() > self.capacity {
            // Exited processes go first, oldest exit first.
            if let Some((exit, key)) = self.exits.pop_front() {
                if self.map.get(&key).is_some_and(|e| e.exited == Some(exit)) {
                    self.remove(key);
                    self.stats.evicted_for_capacity += 1;
                }
                continue;
            }
            let Some(key) = self.starts.pop_front() else { break };
            if self.map.contains_key(&key) {
                self.remove(key);
                self.stats.evicted_for_capacity += 1;
            }
        }
        // The start queue holds stale keys of processes evicted after their
        // exit; compact it so it stays proportional to the table.
        if self.starts.len() > 2 * self.capacity.max(self.map.len()) {
            let map = &self.map;
            self.starts.retain(|k| map.contains_key(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, key: u64, image: &str, t: u64) -> ProcessInfo {
        ProcessInfo { pid, key, image: image.into(), start_time: t, ..ProcessInfo::default() }
    }

    #[test]
    fn lookup_by_key_and_latest_pid() {
        let mut t = ProcessTable::default();
        t.start(proc(100, 1, "a.exe", 10));
        t.start(proc(100, 2, "b.exe", 20));
        assert_eq!(t.get(100, 1).unwrap().image, "a.exe");
        assert_eq!(t.get(100, 2).unwrap().image, "b.exe");
        assert_eq!(t.get(100, 0).unwrap().image, "b.exe");
        assert!(t.get(100, 3).is_none());
        assert!(t.get(200, 0).is_none());
    }

    #[test]
    fn exited_process_visible_during_grace_then_evicted() {
        let grace = 5 * TICKS_PER_SECOND;
        let mut t = ProcessTable::new(16, grace);
        t.start(proc(100, 1, "a.exe", 0));
        t.exit(100, 1, 1000);
        t.advance(1000 + grace - 1);
        assert!(t.get(100, 1).is_some(), "still inside the grace period");
        t.advance(1000 + grace);
        assert!(t.get(100, 1).is_none());
        assert!(t.get(100, 0).is_none());
        assert_eq!(t.stats().evicted_after_exit, 1);
        assert!(t.is_empty());
    }

    #[test]
    fn unknown_exit_is_counted_and_double_exit_ignored() {
        let mut t = ProcessTable::default();
        t.exit(5, 5, 1);
        assert_eq!(t.stats().unknown_exits, 1);
        t.start(proc(8, 1, "x", 1));
        t.exit(8, 1, 2);
        t.exit(8, 1, 3);
        assert_eq!(t.stats().exited, 1);
    }

    #[test]
    fn capacity_prefers_exited_then_oldest() {
        let mut t = ProcessTable::new(3, u64::MAX / 2);
        t.start(proc(1, 1, "p1", 1));
        t.start(proc(2, 2, "p2", 2));
        t.start(proc(3, 3, "p3", 3));
        t.exit(2, 2, 4);
        t.start(proc(4, 4, "p4", 5));
        assert!(t.get(2, 2).is_none(), "the exited process goes first");
        assert!(t.get(1, 1).is_some());
        t.start(proc(5, 5, "p5", 6));
        assert!(t.get(1, 1).is_none(), "then the oldest started");
        assert_eq!(t.len(), 3);
        assert_eq!(t.stats().evicted_for_capacity, 2);
    }

    #[test]
    fn memory_stays_bounded_under_churn() {
        let mut t = ProcessTable::new(100, 10);
        for i in 0..100_000u64 {
            t.start(proc((i % 5000) as u32 * 4, i + 1, "x", i * 2));
            if i % 3 != 0 {
                t.exit((i % 5000) as u32 * 4, i + 1, i * 2 + 1);
            }
        }
        assert!(t.len() <= 100);
        assert!(t.starts.len() <= 2 * 100 + 1);
        assert!(t.exits.len() <= 100_000);
    }
}
