//! One side of the cross-process ring test (`tests/cross_process.rs`).
//!
//! `ring-peer produce <mem-fd> <event-fd> <threads>`: attaches a producer to
//! the inherited memfd exactly as the driver does (one writer per "CPU",
//! each pushing to its shard through `Producer::push`), then obeys stdin:
//! `produce <count> <rate-per-s>` (paced, never waits for space: drops are
//! counted), `flush` (one end marker per shard, retried until written so
//! pending Lost records go out, then prints counters and exits).
//!
//! `ring-peer consume <mem-fd> <event-fd>`: attaches a consumer, verifies
//! every record's content and every shard's sequence, and reports on stdout
//! (line-buffered, always *before* the release that hands the records back):
//! `lost <shard> <seq> <count>`, `error <text>`, `progress <events>`, and at
//! the end `end <shard> <first-seq> <next-seq> <events>` and
//! `stats <resyncs> <decode-errors>`.

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil::shm::{EventFd, ShmMapping};
use vigil_protocol::decode::Event;
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, Producer, Push, ShardSlot};
use vigil_protocol::schema::FileCreate;

/// Path content of record `i` of thread `t`: derived, so the consumer can
/// recompute it.
fn path_of(t: u32, i: u64, buf: &mut Vec<u16>) {
    buf.clear();
    let len = (i % 61) as usize + (t as usize % 3);
    buf.extend((0..len).map(|k| 0x61 + ((i as usize + k + t as usize) % 26) as u16));
}

fn record(t: u32, i: u64, path: &[u16]) -> Record<'_, FileCreate> {
    let body = FileCreate { desired_access: t, information: i, ..FileCreate::ZERO };
    Record::with_vars(
        Stamp { timestamp: i, pid: 4 * (t + 1), tid: t, process_key: 0xC0FFEE },
        body,
        &[Var::Utf16(path)],
    )
}

fn fd_arg(s: Option<String>) -> i32 {
    s.and_then(|s| s.parse().ok()).expect("fd argument")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let role = args.next().expect("role");
    let mem_fd = fd_arg(args.next());
    let ev_fd = fd_arg(args.next());
    // SAFETY: the parent passed these descriptors to us and nothing else in
    // this process uses or closes them.
    let map = unsafe { ShmMapping::from_fd(mem_fd) }.expect("map memfd");
    // SAFETY: as above.
    let event = unsafe { EventFd::from_fd(ev_fd) };
    match role.as_str() {
        "produce" => produce(&map, event, args.next().and_then(|s| s.parse().ok()).expect("threads")),
        "consume" => consume(&map, event),
        other => panic!("unknown role {other}"),
    }
}

fn produce(map: &ShmMapping, event: EventFd, threads: u32) {
    let mem = map.shared_memory().unwrap();
    let layout = vigil_protocol::ring::RingLayout::fit(map.len(), 4).unwrap();
    let slots: Vec<ShardSlot> = (0..layout.shard_count()).map(|_| ShardSlot::new()).collect();
    let producer = Arc::new(Producer::attach(mem, layout, slots, event, 4096).unwrap());
    let mut next = vec![0u64; threads as usize];
    println!("ready");
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["produce", count, rate] => {
                let count: u64 = count.parse().unwrap();
                let rate: f64 = rate.parse().unwrap();
                let per = count / u64::from(threads);
                let start = Instant::now();
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let p = producer.clone();
                        let first = next[t as usize];
                        std::thread::spawn(move || {
                            // One thread per shard owns it (the lock-free
                            // path vigil.sys takes); more threads than shards
                            // share them through the shard locks.
                            let mut writer = if threads <= p.layout().shard_count() { p.writer(t) } else { None };
                            let mut path = Vec::new();
                            let mut dropped = 0u64;
                            for k in 0..per {
                                // Pace: each thread does rate/threads records per second.
                                if k % 512 == 0 {
                                    let due = Duration::from_secs_f64(k as f64 * f64::from(threads) / rate);
                                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                                        std::thread::sleep(wait);
                                    }
                                }
                                let i = first + k;
                                path_of(t, i, &mut path);
                                let rec = record(t, i, &path);
                                let pushed = match writer.as_mut() {
                                    Some(w) => w.push(&rec),
                                    None => p.push(t, &rec),
                                };
                                if let Push::Dropped { .. } = pushed {
                                    dropped += 1;
                                }
                            }
                            dropped
                        })
                    })
                    .collect();
                let dropped: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
                for n in &mut next {
                    *n += per;
                }
                println!("done {} dropped {dropped}", per * u64::from(threads));
            }
            ["flush"] => {
                for shard in 0..layout.shard_count() {
                    let end = Record::new(Stamp::default(), FileCreate::ZERO);
                    while let Push::Dropped { .. } = producer.push(shard, &end) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                for shard in 0..layout.shard_count() {
                    let c = producer.counters(shard).unwrap();
                    println!("counters {shard} {} {} {}", c.produced, c.dropped(), c.lost_records);
                }
                return;
            }
            _ => panic!("bad command {line:?}"),
        }
    }
}

