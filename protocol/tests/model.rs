//! Property test: the ring against a `VecDeque` model.
//!
//! Random sequences of pushes (random shards and record sizes, wrapping many
//! times, filling the ring) and polls (random batch sizes). The model keeps,
//! per shard, the queue of records the consumer must see next. Checked:
//! - the consumer sees exactly the records `push` reported as written, in
//!   order, with their content intact;
//! - every dropped record is covered by exactly one `Lost` record, and
//!   sequence numbers are dense (records + lost ranges, no gaps, no overlap);
//! - a record is only dropped when the unread bytes leave no room for it;
//! - no resync or decode error ever happens with an honest consumer.
//!
//! Each property runs twice: through the locked `Producer::push` and through
//! the driver's lock-free `Producer::push_exclusive` (this single thread is
//! every shard's only writer). Drops counted while "detached"
//! (`ShardSlot::drop_detached`, no sequence number taken) are interleaved:
//! the next push on the shard must report them in its `Lost` record and
//! give them the next sequence numbers.

use proptest::prelude::*;
use std::collections::VecDeque;
use vigil_protocol::decode::Event;
use vigil_protocol::encode::{Encode, Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, NoNotify, Producer, Push, RingLayout, ShardSlot, SharedMemory};
use vigil_protocol::schema::FileWrite;

#[derive(Clone, Debug)]
enum Op {
    Push { cpu: u32, chars: usize },
    Poll { max: usize },
    DropDetached { cpu: u32 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u32..8, prop_oneof![0usize..40, 0usize..600]).prop_map(|(cpu, chars)| Op::Push { cpu, chars }),
        2 => (1usize..50).prop_map(|max| Op::Poll { max }),
        1 => (0u32..8).prop_map(|cpu| Op::DropDetached { cpu }),
    ]
}

/// Which producer path the pushes take.
#[derive(Clone, Copy, Debug)]
enum Path {
    Locked,
    Exclusive,
}

/// Path text derived from the sequence number, so content is checkable.
fn text(seq: u64, chars: usize) -> Vec<u16> {
    (0..chars).map(|i| 0x41 + ((seq as usize + i) % 26) as u16).collect()
}

#[derive(Default)]
struct ShardModel {
    /// Records written and not yet seen: (seq, chars, size).
    queue: VecDeque<(u64, usize, u64)>,
    /// Next sequence number the consumer must see.
    next_seq: u64,
    dropped: u64,
    lost_reported: u64,
}

fn push(producer: &Producer<&[ShardSlot], NoNotify>, path: Path, cpu: u32, rec: &Record<'_, FileWrite>) -> Push {
    match path {
        Path::Locked => producer.push(cpu, rec),
        // SAFETY: this thread is the only one that touches the producer and
        // its slots.
        Path::Exclusive => unsafe { producer.push_exclusive(cpu, rec) },
    }
}

