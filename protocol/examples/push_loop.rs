//! Push loop for profiling (`valgrind --tool=callgrind`): one producer,
//! 64-byte records, drained every half ring.
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, NoNotify, Producer, RingLayout, ShardSlot, SharedMemory};
use vigil_protocol::schema::FileWrite;

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
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
        std::hint::black_box(p.push(0, std::hint::black_box(&rec)));
        if i % 8192 == 8191 {
            c.poll(usize::MAX, &mut |_| seen += 1);
        }
    }
    c.poll(usize::MAX, &mut |_| seen += 1);
    println!("{seen}");
}