#[derive(Default, Clone)]
struct ShardCheck {
    first: Option<u64>,
    next: u64,
    events: u64,
    ended: bool,
}

fn consume(map: &ShmMapping, event: EventFd) {
    let mem = map.shared_memory().unwrap();
    let mut consumer = Consumer::attach(mem).unwrap();
    let shards = consumer.layout().shard_count() as usize;
    let mut check = vec![ShardCheck::default(); shards];
    let mut last_i: std::collections::HashMap<u32, u64> = Default::default();
    let mut total = 0u64;
    let mut path = Vec::new();
    let mut errors = 0u64;
    let mut verify = |shard: usize, ev: &Event<'_>, check: &mut Vec<ShardCheck>| -> Result<(), String> {
        let h = ev.header();
        let s = &mut check[shard];
        if s.first.is_some() {
            if h.seq != s.next {
                return Err(format!("shard {shard}: seq {} expected {}", h.seq, s.next));
            }
        } else {
            s.first = Some(h.seq);
        }
        match ev {
            Event::Lost(l) => {
                println!("lost {shard} {} {}", h.seq, l.body.count);
                s.next = h.seq + l.body.count;
            }
            Event::FileCreate(v) if v.header.pid == 0 => {
                s.ended = true;
                s.next = h.seq + 1;
            }
            Event::FileCreate(v) => {
                s.next = h.seq + 1;
                s.events += 1;
                let t = v.body.desired_access;
                let i = v.body.information;
                if v.header.pid != 4 * (t + 1)
                    || v.header.tid != t
                    || v.header.timestamp != i
                    || v.header.process_key != 0xC0FFEE
                {
                    return Err(format!("shard {shard} seq {}: header fields corrupted", h.seq));
                }
                path_of(t, i, &mut path);
                if !v.text(v.body.path).is_some_and(|p| p.units().eq(path.iter().copied())) {
                    return Err(format!("shard {shard} seq {}: path corrupted", h.seq));
                }
                if let Some(prev) = last_i.insert(t, i)
                    && i <= prev
                {
                    return Err(format!("thread {t}: record {i} after {prev}"));
                }
            }
            other => return Err(format!("unexpected kind {:?}", other.kind())),
        }
        Ok(())
    };
    while !check.iter().all(|s| s.ended) {
        let n = consumer.poll(4096, &mut |item| {
            let result = match item.record {
                Ok(ev) => verify(item.shard as usize, &ev, &mut check),
                Err(e) => Err(format!("decode: {e}")),
            };
            if let Err(e) = result {
                errors += 1;
                println!("error {e}");
            }
            total += 1;
            if total.is_multiple_of(100_000) {
                println!("progress {total}");
            }
        });
        if n == 0 {
            consumer.sleep(100, &mut |ms| {
                event.wait(ms as i32);
            });
        }
    }
    for (i, s) in check.iter().enumerate() {
        println!("end {i} {} {} {}", s.first.unwrap_or(0), s.next, s.events);
    }
    let st = consumer.stats();
    println!("stats {} {} {errors}", st.resyncs, st.decode_errors);
}
