//! `RingSource` over an in-process producer: the platform-independent loop
//! without any platform.

use super::*;
use std::sync::{Arc, Condvar, Mutex};
use vigil_protocol::encode::{Record, Stamp};
use vigil_protocol::ring::{Notify, Producer, RingLayout, ShardSlot, SharedMemory};
use vigil_protocol::schema::{FileCreate, ProcessStart};

/// A condvar wakeup.
#[derive(Clone, Default)]
struct Bell(Arc<(Mutex<bool>, Condvar)>);

impl Notify for Bell {
    fn notify(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }
}

type TestProducer = Producer<Vec<ShardSlot>, Bell>;

/// Lends rings the test controls: `attach` gives the current ring, and
/// `end` makes the link report the end of the loan.
#[derive(Default)]
struct Lender {
    ring: Option<(SharedMemory, Bell)>,
    ended: Arc<Mutex<bool>>,
    refusals: u32,
}

struct Link {
    bell: Bell,
    ended: Arc<Mutex<bool>>,
}

impl RingLink for Link {
    fn wait(&mut self, timeout: Duration) {
        let (rung, cv) = &*self.bell.0;
        let g = rung.lock().unwrap();
        let (mut g, _) = cv.wait_timeout_while(g, timeout, |r| !*r).unwrap();
        *g = false;
    }
    fn ended(&mut self) -> Option<String> {
        self.ended.lock().unwrap().then(|| "test ended the loan".into())
    }
    fn detach(&mut self) {
        *self.ended.lock().unwrap() = true;
    }
    fn driver_stats(&mut self) -> Option<DriverStats> {
        None
    }
}

impl RingProvider for Lender {
    fn describe(&self) -> String {
        "test".into()
    }
    fn attach(&mut self) -> Result<Attachment, SourceError> {
        if self.refusals > 0 {
            self.refusals -= 1;
            return Err(SourceError::Unavailable("not yet".into()));
        }
        let (mem, bell) = self.ring.clone().ok_or_else(|| SourceError::Unavailable("no ring".into()))?;
        let consumer = Consumer::attach(mem).map_err(|source| SourceError::Ring { what: "test".into(), source })?;
        *self.ended.lock().unwrap() = false;
        Ok(Attachment { consumer, link: Box::new(Link { bell, ended: self.ended.clone() }) })
    }
    fn host(&mut self) -> HostInfo {
        HostInfo { name: "TEST".into(), ..HostInfo::default() }
    }
}

fn new_ring(lender: &mut Lender, shards: u32) -> TestProducer {
    let layout = RingLayout::new(shards, 64 * 1024).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let bell = Bell::default();
    let slots = (0..shards).map(|_| ShardSlot::new()).collect();
    let p = Producer::attach(mem.clone(), layout, slots, bell.clone(), 4096).unwrap();
    lender.ring = Some((mem, bell));
    p
}

fn file(ts: u64) -> Record<'static, FileCreate> {
    Record::new(Stamp { timestamp: ts, pid: 8, tid: 1, process_key: 1 }, FileCreate::ZERO)
}

const QUICK: Backoff = Backoff { min: Duration::from_millis(1), max: Duration::from_millis(4) };

fn collect(src: &mut RingSource<Lender>, out: &mut Vec<u64>) -> SourceEvent {
    src.next(Duration::from_millis(20), &mut |e| out.push(e.header().timestamp))
}

#[test]
fn delivers_in_time_order_across_shards_and_drains_on_stop() {
    let mut lender = Lender::default();
    let p = new_ring(&mut lender, 3);
    let mut src = RingSource::new(lender, QUICK);
    let mut got = Vec::new();
    assert!(matches!(collect(&mut src, &mut got), SourceEvent::Attached { shards: 3, .. }));
    p.push(2, &file(30));
    p.push(0, &file(10));
    p.push(1, &Record::new(Stamp { timestamp: 20, ..Stamp::default() }, ProcessStart::ZERO));
    while got.len() < 3 {
        collect(&mut src, &mut got);
    }
    assert_eq!(got, vec![10, 20, 30]);
    // An idle source sleeps until signalled or the timeout.
    assert!(matches!(collect(&mut src, &mut got), SourceEvent::Idle));
    p.push(0, &file(40));
    p.push(1, &file(50));
    let mut rest = Vec::new();
    assert_eq!(src.stop(&mut |e| rest.push(e.header().timestamp)), 2);
    assert_eq!(rest, vec![40, 50]);
    let s = src.stats();
    assert_eq!((s.attaches, s.detaches, s.merge.delivered, s.merge.seq_gaps), (1, 1, 5, 0));
}

#[test]
fn the_end_of_a_loan_drains_and_the_next_ring_is_attached_after_backoff() {
    let mut lender = Lender { refusals: 2, ..Lender::default() };
    let p = new_ring(&mut lender, 2);
    let mut src = RingSource::new(lender, QUICK);
    let mut got = Vec::new();
    let mut retries = Vec::new();
    loop {
        match collect(&mut src, &mut got) {
            SourceEvent::Retry { after, .. } => retries.push(after),
            SourceEvent::Attached { .. } => break,
            _ => {}
        }
    }
    assert_eq!(retries, vec![Duration::from_millis(1), Duration::from_millis(2)], "backoff doubles");
    for ts in 1..=100 {
        p.push((ts % 2) as u32, &file(ts));
    }
    // The producer goes away: the link reports the end; what is left is drained.
    *src.provider().ended.lock().unwrap() = true;
    let drained = loop {
        match collect(&mut src, &mut got) {
            SourceEvent::Detached { drained, .. } => break drained,
            SourceEvent::Delivered(_) | SourceEvent::Idle => {}
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(got.len(), 100, "every record delivered, {drained} of them by the drain");
    assert!(got.windows(2).all(|w| w[0] < w[1]));
    // A new ring (the producer restarted: sequence numbers start over).
    let p2 = new_ring(src.provider(), 2);
    while !matches!(collect(&mut src, &mut got), SourceEvent::Attached { .. }) {}
    p2.push(0, &file(1000));
    while got.len() < 101 {
        collect(&mut src, &mut got);
    }
    let s = src.stats();
    assert_eq!((s.attaches, s.detaches, s.attach_failures, s.merge.seq_gaps), (2, 1, 2, 0));
}
