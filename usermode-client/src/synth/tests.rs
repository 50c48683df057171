use super::*;
use crate::enrich::{AccountTable, VolumeTable};
use crate::event::{Category, Event, Field, Value};
use crate::mapping::Mapper;
use vigil_protocol::encode::{Encode, encode_to_vec};
use vigil_protocol::schema::MAX_RECORD_SIZE;

fn encoded(seed: u64, n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for ev in Workload::new(seed, n) {
        out.extend_from_slice(&ev.cpu.to_le_bytes());
        encode_to_vec(&ev.record, 0, MAX_RECORD_SIZE, &mut out).unwrap();
    }
    out
}

#[test]
fn same_seed_same_bytes() {
    assert_eq!(encoded(7, 3000), encoded(7, 3000));
    assert_ne!(encoded(7, 3000), encoded(8, 3000));
}

#[test]
fn size_and_attack_schedule() {
    let n = Workload::new(1, 10_000).count() as u64;
    assert!((10_000..10_300).contains(&n), "{n}");
    assert_eq!(Workload::new(1, 10_000).attack_runs(), 1);
    assert_eq!(Workload::new(1, 2_000_000).attack_runs(), 4);
    // Even a tiny workload boots and runs the whole chain.
    let labels: Vec<_> = Workload::new(1, 10).filter_map(|e| e.label).collect();
    for a in Attack::ALERTING {
        assert!(labels.contains(&a), "{a:?} missing");
    }
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

#[test]
fn every_record_maps_with_a_known_process_and_all_categories_appear() {
    let mut m = mapper();
    let mut e = Event::new(Category::ProcessCreation);
    let mut buf = Vec::new();
    let mut encoded_cmd = None;
    for ev in Workload::new(3, 20_000) {
        buf.clear();
        encode_to_vec(&ev.record, 0, MAX_RECORD_SIZE, &mut buf).unwrap();
        let rec = vigil_protocol::decode::decode(&buf).unwrap();
        if m.map(&rec, &mut e).is_ok()
            && ev.label == Some(Attack::EncodedPowerShell)
            && e.category() == Category::ProcessCreation
        {
            if let Some(Value::Str(c)) = e.get(Field::CommandLine) {
                encoded_cmd = Some(c.to_owned());
            }
            assert_eq!(e.get(Field::ParentImage), Some(Value::Str(catalog::CMD)));
            assert_eq!(e.get(Field::User), Some(Value::Str(r"CONTOSO\alice")));
        }
    }
    let s = m.stats();
    assert_eq!(s.unknown_process, 0, "every subject process was started in the stream");
    for c in Category::ALL {
        assert!(s.events_of(c) > 0, "no {} events", c.name());
    }
    assert!(encoded_cmd.unwrap().ends_with(&encode_command(PAYLOAD)));
}

#[test]
fn ring_stand_in_carries_the_records_unchanged() {
    use vigil_protocol::ring::{Consumer, NoNotify, Producer, RingLayout, ShardSlot, SharedMemory};
    let layout = RingLayout::new(CPUS, 1 << 20).unwrap();
    let mem = SharedMemory::alloc_for(layout);
    let slots: Vec<ShardSlot> = (0..CPUS).map(|_| ShardSlot::new()).collect();
    let producer = Producer::attach(mem.clone(), layout, &slots[..], NoNotify, MAX_RECORD_SIZE).unwrap();
    let mut consumer = Consumer::attach(mem).unwrap();
    let mut sent = Vec::new();
    for ev in Workload::new(5, 2000) {
        assert!(matches!(producer.push(ev.cpu, &ev.record), vigil_protocol::ring::Push::Written { .. }));
        sent.push((ev.record.stamp.timestamp, ev.record.kind()));
    }
    let mut got = Vec::new();
    consumer.poll(usize::MAX, &mut |item| {
        let r = item.record.unwrap();
        got.push((r.header().timestamp, r.kind()));
    });
    got.sort();
    sent.sort();
    assert_eq!(got, sent);
}
