//! Ring benchmarks against named baselines, measured in the same run; every
//! line prints our figure, the baseline's and the ratio.
//!
//! - `push`: uncontended reserve + write + commit of one record (ns/record):
//!   ours (the driver's lock-free path, `Producer::push_exclusive`, and the
//!   locked `Producer::push` for a shard that CPUs share) vs
//!   `rtrb::Producer::push` vs `crossbeam_queue::ArrayQueue::push` of a
//!   same-size byte array.
//! - `spsc`: one producer thread, one consumer thread, 64- and 256-byte
//!   records: ours (1 shard) vs rtrb.
//! - `mpsc`: N producer threads, one consumer: ours (one shard per producer,
//!   as the driver's per-CPU shards) vs one shared `ArrayQueue`.
//!   N = 2 by default; `VIGIL_BENCH_PRODUCERS=1,2,4,8,16` for a scaling run
//!   (meant for a machine with that many cores).
//!
//! Throughput producers own their shard (`Producer::writer`, the lock-free
//! path the driver takes when every CPU has its own shard) and never drop:
//! when the ring is full they spin on `ShardWriter::has_room`, as an
//! `rtrb`/`ArrayQueue` producer spins on a full queue (the driver never
//! waits; it drops and counts instead).
//! Every consumer, ours and the baselines', follows the same policy in a
//! run (`Policy`); the throughput sections run under two: consumers that
//! spin, and consumers that pause briefly after a small batch.
//! Throughput lines for ours come in two inputs: the record's fields (the
//! push encodes it, as the driver does) and a pre-encoded record
//! (`encode::Encoded`, copied as rtrb and ArrayQueue copy a ready array).
//! Run: `cargo bench -p vigil-protocol --bench ring`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_queue::ArrayQueue;
use vigil_protocol::encode::{Encode, Encoded, Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, NoNotify, Producer, Push, RingLayout, ShardSlot, ShardWriter, SharedMemory};
use vigil_protocol::schema::FileWrite;

/// A FileWrite record of exactly `size` bytes (40 header + 16 body + text).
fn record_of(size: usize, text: &[u16]) -> Record<'_, FileWrite> {
    let chars = (size - 56) / 2;
    let r = Record::with_vars(
        Stamp { timestamp: 1, pid: 4, tid: 8, process_key: 9 },
        FileWrite::ZERO,
        &[Var::Utf16(&text[..chars])],
    );
    assert_eq!(r.plan(4096).unwrap().size as usize, size);
    r
}

/// What our producer is given.
#[derive(Clone, Copy, PartialEq)]
enum Input {
    /// The record's fields (stamp, body, text): `push` encodes it, as the
    /// driver does with every event.
    Fields,
    /// The record already encoded (`encode::Encoded`): `push` copies it and
    /// stamps the sequence number, as rtrb and ArrayQueue copy a ready array.
    Encoded,
}

/// `rec`'s bytes.
fn encoded(rec: &Record<'_, FileWrite>) -> Vec<u8> {
    let mut v = Vec::new();
    vigil_protocol::encode::encode_to_vec(rec, 0, 4096, &mut v).unwrap();
    v
}

const SHARD: u32 = 1 << 20;
const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn report(what: &str, ours: f64, base_name: &str, base: f64, unit: &str, higher_is_better: bool) {
    let ratio = if higher_is_better { ours / base } else { base / ours };
    println!("{what:<34} vigil {ours:>12.1} {unit:<10} {base_name:<22} {base:>12.1} {unit:<10} ratio {ratio:>6.2}x");
}

// ---------------------------------------------------------------- push

/// Which producer path a push benchmark takes.
#[derive(Clone, Copy)]
enum Path {
    /// `Producer::push_exclusive`: no lock (the driver, one CPU per shard).
    Exclusive,
    /// `Producer::push`: the shard lock per record (CPUs share a shard).
    Locked,
    /// `Producer::push_exclusive` of a pre-encoded record (`Encoded`).
    ExclusiveEncoded,
}

