//! Push loop for profiling (`valgrind --tool=callgrind`, `perf record`): one
//! producer, 64-byte records, drained every 8,192 records. Arguments: record
//! count, then `locked` to time `Producer::push` instead of the driver's
//! lock-free `Producer::push_exclusive`.
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, NoNotify, Producer, RingLayout, ShardSlot, SharedMemory};
use vigil_protocol::schema::FileWrite;

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let locked = std::env::args().nth(2).is_some_and(|a| a == "locked");
    let layout = RingLayout::new(1, 1 << 20).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots = vec![ShardSlot::new()];
    let p = Producer::attach(mem.clone(), layout, slots, NoNotify, 4096).unwrap();
    let mut c = Consumer::attach(mem).unwrap();
    let text = [0x41u16; 4];
    let rec = Record::with_vars(
        Stamp { timestamp: 1, pid: 4, tid: 8, process_key: 9 },
        FileWrite::ZERO,
        &[Var::Utf16(&text)],
    );
    let mut seen = 0u64;
    for i in 0..n {
        let rec = std::hint::black_box(&rec);
        std::hint::black_box(if locked {
            p.push(0, rec)
        } else {
            // SAFETY: this thread is the shard's only writer.
            unsafe { p.push_exclusive(0, rec) }
        });
        if i % 8192 == 8191 {
            c.poll_raw(0, usize::MAX, &mut |_| seen += 1);
        }
    }
    c.poll_raw(0, usize::MAX, &mut |_| seen += 1);
    println!("{seen}");
}
