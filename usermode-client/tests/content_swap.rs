//! Packs swapped while records keep flowing through the real ring: no record
//! is lost or read twice, every event is evaluated exactly once, and each
//! by exactly one pack: the one active when its batch started.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use vigil::content::build::{PackInfo, assemble};
use vigil::content::check::Budget;
use vigil::content::pack::{self, TrustPolicy};
use vigil::content::runtime::{ContentRuntime, Evaluator};
use vigil::enrich::{AccountTable, VolumeTable};
use vigil::event::{Category, Event};
use vigil::mapping::Mapper;
use vigil::replay::demo_rules;
use vigil::sigma::{CompileOptions, Engine};
use vigil::synth::{CPUS, Workload, catalog};
use vigil_protocol::ring::{Consumer, NoNotify, Producer, Push, RingLayout, ShardSlot, SharedMemory};
use vigil_protocol::schema::MAX_RECORD_SIZE;

fn pack(keep: usize, version: u64) -> Vec<u8> {
    let sources: Vec<(String, String)> =
        demo_rules::SOURCES.iter().take(keep).map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect();
    let info =
        PackInfo { pack_version: version, created: "2026-11-24T00:00:00Z".into(), compile: CompileOptions::default() };
    assemble(&sources, &info, None).unwrap()
}

fn mapper() -> Mapper {
    let mut v = VolumeTable::new();
    for vol in Workload::volumes() {
        v.insert(&vol.device, &vol.dos);
    }
    let mut a = AccountTable::new();
    for (sid, name) in catalog::Account::table() {
        a.insert(&sid, &name);
    }
    let mut m = Mapper::new(v, a);
    m.pe = None;
    m
}

/// One evaluated event: where it came from, which generation evaluated it, its matches.
struct Seen {
    event: Event,
    generation: u64,
    hits: Vec<String>,
}

#[test]
fn swaps_while_events_flow_lose_nothing_and_evaluate_each_event_once() {
    let packs = [pack(6, 1), pack(3, 2)];
    let layout = RingLayout::new(CPUS, 4 << 20).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots: Vec<ShardSlot> = (0..CPUS).map(|_| ShardSlot::new()).collect();
    let producer = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, MAX_RECORD_SIZE).unwrap();
    let mut consumer = Consumer::attach(mem).unwrap();

    let mut runtime = ContentRuntime::new(TrustPolicy::AllowUnsigned);
    runtime.install(&packs[0]).unwrap();
    let active = Arc::clone(runtime.active());
    let mut generation_pack: HashMap<u64, usize> = [(active.load().generation, 0)].into();
    let producing = AtomicBool::new(true);
    let consuming = AtomicBool::new(true);

    let mut produced = BTreeSet::new();
    let mut consumed = Vec::new();
    let mut seen: Vec<Seen> = Vec::new();
    std::thread::scope(|s| {
        let producer_thread = s.spawn(|| {
            let mut sent = BTreeSet::new();
            for (i, ev) in Workload::new(9, 30_000).enumerate() {
                match producer.push(ev.cpu, &ev.record) {
                    Push::Written { seq } => sent.insert((ev.cpu, seq)),
                    other => panic!("the ring dropped a record: {other:?}"),
                };
                if i % 128 == 0 {
                    std::thread::yield_now();
                }
            }
            producing.store(false, Ordering::Release);
            sent
        });
        let swapper = s.spawn(|| {
            let mut gens = Vec::new();
            let mut which = 0;
            while consuming.load(Ordering::Acquire) {
                which = 1 - which;
                runtime.install(&packs[which]).unwrap();
                gens.push((active.load().generation, which));
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            gens
        });

        let mut evaluator = Evaluator::new(Arc::clone(&active), Budget::default());
        let mut m = mapper();
        let mut ev = Event::new(Category::ProcessCreation);
        loop {
            let done = !producing.load(Ordering::Acquire);
            let mut batch = Vec::new();
            consumer.poll(64, &mut |item| {
                let r = item.record.expect("records decode");
                consumed.push((item.shard, r.header().seq));
                if m.map(&r, &mut ev).is_ok() {
                    batch.push(ev.clone());
                }
            });
            let out = evaluator.run(&batch);
            let mut hits: Vec<Vec<u32>> = vec![Vec::new(); batch.len()];
            for (i, r) in out.hits {
                hits[i].push(r.0);
            }
            for (event, h) in batch.into_iter().zip(hits) {
                seen.push(Seen { event, generation: out.generation, hits: h.iter().map(|r| r.to_string()).collect() });
            }
            if done && !consumer.has_pending() {
                break;
            }
        }
        consuming.store(false, Ordering::Release);
        produced = producer_thread.join().unwrap();
        generation_pack.extend(swapper.join().unwrap());
    });

    // Every record the producer wrote was read exactly once.
    let consumed_set: BTreeSet<(u32, u64)> = consumed.iter().copied().collect();
    assert_eq!(consumed_set.len(), consumed.len(), "a record was read twice");
    assert_eq!(consumed_set, produced, "a record was lost");

    // Every event was evaluated once, by the pack of its generation, with
    // exactly the matches that pack gives it alone.
    let sets: Vec<_> = packs.iter().map(|p| pack::load(p, &TrustPolicy::AllowUnsigned).unwrap().1).collect();
    let mut engines: Vec<Engine> = sets.iter().map(|c| Engine::new(&c.rules)).collect();
    let mut generations = BTreeSet::new();
    let mut alerts = 0;
    for s in &seen {
        let p = *generation_pack.get(&s.generation).expect("every generation comes from an install");
        let mut hits = Vec::new();
        engines[p].matches(&s.event, &mut hits);
        let want: Vec<String> = hits.iter().map(|r| r.0.to_string()).collect();
        assert_eq!(s.hits, want, "event evaluated under generation {} (pack {p})", s.generation);
        generations.insert(s.generation);
        alerts += want.len();
    }
    assert!(generations.len() >= 3, "swaps happened while events flowed: {} generations", generations.len());
    assert!(alerts > 0, "the packs matched something");
    assert!(seen.len() > 20_000);
}
