//! Cross-process ring test on Linux: a producer process and a consumer
//! process share a memfd mapping and use exactly the protocol crate's code.
//!
//! Over 1 M records are verified in content and sequence. The consumer is
//! killed (SIGKILL) mid-stream and a new one started only after the producer
//! has finished its whole burst with no consumer attached, which proves the
//! producer never waits for a consumer; the new consumer resumes where the
//! old one released, and every record the producer dropped meanwhile is
//! reported by exactly one Lost record.
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use vigil::shm::{EventFd, ShmMapping};
use vigil_protocol::ring::RingLayout;

const PEER: &str = env!("CARGO_BIN_EXE_ring_peer");
const TIMEOUT: Duration = Duration::from_secs(120);

struct Peer {
    child: Child,
    lines: Receiver<String>,
}

fn spawn(args: &[String], stdin: bool) -> Peer {
    let mut child = Command::new(PEER)
        .args(args)
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn ring_peer");
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Peer { child, lines }
}

/// Waits for a line starting with `prefix`, passing every line to `seen`.
fn wait_for(p: &Peer, prefix: &str, seen: &mut dyn FnMut(&str)) -> String {
    loop {
        let line = p.lines.recv_timeout(TIMEOUT).unwrap_or_else(|_| panic!("timed out waiting for {prefix:?}"));
        seen(&line);
        if line.starts_with(prefix) {
            return line;
        }
    }
}

fn send(stdin: &mut ChildStdin, cmd: &str) {
    writeln!(stdin, "{cmd}").unwrap();
    stdin.flush().unwrap();
}

#[derive(Default)]
struct Report {
    /// (shard, seq) -> count, deduplicated: a record read but not released
    /// before the kill is delivered again to the next consumer.
    lost: BTreeMap<(u32, u64), u64>,
    errors: Vec<String>,
    progress: u64,
    ends: Vec<(u32, u64, u64, u64)>,
    stats: Option<String>,
}

impl Report {
    fn absorb(&mut self, line: &str) {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["lost", shard, seq, count] => {
                self.lost.insert((shard.parse().unwrap(), seq.parse().unwrap()), count.parse().unwrap());
            }
            ["error", ..] => self.errors.push(line.to_string()),
            ["progress", n] => self.progress = n.parse().unwrap(),
            ["end", s, first, next, events] => self.ends.push((
                s.parse().unwrap(),
                first.parse().unwrap(),
                next.parse().unwrap(),
                events.parse().unwrap(),
            )),
            ["stats", ..] => self.stats = Some(line.to_string()),
            _ => {}
        }
    }
}

#[test]
fn producer_and_consumer_processes_with_consumer_restart() {
    let layout = RingLayout::new(4, 1 << 20).unwrap();
    let mem = ShmMapping::memfd("vigil-cross-process", layout.total_size()).unwrap();
    let ev = EventFd::new().unwrap();
    let fds = [mem.fd().to_string(), ev.fd().to_string()];

    let mut producer = spawn(&["produce".into(), fds[0].clone(), fds[1].clone(), "4".into()], true);
    let mut pin = producer.child.stdin.take().unwrap();
    wait_for(&producer, "ready", &mut |_| {});

    // Phase 1: consumer A reads while the producer writes; A is killed
    // mid-stream once it has verified 400 k records.
    let mut a_report = Report::default();
    let mut a = spawn(&["consume".into(), fds[0].clone(), fds[1].clone()], false);
    send(&mut pin, "produce 1600000 800000");
    wait_for(&a, "progress 400000", &mut |l| a_report.absorb(l));
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    while let Ok(line) = a.lines.recv_timeout(Duration::from_secs(5)) {
        a_report.absorb(&line);
    }
    // The producer finishes its burst with no consumer at all.
    let done1 = wait_for(&producer, "done", &mut |_| {});
    let dropped1: u64 = done1.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(dropped1 > 0, "the ring must have filled while no consumer was attached: {done1}");

    // Phase 2: consumer B resumes where A released.
    let mut b_report = Report::default();
    let mut b = spawn(&["consume".into(), fds[0].clone(), fds[1].clone()], false);
    send(&mut pin, "produce 1200000 800000");
    wait_for(&producer, "done", &mut |_| {});
    send(&mut pin, "flush");
    let mut counters = Vec::new();
    for _ in 0..4 {
        let line = wait_for(&producer, "counters", &mut |_| {});
        let w: Vec<u64> = line.split_whitespace().skip(1).map(|x| x.parse().unwrap()).collect();
        counters.push((w[0], w[1], w[2], w[3]));
    }
    producer.child.wait().unwrap();
    wait_for(&b, "stats", &mut |l| b_report.absorb(l));
    b.child.wait().unwrap();

    // Nothing corrupted, on either side.
    assert!(a_report.errors.is_empty(), "consumer A: {:?}", &a_report.errors[..a_report.errors.len().min(5)]);
    assert!(b_report.errors.is_empty(), "consumer B: {:?}", &b_report.errors[..b_report.errors.len().min(5)]);
    assert_eq!(b_report.stats.as_deref(), Some("stats 0 0 0"));

    // B resumed mid-stream (not from sequence 0) on every shard, and read
    // every shard to its end marker.
    let mut verified_b = 0;
    for &(shard, first, next, events) in &b_report.ends {
        let (produced, dropped, lost_records) =
            (counters[shard as usize].1, counters[shard as usize].2, counters[shard as usize].3);
        assert!(first > 0, "shard {shard}: consumer B must resume where A released");
        assert_eq!(next, produced - lost_records + dropped, "shard {shard}: B saw the stream to its end");
        verified_b += events;
    }
    let verified = a_report.progress + verified_b;
    assert!(verified >= 1_000_000, "verified {verified} records");

    // Every drop is reported exactly once, by A or by B.
    let lost_total: u64 = a_report.lost.values().chain(b_report.lost.values()).sum();
    let dup: HashSet<_> = a_report.lost.keys().filter(|k| b_report.lost.contains_key(k)).collect();
    let lost_unique: u64 = lost_total - dup.iter().map(|k| a_report.lost[k]).sum::<u64>();
    let dropped_total: u64 = counters.iter().map(|c| c.2).sum();
    assert_eq!(lost_unique, dropped_total, "Lost records must cover exactly the producer's drops");
    eprintln!(
        "verified {verified} records (A {}, B {verified_b}); producer dropped {dropped_total} while no consumer was attached",
        a_report.progress
    );
}