fn run(path: Path, shards: u32, shard_size: u32, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let layout = RingLayout::new(shards, shard_size).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots: Vec<ShardSlot> = (0..shards).map(|_| ShardSlot::new()).collect();
    let producer = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, 1024).unwrap();
    let mut consumer = Consumer::attach(mem).unwrap();
    let mut model: Vec<ShardModel> = (0..shards).map(|_| ShardModel::default()).collect();
    let mut seqs = vec![0u64; shards as usize];
    // Detached drops not yet folded into a shard's losses.
    let mut detached = vec![0u64; shards as usize];

    let check_poll = |consumer: &mut Consumer, model: &mut Vec<ShardModel>, max: usize| -> Result<(), TestCaseError> {
        let mut failure = None;
        consumer.poll(max, &mut |item| {
            let m = &mut model[item.shard as usize];
            let ev = match item.record {
                Ok(ev) => ev,
                Err(e) => {
                    failure.get_or_insert(format!("decode error {e}"));
                    return;
                }
            };
            let seq = ev.header().seq;
            if seq != m.next_seq {
                failure.get_or_insert(format!("shard {}: seq {seq}, expected {}", item.shard, m.next_seq));
            }
            match ev {
                Event::Lost(l) => {
                    m.next_seq = seq + l.body.count;
                    m.lost_reported += l.body.count;
                }
                Event::FileWrite(w) => {
                    m.next_seq = seq + 1;
                    match m.queue.pop_front() {
                        Some((s, chars, _)) if s == seq => {
                            // Records over the size cap are cut, flagged,
                            // and keep a prefix of the text.
                            let got: Vec<u16> = w.text(w.body.path).unwrap().units().collect();
                            let want = text(seq, chars);
                            let ok = if w.truncated() {
                                got.len() < want.len() && want.starts_with(&got)
                            } else {
                                got == want
                            };
                            if !ok || w.header.size as usize > 1024 {
                                failure.get_or_insert(format!("content of seq {seq} corrupted"));
                            }
                        }
                        other => {
                            failure.get_or_insert(format!("got seq {seq}, model expected {other:?}"));
                        }
                    }
                }
                other => {
                    failure.get_or_insert(format!("unexpected kind {:?}", other.kind()));
                }
            }
        });
        match failure {
            Some(f) => Err(TestCaseError::fail(f)),
            None => Ok(()),
        }
    };

    for op in ops {
        match op {
            Op::Push { cpu, chars } => {
                let shard = (cpu % shards) as usize;
                // The push first gives pending detached drops their seqs.
                seqs[shard] += detached[shard];
                model[shard].dropped += detached[shard];
                detached[shard] = 0;
                let text = text(seqs[shard], chars);
                let rec = Record::with_vars(Stamp::default(), FileWrite::ZERO, &[Var::Utf16(&text)]);
                let size = u64::from(rec.plan(producer.max_record()).unwrap().size);
                let m = &mut model[shard];
                match push(&producer, path, cpu, &rec) {
                    Push::Written { seq } => {
                        prop_assert_eq!(seq, seqs[shard]);
                        m.queue.push_back((seq, chars, size));
                    }
                    Push::Dropped { seq, .. } => {
                        prop_assert_eq!(seq, seqs[shard]);
                        // Legit only if what may be unread in the shard plus
                        // this record cannot fit: unread events, unread Lost
                        // records (each reports at least one drop, so at most
                        // one per drop not yet reported), at most one lap pad
                        // inside the unread span (<= max record - 8), and
                        // for the new write a Lost record and its own pad.
                        let unread: u64 = m.queue.iter().map(|q| q.2).sum();
                        let lost_unread = m.dropped - m.lost_reported;
                        let worst = unread + 56 * lost_unread + 1016 + 56 + size + (size - 8);
                        m.dropped += 1;
                        prop_assert!(
                            worst > u64::from(shard_size),
                            "spurious drop: {} unread bytes, record {} bytes, shard {}",
                            unread,
                            size,
                            shard_size
                        );
                    }
                }
                seqs[shard] += 1;
            }
            Op::Poll { max } => check_poll(&mut consumer, &mut model, max)?,
            Op::DropDetached { cpu } => {
                let shard = cpu % shards;
                let t = text(0, 3);
                slots[shard as usize].drop_detached(&Record::with_vars(
                    Stamp::default(),
                    FileWrite::ZERO,
                    &[Var::Utf16(&t)],
                ));
                detached[shard as usize] += 1;
            }
        }
    }
    // Drain everything, then push one record per shard so pending losses
    // get reported, and drain again.
    check_poll(&mut consumer, &mut model, usize::MAX)?;
    for shard in 0..shards {
        seqs[shard as usize] += detached[shard as usize];
        model[shard as usize].dropped += detached[shard as usize];
        let t = text(seqs[shard as usize], 1);
        let rec = Record::with_vars(Stamp::default(), FileWrite::ZERO, &[Var::Utf16(&t)]);
        let Push::Written { seq } = push(&producer, path, shard, &rec) else {
            return Err(TestCaseError::fail("final push dropped"));
        };
        model[shard as usize].queue.push_back((seq, 1, 0));
        seqs[shard as usize] += 1;
    }
    check_poll(&mut consumer, &mut model, usize::MAX)?;
    for (i, m) in model.iter().enumerate() {
        prop_assert!(m.queue.is_empty(), "shard {}: {} written records never seen", i, m.queue.len());
        prop_assert_eq!(m.lost_reported, m.dropped, "shard {}: Lost records must cover every drop", i);
        prop_assert_eq!(m.next_seq, seqs[i]);
    }
    prop_assert_eq!(consumer.stats().resyncs, 0);
    prop_assert_eq!(consumer.stats().decode_errors, 0);
    let dropped: u64 = model.iter().map(|m| m.dropped).sum();
    let counted: u64 = (0..shards).map(|s| producer.counters(s).unwrap().dropped()).sum();
    prop_assert_eq!(counted, dropped, "the producer's counters agree with the model");
    Ok(())
}

/// Under Miri (about 1000x slower) the same properties run on fewer and
/// shorter sequences: Miri is there to check the memory accesses, the full
/// search runs natively.
const CASES: u32 = if cfg!(miri) { 3 } else { 256 };
const MAX_OPS: usize = if cfg!(miri) { 120 } else { 600 };

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn one_shard_matches_model(ops in prop::collection::vec(op(), 1..MAX_OPS)) {
        run(Path::Locked, 1, 4096, ops)?;
    }

    #[test]
    fn many_shards_match_model(ops in prop::collection::vec(op(), 1..MAX_OPS), shards in 1u32..5) {
        run(Path::Locked, shards, 8192, ops)?;
    }

    #[test]
    fn one_shard_exclusive_matches_model(ops in prop::collection::vec(op(), 1..MAX_OPS)) {
        run(Path::Exclusive, 1, 4096, ops)?;
    }

    #[test]
    fn many_shards_exclusive_match_model(ops in prop::collection::vec(op(), 1..MAX_OPS), shards in 1u32..5) {
        run(Path::Exclusive, shards, 8192, ops)?;
    }
}
