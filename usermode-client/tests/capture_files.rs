//! Capture files on disk: a round trip through the writer and reader, and
//! damaged files (truncated, a corrupted record, a corrupted block header):
//! every problem names the file and the record, and the records after it are
//! still read.

use std::path::{Path, PathBuf};
use vigil::capture::{CaptureError, CaptureInfo, CaptureReader, CaptureWriter, Item};
use vigil::enrich::volumes::Volume;
use vigil_protocol::decode::Event;
use vigil_protocol::encode::{Record, Stamp, Var};
use vigil_protocol::schema::{FileWrite, ProcessStart};

const RECORDS: u64 = 300;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vigil-capture-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Writes RECORDS records (ProcessStart every 10th, else FileWrite), in
/// small blocks so that damage stays local; returns each record's offset.
fn write(path: &Path) -> Vec<u64> {
    let mut info = CaptureInfo::new("WS01", 133_000_000_000_000_000);
    info.volumes.push(Volume { device: r"\Device\HarddiskVolume3".into(), dos: "C:".into() });
    info.accounts.push((vec![1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0], r"NT AUTHORITY\SYSTEM".into()));
    let mut w = CaptureWriter::create(path, &info).unwrap();
    w.set_block_size(2048);
    for i in 0..RECORDS {
        let stamp = Stamp { timestamp: 1000 + i, pid: 4 + i as u32 * 4, tid: 1, process_key: i };
        let text: Vec<u16> = format!(r"\Device\HarddiskVolume3\r{i:04}.bin").encode_utf16().collect();
        if i % 10 == 0 {
            let body = ProcessStart { parent_pid: 4, ..ProcessStart::ZERO };
            w.push(&Record::with_vars(stamp, body, &[Var::Utf16(&text), Var::Utf16(&text)]), i).unwrap();
        } else {
            w.push(&Record::with_vars(stamp, FileWrite::ZERO, &[Var::Utf16(&text)]), i).unwrap();
        }
    }
    w.finish().unwrap();
    let mut offsets = Vec::new();
    CaptureReader::open(path).unwrap().for_each(|item| {
        if let Item::Record { offset, .. } = item {
            offsets.push(offset);
        }
    });
    offsets
}

struct Read {
    numbers: Vec<u64>,
    errors: Vec<CaptureError>,
}

fn read(path: &Path) -> Read {
    let mut r = CaptureReader::open(path).unwrap();
    let mut out = Read { numbers: Vec::new(), errors: Vec::new() };
    r.for_each(|item| match item {
        Item::Record { number, record, .. } => {
            assert_eq!(record.header().seq + 1, number);
            out.numbers.push(number);
        }
        Item::Error(e) => out.errors.push(e),
        Item::Volumes(_) | Item::Accounts(_) => {}
    });
    out
}

#[test]
fn round_trip() {
    let path = tmp("round_trip.vcap");
    let offsets = write(&path);
    assert_eq!(offsets.len() as u64, RECORDS);
    let mut r = CaptureReader::open(&path).unwrap();
    assert_eq!(r.info().host, "WS01");
    assert_eq!(r.info().created, 133_000_000_000_000_000);
    assert_eq!(r.info().volumes[0].dos, "C:");
    assert_eq!(r.info().accounts[0].1, r"NT AUTHORITY\SYSTEM");
    let mut n = 0;
    let stats = r.for_each(|item| {
        let Item::Record { number, record, .. } = item else { panic!("unexpected {item:?}") };
        n += 1;
        assert_eq!(number, n);
        let i = n - 1;
        let want = format!(r"\Device\HarddiskVolume3\r{i:04}.bin");
        match record {
            Event::ProcessStart(v) => {
                assert_eq!(i % 10, 0);
                assert_eq!(v.text(v.body.image_path).unwrap().to_string_lossy(), want);
                assert_eq!(v.body.parent_pid, 4);
            }
            Event::FileWrite(v) => assert_eq!(v.text(v.body.path).unwrap().to_string_lossy(), want),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(record.header().timestamp, 1000 + i);
    });
    assert_eq!(n, RECORDS);
    assert_eq!((stats.records, stats.errors, stats.bad_records), (RECORDS, 0, 0));
    assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
}

#[test]
fn truncated_file_keeps_what_was_written_and_says_so() {
    let path = tmp("truncated.vcap");
    let offsets = write(&path);
    // Cut in the middle of record 200.
    let cut = offsets[199] + 20;
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..cut as usize]).unwrap();
    let r = read(&path);
    assert_eq!(r.numbers, (1..=199).collect::<Vec<_>>());
    let msgs: Vec<String> = r.errors.iter().map(ToString::to_string).collect();
    let name = path.display().to_string();
    assert!(msgs.iter().all(|m| m.starts_with(&name)), "{msgs:#?}");
    assert!(
        r.errors.iter().any(|e| matches!(e, CaptureError::Record { record: 200, .. })),
        "the cut record is named: {msgs:#?}"
    );
    assert!(msgs.iter().any(|m| m.contains("file ends inside a records block")), "{msgs:#?}");
}

