//! Where SPSC time goes: the same records through one shard, first with the
//! producer and the consumer on one thread (no cache line ever moves between
//! cores), then on two threads (the bench's SPSC setup and consumer policy).
//! Run: `cargo run --release -p vigil-protocol --example spsc_probe [records]`.
//! docs/benchmarks.md ("Ring") uses it to show that the two-thread cost per
//! record exceeds the one-thread cost: the gap is cross-core traffic.
use std::hint::black_box;
use std::time::Instant;
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::ring::{Consumer, NoNotify, Producer, RingLayout, ShardSlot, SharedMemory};
use vigil_protocol::schema::FileWrite;

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20_000_000);
    for threads in [1, 2, 1, 2] {
        let layout = RingLayout::new(1, 1 << 20).unwrap();
        let mem = SharedMemory::alloc_for(layout);
        let p = Producer::attach(mem.clone(), layout, vec![ShardSlot::new()], NoNotify, 4096).unwrap();
        let mut c = Consumer::attach(mem).unwrap();
        let text = [0x41u16; 4]; // 64-byte records
        let rec = Record::with_vars(
            Stamp { timestamp: 1, pid: 4, tid: 8, process_key: 9 },
            FileWrite::ZERO,
            &[Var::Utf16(&text)],
        );
        let drain = |c: &mut Consumer| {
            c.poll_raw(0, usize::MAX, &mut |i| {
                black_box(i.bytes[0]);
            }) as u64
        };
        let t = Instant::now();
        if threads == 1 {
            let mut w = p.writer(0).unwrap();
            for _ in 0..n {
                while !w.has_room(64) {
                    drain(&mut c);
                }
                black_box(w.push(black_box(&rec)));
            }
        } else {
            std::thread::scope(|s| {
                let p = &p;
                s.spawn(move || {
                    let mut w = p.writer(0).unwrap();
                    for _ in 0..n {
                        while !w.has_room(64) {
                            std::hint::spin_loop();
                        }
                        black_box(w.push(black_box(&rec)));
                    }
                });
                let mut got = 0u64;
                while got < n {
                    let k = drain(&mut c);
                    got += k;
                    if k < 32 {
                        for _ in 0..64 {
                            std::hint::spin_loop();
                        }
                    }
                }
            });
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("{threads} thread(s): {ns:.1} ns per record (push + consume), {:.1} M records/s", 1e3 / ns);
    }
}
