//! A producer facing an adversarial consumer.
//!
//! The "consumer" here is the fuzzer: between producer pushes (locked, and
//! the driver's lock-free `push_exclusive`) and drops counted while
//! "detached", it writes arbitrary consumer positions and wait flags,
//! scribbles arbitrary bytes anywhere in the shared region (header, control
//! blocks, record data), and sometimes runs a real consumer over the wreckage. Checked after every
//! step: the producer never panics, never writes outside the region (ASan
//! guards the allocation's edges), never blocks, and its private counters
//! stay consistent with what it was asked to do. The real consumer must not
//! panic either, whatever it finds.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, NoNotify, Producer, Push, RingLayout, ShardSlot, SharedMemory, LINE};
use vigil_protocol::schema::FileCreate;

#[derive(Arbitrary, Debug)]
enum Op {
    Push { cpu: u8, chars: u16 },
    PushExclusive { cpu: u8, chars: u16 },
    DropDetached { cpu: u8 },
    SetConsumer { shard: u8, pos: u64 },
    SetWaiting { value: u32 },
    SetPublished { shard: u8, value: u64 },
    Scribble { offset: u32, bytes: Vec<u8> },
    Consume { max: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    shards: u8,
    big_shards: bool,
    ops: Vec<Op>,
}

/// A LINE-aligned heap buffer the test owns, so it can scribble on it.
struct Buffer {
    words: Vec<[u8; LINE]>,
}

impl Buffer {
    fn new(len: usize) -> Self {
        // `[u8; LINE]` is only 1-aligned: over-allocate one line and align
        // the base by hand.
        Self { words: vec![[0u8; LINE]; len / LINE + 2] }
    }

    fn base(&mut self) -> *mut u8 {
        let p = self.words.as_mut_ptr().cast::<u8>();
        p.wrapping_add(p.align_offset(LINE))
    }
}

fuzz_target!(|input: Input| {
    let shards = u32::from(input.shards % 4) + 1;
    let size = if input.big_shards { 16384 } else { 4096 };
    let layout = RingLayout::new(shards, size).unwrap();
    let len = layout.total_size();
    let mut buf = Buffer::new(len);
    let base = buf.base();
    // SAFETY: `base` is valid for `len` bytes for the whole test (buf lives
    // until the end); the test itself is the only other party touching the
    // memory, single-threaded, with no reference to it held across steps.
    let mem = unsafe { SharedMemory::new(base, len) }.unwrap();
    let slots: Vec<ShardSlot> = (0..shards).map(|_| ShardSlot::new()).collect();
    let producer = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 2048).unwrap();
    let mut consumer = Consumer::attach(mem.clone()).ok();
    // Per shard: records handed to the producer (pushed or dropped detached).
    let mut handed = vec![0u64; shards as usize];
    let path: Vec<u16> = (0..4096u16).map(|i| 0x41 + i % 26).collect();

    for op in input.ops.into_iter().take(2000) {
        match op {
            Op::Push { cpu, chars } | Op::PushExclusive { cpu, chars } => {
                let exclusive = matches!(op, Op::PushExclusive { .. });
                let n = usize::from(chars) % path.len();
                let rec = Record::with_vars(Stamp::default(), FileCreate::ZERO, &[Var::Utf16(&path[..n])]);
                let shard = u32::from(cpu) % shards;
                // Earlier detached drops take the sequence numbers before this one.
                let seq_before = handed[shard as usize];
                let pushed = if exclusive {
                    // SAFETY: this thread is the only one touching the producer.
                    unsafe { producer.push_exclusive(u32::from(cpu), &rec) }
                } else {
                    producer.push(u32::from(cpu), &rec)
                };
                match pushed {
                    Push::Written { seq } | Push::Dropped { seq, .. } => assert_eq!(seq, seq_before),
                }
                handed[shard as usize] += 1;
            }
            Op::DropDetached { cpu } => {
                let rec = Record::with_vars(Stamp::default(), FileCreate::ZERO, &[Var::Utf16(&path[..3])]);
                producer.drop_unowned(u32::from(cpu), &rec);
                handed[(u32::from(cpu) % shards) as usize] += 1;
            }
            Op::SetConsumer { shard, pos } => {
                let shard = usize::from(shard) % shards as usize;
                let off = 2 * LINE + shard * 2 * LINE + LINE;
                // SAFETY: `off + 8 <= len` (control blocks are inside the header).
                unsafe { base.add(off).cast::<u64>().write_unaligned(pos) };
            }
            Op::SetWaiting { value } => {
                // The consumer's wait flag (header line 2): anything goes.
                // SAFETY: `LINE + 4 <= len`.
                unsafe { base.add(LINE).cast::<u32>().write_unaligned(value) };
            }
            Op::SetPublished { shard, value } => {
                // The producer's line, written by a hostile consumer.
                let shard = usize::from(shard) % shards as usize;
                let off = 2 * LINE + shard * 2 * LINE;
                // SAFETY: `off + 8 <= len` (control blocks are inside the header).
                unsafe { base.add(off).cast::<u64>().write_unaligned(value) };
            }
            Op::Scribble { offset, bytes } => {
                let start = offset as usize % len;
                let n = bytes.len().min(len - start);
                // SAFETY: `[start, start + n)` is inside the buffer.
                unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(start), n) };
            }
            Op::Consume { max } => {
                if consumer.is_none() {
                    consumer = Consumer::attach(mem.clone()).ok();
                }
                if let Some(c) = consumer.as_mut() {
                    c.poll(usize::from(max) + 1, &mut |item| {
                        let _ = item.record.map(|e| e.header().seq);
                    });
                }
            }
        }
        // The producer's own accounting never depends on shared memory.
        for shard in 0..shards {
            let c = producer.counters(shard).unwrap();
            let events_written = c.produced - c.lost_records;
            assert_eq!(events_written + c.dropped(), handed[shard as usize], "shard {shard}: {c:?}");
        }
    }
});
