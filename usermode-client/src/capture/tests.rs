use super::*;
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::schema::FileWrite;

fn capture(n: u64, block_size: usize) -> Vec<u8> {
    let mut info = CaptureInfo::new("WS01", 42);
    info.volumes.push(Volume { device: r"\Device\HarddiskVolume3".into(), dos: "C:".into() });
    let mut w = CaptureWriter::new(Vec::new(), "mem.vcap", &info).unwrap();
    w.set_block_size(block_size);
    for i in 0..n {
        let path: Vec<u16> = format!(r"\Device\HarddiskVolume3\f{i}.txt").encode_utf16().collect();
        let stamp = Stamp { timestamp: i, pid: 4, tid: 8, process_key: 1 };
        w.push(&Record::with_vars(stamp, FileWrite::ZERO, &[Var::Utf16(&path)]), i).unwrap();
    }
    w.finish().unwrap()
}

fn read(bytes: &[u8]) -> (Vec<u64>, Vec<String>, ReadStats) {
    let mut r = CaptureReader::new(bytes, "mem.vcap").unwrap();
    let (mut seqs, mut errs) = (Vec::new(), Vec::new());
    let stats = r.for_each(|item| match item {
        Item::Record { number, record, .. } => {
            assert_eq!(record.header().seq + 1, number, "record number is the file position");
            seqs.push(record.header().seq);
        }
        Item::Error(e) => errs.push(e.to_string()),
        _ => {}
    });
    (seqs, errs, stats)
}

#[test]
fn empty_and_small_round_trip() {
    let (seqs, errs, stats) = read(&capture(0, 100));
    assert!(seqs.is_empty() && errs.is_empty());
    assert_eq!(stats.blocks, 2, "header and end marker");
    let (seqs, errs, stats) = read(&capture(100, 1000));
    assert_eq!(seqs, (0..100).collect::<Vec<_>>());
    assert!(errs.is_empty(), "{errs:?}");
    assert!(stats.blocks > 5);
}

#[test]
fn every_truncation_keeps_the_complete_records() {
    let full = capture(20, 300);
    let header_end = {
        let r = CaptureReader::new(&full[..], "x").unwrap();
        r.stats().bytes as usize
    };
    let mut last = 0;
    for cut in header_end..full.len() {
        let (seqs, errs, _) = read(&full[..cut]);
        assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>(), "cut at {cut}");
        assert!(seqs.len() >= last, "a longer prefix never yields fewer records");
        last = seqs.len();
        if seqs.len() < 20 {
            assert!(!errs.is_empty(), "cut at {cut}: loss must be reported");
        }
    }
    assert_eq!(last, 20);
}

#[test]
fn header_problems_are_fatal_and_named() {
    let full = capture(1, 100);
    let e = CaptureReader::new(&b"NOTACAPTURE....."[..], "a.bin").unwrap_err();
    assert_eq!(e.to_string(), "a.bin: not a Vigil capture (no VIGILCAP magic)");
    let mut v2 = full.clone();
    v2[8] = 2;
    let e = CaptureReader::new(&v2[..], "b.vcap").unwrap_err();
    assert!(matches!(e, CaptureError::UnsupportedFormat { found: 2, .. }), "{e}");
    let e = CaptureReader::new(&full[..30], "c.vcap").unwrap_err();
    assert!(e.to_string().starts_with("c.vcap: bad capture header"), "{e}");
    // Change the schema version inside the header payload and fix its CRCs.
    let mut other = full.clone();
    let hdr_at = format::PREAMBLE_SIZE;
    let payload = hdr_at + format::BLOCK_HEADER_SIZE;
    let h = format::BlockHeader::parse(&full[hdr_at..]).unwrap();
    other[payload + 4] = 99;
    let len = h.len as usize;
    let fixed = format::BlockHeader { payload_crc: crc32fast::hash(&other[payload..payload + len]), ..h };
    other[hdr_at..payload].copy_from_slice(&fixed.to_bytes());
    let e = CaptureReader::new(&other[..], "d.vcap").unwrap_err();
    assert!(matches!(e, CaptureError::Incompatible { schema: 99, .. }), "{e}");
}

#[test]
fn table_blocks_are_delivered_in_order() {
    let info = CaptureInfo::new("h", 0);
    let mut w = CaptureWriter::new(Vec::new(), "t", &info).unwrap();
    w.push(&Record::new(Stamp::default(), FileWrite::ZERO), 0).unwrap();
    w.add_volumes(&[Volume { device: r"\Device\X".into(), dos: "X:".into() }]).unwrap();
    w.add_accounts(&[(vec![1, 0, 0, 0, 0, 0, 0, 5], "NT AUTHORITY\\X".into())]).unwrap();
    w.push(&Record::new(Stamp::default(), FileWrite::ZERO), 1).unwrap();
    let bytes = w.finish().unwrap();
    let mut r = CaptureReader::new(&bytes[..], "t").unwrap();
    let mut order = Vec::new();
    r.for_each(|i| {
        order.push(match i {
            Item::Record { number, .. } => format!("r{number}"),
            Item::Volumes(v) => format!("v:{}", v[0].dos),
            Item::Accounts(a) => format!("a:{}", a[0].1),
            Item::Error(e) => panic!("{e}"),
        })
    });
    assert_eq!(order, ["r1", "v:X:", r"a:NT AUTHORITY\X", "r2"]);
}

#[test]
fn push_bytes_checks_record_boundaries() {
    let mut w = CaptureWriter::new(Vec::new(), "p", &CaptureInfo::new("h", 0)).unwrap();
    let mut rec = Vec::new();
    vigil_protocol::encode::encode_to_vec(&Record::new(Stamp::default(), FileWrite::ZERO), 0, 4096, &mut rec).unwrap();
    w.push_bytes(&rec).unwrap();
    let mut two = rec.clone();
    two.extend_from_slice(&rec);
    assert!(w.push_bytes(&two).is_err());
    assert!(w.push_bytes(&rec[..10]).is_err());
    assert_eq!(w.records(), 1);
}