fn push_ns_ours(size: usize, text: &[u16], path: Path) -> f64 {
    let layout = RingLayout::new(1, 1 << 24).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = vec![ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, slots, NoNotify, 4096).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let rec = record_of(size, text);
    let bytes = encoded(&rec);
    let enc = Encoded::new(&bytes).unwrap();
    let batch = (1 << 23) / size as u64; // half the ring: never full
    let mut samples = Vec::new();
    for _ in 0..RUNS * 4 {
        let t = Instant::now();
        match path {
            Path::Exclusive => {
                for _ in 0..batch {
                    // SAFETY: this thread is the shard's only writer; the
                    // consumer below touches only the shared region.
                    black_box(unsafe { p.push_exclusive(0, black_box(&rec)) });
                }
            }
            Path::Locked => {
                for _ in 0..batch {
                    black_box(p.push(0, black_box(&rec)));
                }
            }
            Path::ExclusiveEncoded => {
                for _ in 0..batch {
                    // SAFETY: as above.
                    black_box(unsafe { p.push_exclusive(0, black_box(&enc)) });
                }
            }
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
        c.poll(usize::MAX, &mut |i| {
            black_box(i.pos);
        });
    }
    median(samples)
}

fn push_ns_rtrb<const N: usize>() -> f64 {
    let (mut p, mut c) = rtrb::RingBuffer::<[u8; N]>::new((1 << 23) / N);
    let item = [7u8; N];
    let batch = (1 << 22) / N as u64;
    let mut samples = Vec::new();
    for _ in 0..RUNS * 4 {
        let t = Instant::now();
        for _ in 0..batch {
            let _ = black_box(p.push(black_box(item)));
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
        while let Ok(x) = c.pop() {
            black_box(x);
        }
    }
    median(samples)
}

fn push_ns_crossbeam<const N: usize>() -> f64 {
    let q = ArrayQueue::<[u8; N]>::new((1 << 23) / N);
    let item = [7u8; N];
    let batch = (1 << 22) / N as u64;
    let mut samples = Vec::new();
    for _ in 0..RUNS * 4 {
        let t = Instant::now();
        for _ in 0..batch {
            let _ = black_box(q.push(black_box(item)));
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
        while let Some(x) = q.pop() {
            black_box(x);
        }
    }
    median(samples)
}

// ---------------------------------------------------------------- throughput

/// How every consumer here, ours and the baselines', behaves once it has
/// taken what was available: the same policy for all, in each run.
/// - *spin*: look again at once (a consumer that has caught up chases the
///   producer record by record, pulling the producer's position line away on
///   every publication);
/// - *batched*: if that drain took fewer than 32 records, pause for 64
///   spin-loop hints first (a real consumer does per-record work or sleeps).
///
/// The throughput sections run under both unless `VIGIL_BENCH_POLICY=spin`
/// or `=batched` picks one.
#[derive(Clone, Copy)]
struct Policy {
    name: &'static str,
    batch: u64,
    spins: u32,
}

const POLICIES: [Policy; 2] =
    [Policy { name: "spin", batch: 0, spins: 0 }, Policy { name: "batched", batch: 32, spins: 64 }];

impl Policy {
    /// Called after each drain that took `taken` records.
    fn after(&self, taken: u64) {
        if taken < self.batch {
            for _ in 0..self.spins {
                std::hint::spin_loop();
            }
        }
    }

    /// The policies this run measures.
    fn chosen() -> Vec<Policy> {
        let only = std::env::var("VIGIL_BENCH_POLICY").unwrap_or_default();
        POLICIES.into_iter().filter(|p| only.is_empty() || only == p.name).collect()
    }
}

/// Pushes `per_producer` copies of `rec`, waiting for room like an rtrb
/// producer spinning on a full queue (`push` itself would drop and count
/// instead). Returns how often it found the ring full.
fn produce<S, N, R>(w: &mut ShardWriter<'_, S, N>, rec: &R, size: usize, per_producer: u64) -> u64
where
    S: std::ops::Deref<Target = [ShardSlot]>,
    N: vigil_protocol::ring::Notify,
    R: Encode,
{
    let mut waits = 0u64;
    for _ in 0..per_producer {
        while !w.has_room(size) {
            waits += 1;
            std::hint::spin_loop();
        }
        let pushed = w.push(rec);
        debug_assert!(matches!(pushed, Push::Written { .. }));
    }
    waits
}

fn throughput_ours(
    producers: u32,
    size: usize,
    per_producer: u64,
    text: &Arc<Vec<u16>>,
    input: Input,
    policy: Policy,
) -> (f64, u64) {
    let layout = RingLayout::new(producers, SHARD).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots: Vec<ShardSlot> = (0..producers).map(|_| ShardSlot::new()).collect();
    let p = Arc::new(Producer::attach(mem.clone(), layout, slots, NoNotify, 4096).unwrap());
    let mut c = Consumer::attach(mem).unwrap();
    let start = Instant::now();
    let handles: Vec<_> = (0..producers)
        .map(|cpu| {
            let (p, text) = (p.clone(), text.clone());
            std::thread::spawn(move || {
                let rec = record_of(size, &text);
                let mut w = p.writer(cpu).expect("one writer per shard");
                match input {
                    Input::Fields => produce(&mut w, &rec, size, per_producer),
                    Input::Encoded => {
                        let bytes = encoded(&rec);
                        produce(&mut w, &Encoded::new(&bytes).unwrap(), size, per_producer)
                    }
                }
            })
        })
        .collect();
    // Transport against transport: the consumer takes raw records (ring
    // structure checked, not decoded), as rtrb/ArrayQueue consumers take
    // their arrays; decoding is the analyzer's cost, measured apart.
    let want = per_producer * u64::from(producers);
    let mut got = 0u64;
    while got < want {
        let mut found = 0;
        for shard in 0..producers {
            found += c.poll_raw(shard, usize::MAX, &mut |item| {
                // Lost records (after full-ring drops) are not payload.
                if item.bytes.get(4) == Some(&(vigil_protocol::schema::Kind::FileWrite as u8)) {
                    black_box(item.bytes[0]);
                    got += 1;
                }
            });
        }
        policy.after(found as u64);
    }
    let elapsed = start.elapsed();
    let retries = handles.into_iter().map(|h| h.join().unwrap()).sum();
    (want as f64 / elapsed.as_secs_f64(), retries)
}

fn throughput_rtrb<const N: usize>(per_producer: u64, policy: Policy) -> f64 {
    let (mut p, mut c) = rtrb::RingBuffer::<[u8; N]>::new(SHARD as usize / N);
    let start = Instant::now();
    let h = std::thread::spawn(move || {
        let item = [7u8; N];
        for _ in 0..per_producer {
            while p.push(item).is_err() {
                std::hint::spin_loop();
            }
        }
    });
    let mut got = 0;
    while got < per_producer {
        let mut taken = 0;
        while let Ok(x) = c.pop() {
            black_box(x[0]);
            taken += 1;
        }
        got += taken;
        policy.after(taken);
    }
    let e = start.elapsed();
    h.join().unwrap();
    per_producer as f64 / e.as_secs_f64()
}

fn throughput_crossbeam<const N: usize>(producers: u32, per_producer: u64, policy: Policy) -> f64 {
    let q = Arc::new(ArrayQueue::<[u8; N]>::new(SHARD as usize * producers as usize / N));
    let start = Instant::now();
    let handles: Vec<_> = (0..producers)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                let item = [7u8; N];
                for _ in 0..per_producer {
                    while q.push(item).is_err() {
                        std::hint::spin_loop();
                    }
                }
            })
        })
        .collect();
    let want = per_producer * u64::from(producers);
    let mut got = 0;
    while got < want {
        let mut taken = 0;
        while let Some(x) = q.pop() {
            black_box(x[0]);
            taken += 1;
        }
        got += taken;
        policy.after(taken);
    }
    let e = start.elapsed();
    for h in handles {
        h.join().unwrap();
    }
    want as f64 / e.as_secs_f64()
}

