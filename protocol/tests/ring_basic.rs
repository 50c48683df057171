//! Basic behaviour of the ring: round trip, wrap with padding, full ring,
//! Lost records, sequence accounting, wakeup announcements.

use std::sync::atomic::{AtomicU32, Ordering};
use vigil_protocol::decode::Event;
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, DropReason, NoNotify, Producer, Push, RingLayout, ShardSlot, SharedMemory};
use vigil_protocol::schema::{FileCreate, FileWrite};

fn write_rec(path: &[u16], ts: u64) -> Record<'_, FileWrite> {
    Record::with_vars(
        Stamp { timestamp: ts, pid: 4, tid: 8, process_key: 99 },
        FileWrite { flags: FileWrite::FLAG_FIRST_WRITE, ..FileWrite::ZERO },
        &[Var::Utf16(path)],
    )
}

/// A `Notify` that counts its signals.
struct Count(AtomicU32);

impl vigil_protocol::ring::Notify for Count {
    fn notify(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// Drains everything; returns (seq, kind-name, lost count) per record.
fn drain(c: &mut Consumer) -> Vec<(u64, &'static str, u64)> {
    let mut out = Vec::new();
    c.poll(usize::MAX, &mut |item| {
        let ev = item.record.expect("decodes");
        let lost = if let Event::Lost(l) = ev { l.body.count } else { 0 };
        out.push((ev.header().seq, ev.kind().name(), lost));
    });
    out
}

#[test]
fn round_trip_one_shard() {
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let path = utf16(r"\Device\HarddiskVolume3\Users\a\doc.txt");
    assert_eq!(p.push(0, &write_rec(&path, 1)), Push::Written { seq: 0 });
    let mut seen = Vec::new();
    c.poll(usize::MAX, &mut |item| {
        let Ok(Event::FileWrite(v)) = item.record else { panic!("{:?}", item.record) };
        seen.push(v.text(v.body.path).unwrap().to_string_lossy());
        assert_eq!(v.header.pid, 4);
        assert_eq!(v.header.process_key, 99);
    });
    assert_eq!(seen, vec![r"\Device\HarddiskVolume3\Users\a\doc.txt".to_string()]);
}

#[test]
fn full_ring_drops_then_reports_lost_with_exact_seq_range() {
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let path = utf16(&"x".repeat(100));
    let mut written = 0;
    let mut dropped = 0;
    for i in 0..100 {
        match p.push(0, &write_rec(&path, i)) {
            Push::Written { .. } => written += 1,
            Push::Dropped { reason, .. } => {
                assert_eq!(reason, DropReason::Full);
                dropped += 1
            }
        }
    }
    assert!(written > 10 && dropped > 0, "written {written} dropped {dropped}");
    let first = drain(&mut c);
    // Consumer freed space: the next push first emits a Lost record.
    assert_eq!(p.push(0, &write_rec(&path, 1000)), Push::Written { seq: 100 });
    let second = drain(&mut c);
    let all: Vec<_> = first.into_iter().chain(second).collect();
    let mut expect = 0;
    let mut lost_total = 0;
    for (seq, kind, lost) in &all {
        assert_eq!(*seq, expect, "{all:?}");
        if *kind == "lost" {
            expect += lost;
            lost_total += lost;
        } else {
            expect += 1;
        }
    }
    assert_eq!(expect, 101);
    assert_eq!(lost_total, dropped as u64);
    let counters = p.counters(0).unwrap();
    assert_eq!(counters.dropped_full, dropped as u64);
}

#[test]
fn wraps_with_padding_many_laps() {
    let layout = RingLayout::new(2, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new(), ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let mut got = 0u64;
    let n: u64 = if cfg!(miri) { 400 } else { 5000 };
    for i in 0..n {
        let path = utf16(&"p".repeat((i % 97) as usize));
        assert!(matches!(p.push((i % 2) as u32, &write_rec(&path, i)), Push::Written { .. }));
        if i % 7 == 0 {
            got += drain(&mut c).len() as u64;
        }
    }
    got += drain(&mut c).len() as u64;
    assert_eq!(got, n);
    assert_eq!(c.stats().resyncs, 0);
}

#[test]
fn oversize_fixed_part_is_dropped_and_strings_are_truncated() {
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 256).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let long = utf16(&"L".repeat(1000));
    let rec = Record::with_vars(Stamp::default(), FileCreate::ZERO, &[Var::Utf16(&long)]);
    assert!(matches!(p.push(0, &rec), Push::Written { .. }));
    c.poll(usize::MAX, &mut |item| {
        let Ok(Event::FileCreate(v)) = item.record else { panic!() };
        assert!(v.truncated());
        assert!(v.header.size <= 256);
        assert!(v.text(v.body.path).unwrap().len_units() > 50);
    });
}

#[test]
fn wait_announcement_is_consumed_by_one_push() {
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let n = Count(AtomicU32::new(0));
    let p = Producer::attach(mem.clone(), layout, &slots[..], &n, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let path = utf16("a");
    p.push(0, &write_rec(&path, 0));
    assert!(!c.prepare_wait(), "data pending: must not sleep");
    drain(&mut c);
    assert!(c.prepare_wait());
    p.push(0, &write_rec(&path, 1));
    p.push(0, &write_rec(&path, 2));
    assert_eq!(n.0.load(Ordering::Relaxed), 1, "one wakeup per announced wait");
}

/// Real threads: two producers on their own shards and a third CPU that
/// shares shard 0, one consumer. Under Miri this is where data races in the
/// ring would be reported.
#[test]
fn threaded_producers_and_consumer() {
    let per: u64 = if cfg!(miri) { 60 } else { 20_000 };
    let layout = RingLayout::new(2, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new(), ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let done = std::sync::atomic::AtomicU32::new(0);
    let (events, lost) = std::thread::scope(|s| {
        for cpu in 0..3u32 {
            let (p, done) = (&p, &done);
            s.spawn(move || {
                let path = utf16(&"t".repeat(cpu as usize * 7 + 1));
                for i in 0..per {
                    p.push(cpu, &write_rec(&path, i));
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Release);
            });
        }
        let mut events = 0u64;
        let mut lost = 0u64;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::Acquire) == 3;
            let n = c.poll(usize::MAX, &mut |item| match item.record.expect("decodes") {
                Event::Lost(l) => lost += l.body.count,
                Event::FileWrite(w) => {
                    assert!(w.text(w.body.path).unwrap().units().all(|u| u == u16::from(b't')));
                    events += 1;
                }
                other => panic!("unexpected {:?}", other.kind()),
            });
            if finished && n == 0 {
                break;
            }
            std::thread::yield_now();
        }
        (events, lost)
    });
    // Pending losses are reported by the next record that fits.
    let mut flushed = 0u64;
    for cpu in 0..2 {
        assert!(matches!(p.push(cpu, &write_rec(&utf16("t"), 0)), Push::Written { .. }));
    }
    c.poll(usize::MAX, &mut |item| match item.record.expect("decodes") {
        Event::Lost(l) => flushed += l.body.count,
        _ => flushed += 0,
    });
    assert_eq!(events + lost + flushed, 3 * per, "every push is delivered or reported lost");
    assert_eq!(c.stats().resyncs, 0);
}

#[test]
fn has_room_tracks_space_without_side_effects() {
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let path = utf16(&"r".repeat(400)); // 856-byte records
    let mut written = 0;
    while p.has_room(0, 856) {
        assert!(matches!(p.push(0, &write_rec(&path, 0)), Push::Written { .. }));
        written += 1;
    }
    assert_eq!(written, 4, "4 x 856 bytes fit in 4096, a fifth does not");
    assert_eq!(p.counters(0).unwrap().dropped(), 0, "asking takes nothing");
    drain(&mut c);
    assert!(p.has_room(0, 856), "room again once the consumer released");
    assert!(matches!(p.push(0, &write_rec(&path, 0)), Push::Written { seq: 4 }), "no sequence number was used up");
}

/// A writer owns its shard: a second writer or a locked push cannot get in
/// while it lives, its counters are readable without the lock, and the
/// shard is free again once it is dropped.
#[test]
fn writer_owns_its_shard_until_dropped() {
    let layout = RingLayout::new(2, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new(), ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let path = utf16("owned");
    let mut w = p.writer(1).expect("free shard");
    assert!(p.writer(1).is_none(), "one writer per shard");
    assert!(p.writer(2).is_none(), "no such shard");
    assert_eq!(w.shard(), 1);
    for i in 0..3 {
        assert_eq!(w.push(&write_rec(&path, i)), Push::Written { seq: i });
    }
    assert_eq!(p.counters(1).unwrap().produced, 3, "counters read while the writer holds the shard");
    assert!(matches!(p.push(0, &write_rec(&path, 9)), Push::Written { seq: 0 }), "other shards unaffected");
    drop(w);
    assert_eq!(p.push(1, &write_rec(&path, 3)), Push::Written { seq: 3 });
    let seqs: Vec<u64> = drain(&mut c).iter().map(|r| r.0).collect();
    assert_eq!(seqs, vec![0, 0, 1, 2, 3], "shard 0, then shard 1");
}

/// Records dropped while no ring could take them take no sequence number
/// when dropped; the next push gives them the next ones and reports them in
/// a Lost record ahead of its own record, so the stream stays dense.
#[test]
fn detached_drops_are_reported_by_the_next_push() {
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let path = utf16("d");
    assert_eq!(p.push(0, &write_rec(&path, 0)), Push::Written { seq: 0 });
    for _ in 0..3 {
        slots[0].drop_detached(&write_rec(&path, 1));
    }
    p.drop_unowned(7, &write_rec(&path, 1));
    assert_eq!(p.counters(0).unwrap().dropped_detached, 4);
    // SAFETY: this thread is the shard's only writer.
    let pushed = unsafe { p.push_exclusive(0, &write_rec(&path, 2)) };
    assert_eq!(pushed, Push::Written { seq: 5 });
    assert_eq!(drain(&mut c), vec![(0, "file_write", 0), (1, "lost", 4), (5, "file_write", 0)]);
}

/// One wait flag for the whole ring: however many shards publish while the
/// consumer sleeps, it is signalled once.
#[test]
fn one_signal_per_sleep_across_shards() {
    let layout = RingLayout::new(4, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new(), ShardSlot::new(), ShardSlot::new(), ShardSlot::new()];
    let n = Count(AtomicU32::new(0));
    let p = Producer::attach(mem.clone(), layout, &slots[..], &n, 1024).unwrap();
    let c = Consumer::attach(mem).unwrap();
    let path = utf16("w");
    assert!(c.prepare_wait());
    for cpu in 0..4 {
        p.push(cpu, &write_rec(&path, 0));
    }
    assert_eq!(n.0.load(Ordering::Relaxed), 1);
    assert_eq!(p.counters(0).unwrap().wakeups, 1, "the first publisher took the request");
    c.cancel_wait();
    p.push(0, &write_rec(&path, 1));
    assert_eq!(n.0.load(Ordering::Relaxed), 1, "no signal without an announced wait");
}

/// `Consumer::sleep`: no sleep with records pending; otherwise a first
/// sleep of at most FIRST_SLEEP_MS, a re-check, and the rest only if still
/// nothing is pending.
#[test]
fn sleep_bounds_the_first_wait() {
    use vigil_protocol::ring::FIRST_SLEEP_MS;
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let path = utf16("s");
    let mut waits = Vec::new();
    assert!(c.sleep(100, &mut |ms| waits.push(ms)));
    assert_eq!(waits, vec![FIRST_SLEEP_MS, 100 - FIRST_SLEEP_MS], "nothing arrived: first sleep, then the rest");

    waits.clear();
    // A record that the first sleep's re-check finds (the racing push the
    // bound exists for): no second sleep.
    assert!(c.sleep(100, &mut |ms| {
        if waits.is_empty() {
            p.push(0, &write_rec(&path, 0));
        }
        waits.push(ms);
    }));
    assert_eq!(waits, vec![FIRST_SLEEP_MS]);

    waits.clear();
    assert!(!c.sleep(100, &mut |ms| waits.push(ms)), "pending: no sleep at all");
    assert!(waits.is_empty());
    drain(&mut c);
}

/// A pre-encoded record goes through the ring byte for byte, with the
/// ring's sequence number; bytes that do not decode are refused up front.
#[test]
fn encoded_records_are_copied_with_a_new_seq() {
    use vigil_protocol::encode::{Encoded, encode_to_vec};
    let path = utf16("C:\\copy\\me.txt");
    let mut bytes = Vec::new();
    encode_to_vec(&write_rec(&path, 77), 12345, 1024, &mut bytes).unwrap();
    bytes.extend_from_slice(&[0xAB; 16]); // trailing bytes are not part of it
    let enc = Encoded::new(&bytes).unwrap();
    assert_eq!(enc.bytes().len() + 16, bytes.len());
    let layout = RingLayout::new(1, 4096).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = [ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    assert_eq!(p.push(0, &enc), Push::Written { seq: 0 });
    let mut seen = 0;
    c.poll_raw(0, usize::MAX, &mut |item| {
        assert_eq!(&item.bytes[..16], &enc.bytes()[..16]);
        assert_eq!(&item.bytes[16..24], &0u64.to_le_bytes(), "seq replaced");
        assert_eq!(&item.bytes[24..], &enc.bytes()[24..]);
        seen += 1;
    });
    assert_eq!(seen, 1);
    assert!(Encoded::new(&bytes[..20]).is_err(), "a cut record is refused");
    assert!(p.push(0, &Encoded::new(&bytes).unwrap()) == Push::Written { seq: 1 });
    let small = Producer::attach(SharedMemory::alloc_for(layout), layout, &slots[..], NoNotify, 48);
    assert!(matches!(small.unwrap().push(0, &enc), Push::Dropped { reason: DropReason::Oversize, .. }));
}