#[test]
fn corrupted_record_in_the_middle_is_named_and_skipped() {
    let path = tmp("corrupt_record.vcap");
    let offsets = write(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    // Record 150: an unknown kind (its size is intact).
    let at = offsets[149] as usize + 4;
    bytes[at..at + 2].copy_from_slice(&999u16.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let r = read(&path);
    let expected: Vec<u64> = (1..=RECORDS).filter(|&n| n != 150).collect();
    assert_eq!(r.numbers, expected, "every other record is read");
    let rec = r.errors.iter().find(|e| matches!(e, CaptureError::Record { .. })).expect("record error");
    let msg = rec.to_string();
    assert!(
        msg.starts_with(&format!("{}: record 150 (byte {}): unknown record kind 999", path.display(), offsets[149])),
        "{msg}"
    );
    // The block checksum also flags the damage.
    assert!(r.errors.iter().any(|e| e.to_string().contains("checksum mismatch")));
}

#[test]
fn corrupted_size_loses_only_the_rest_of_its_block() {
    let path = tmp("corrupt_size.vcap");
    let offsets = write(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = offsets[99] as usize;
    bytes[at..at + 4].copy_from_slice(&3u32.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let r = read(&path);
    let skipped = r.errors.iter().find_map(|e| match e {
        CaptureError::Skipped { first, last, .. } => Some((*first, *last)),
        _ => None,
    });
    let (first, last) = skipped.expect("the lost records are reported");
    assert_eq!(first, 101, "record 100 itself is reported as a record error");
    assert!(r.errors.iter().any(|e| matches!(e, CaptureError::Record { record: 100, .. })));
    assert!(last < RECORDS, "only its block is lost");
    let expected: Vec<u64> = (1..=99).chain(last + 1..=RECORDS).collect();
    assert_eq!(r.numbers, expected);
}

#[test]
fn corrupted_block_header_resynchronizes_at_the_next_block() {
    let path = tmp("corrupt_block.vcap");
    let offsets = write(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    // Find the block header just before record 120's block: the last "VGBK"
    // before its offset.
    let at = offsets[119] as usize;
    let block = bytes[..at].windows(4).rposition(|w| w == b"VGBK").unwrap();
    bytes[block + 9] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    let r = read(&path);
    let (first, last) = r
        .errors
        .iter()
        .find_map(|e| match e {
            CaptureError::Skipped { first, last, .. } => Some((*first, *last)),
            _ => None,
        })
        .expect("the skipped block's records are counted");
    assert!(first <= 120 && 120 <= last, "{first}..={last}");
    assert!(r.errors.iter().any(|e| e.to_string().contains("invalid block header")));
    let expected: Vec<u64> = (1..first).chain(last + 1..=RECORDS).collect();
    assert_eq!(r.numbers, expected);
    assert!(*r.numbers.last().unwrap() == RECORDS, "records after the damage are read");
}