fn run<F: FnMut() -> f64>(mut f: F) -> f64 {
    f(); // warm-up
    median((0..RUNS).map(|_| f()).collect())
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments. VIGIL_BENCH_ONLY=push|spsc|mpsc
    // runs one section.
    let only = std::env::var("VIGIL_BENCH_ONLY").unwrap_or_default();
    let want = |s: &str| only.is_empty() || only == s;
    let text = Arc::new(vec![0x41u16; 2048]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("vigil ring benchmarks ({cores} hardware threads; median of {RUNS} runs)");
    if want("push") {
        bench_push(&text);
    }
    if want("spsc") {
        bench_spsc(&text);
    }
    if want("mpsc") {
        bench_mpsc(&text);
    }
}

fn bench_push(text: &[u16]) {
    println!("\n# uncontended push (reserve + write + commit), ns/record, lower is better");
    let ex = Path::Exclusive;
    report("push 64 B", push_ns_ours(64, text, ex), "rtrb push [u8;64]", push_ns_rtrb::<64>(), "ns", false);
    report("push 64 B", push_ns_ours(64, text, ex), "ArrayQueue push", push_ns_crossbeam::<64>(), "ns", false);
    report("push 256 B", push_ns_ours(256, text, ex), "rtrb push [u8;256]", push_ns_rtrb::<256>(), "ns", false);
    let pe = Path::ExclusiveEncoded;
    report(
        "push 64 B, pre-encoded",
        push_ns_ours(64, text, pe),
        "rtrb push [u8;64]",
        push_ns_rtrb::<64>(),
        "ns",
        false,
    );
    report(
        "push 256 B, pre-encoded",
        push_ns_ours(256, text, pe),
        "rtrb push [u8;256]",
        push_ns_rtrb::<256>(),
        "ns",
        false,
    );
    let lk = Path::Locked;
    report("push 64 B, locked", push_ns_ours(64, text, lk), "rtrb push [u8;64]", push_ns_rtrb::<64>(), "ns", false);
    report("push 256 B, locked", push_ns_ours(256, text, lk), "rtrb push [u8;256]", push_ns_rtrb::<256>(), "ns", false);
}

const N: u64 = 2_000_000;

fn bench_spsc(text: &Arc<Vec<u16>>) {
    for policy in Policy::chosen() {
        let pn = policy.name;
        println!("\n# SPSC throughput, records/s, higher is better (1 producer, 1 consumer; consumers: {pn})");
        for (input, label) in [(Input::Fields, ""), (Input::Encoded, ", pre-encoded")] {
            for size in [64usize, 256] {
                let mut retries = 0;
                let ours = run(|| {
                    let (r, d) = throughput_ours(1, size, N, text, input, policy);
                    retries += d;
                    r
                });
                let base = if size == 64 {
                    run(|| throughput_rtrb::<64>(N, policy))
                } else {
                    run(|| throughput_rtrb::<256>(N, policy))
                };
                let what = format!("spsc {size} B{label}, {pn} (full waits {retries})");
                report(&what, ours / 1e6, "rtrb", base / 1e6, "M rec/s", true);
            }
        }
    }
}

fn bench_mpsc(text: &Arc<Vec<u16>>) {
    let list = std::env::var("VIGIL_BENCH_PRODUCERS").unwrap_or_else(|_| "2".into());
    for policy in Policy::chosen() {
        let pn = policy.name;
        println!(
            "\n# multi-producer throughput, records/s, higher is better (N producers, 1 consumer; consumers: {pn})"
        );
        for producers in list.split(',').filter_map(|s| s.trim().parse::<u32>().ok()) {
            for size in [64usize, 256] {
                let per = N / u64::from(producers.max(1)) * 2;
                let mut retries = 0;
                let ours = run(|| {
                    let (r, d) = throughput_ours(producers, size, per, text, Input::Fields, policy);
                    retries += d;
                    r
                });
                let base = if size == 64 {
                    run(|| throughput_crossbeam::<64>(producers, per, policy))
                } else {
                    run(|| throughput_crossbeam::<256>(producers, per, policy))
                };
                let what = format!("{producers}p1c {size} B, {pn} (full waits {retries})");
                report(&what, ours / 1e6, "ArrayQueue (shared)", base / 1e6, "M rec/s", true);
            }
        }
    }
}
