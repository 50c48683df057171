//! Golden bytes: a fixed set of records encoded with this schema version must
//! equal the committed file byte for byte. Any layout change therefore fails
//! here until someone bumps `SCHEMA_VERSION` and re-blesses the file on
//! purpose (`VIGIL_BLESS=1 cargo test -p vigil-protocol --test golden`).

use vigil_protocol::decode::{Event, Records};
use vigil_protocol::encode::{Encode, Record, Stamp, Var, encode_to_vec};
use vigil_protocol::schema::*;

fn u16s(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn stamp(i: u64) -> Stamp {
    Stamp {
        timestamp: 133_500_000_000_000_000 + i,
        pid: 4 * (100 + i as u32),
        tid: 4 * (200 + i as u32),
        process_key: 0x1_0000_0000 + i,
    }
}

/// The fixed record set: one of each kind, absent vs empty strings, a
/// non-ASCII path with a surrogate pair, and one record truncated to fit.
fn golden_stream() -> Vec<u8> {
    let image = u16s(r"\Device\HarddiskVolume3\Windows\System32\cmd.exe");
    let cmd = u16s(r#"cmd.exe /c "echo Grüße 😀 > C:\Temp\x.txt""#);
    let cwd = u16s(r"C:\Users\alice\");
    let sid: [u8; 28] = [1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xE9, 3, 0, 0];
    let dll = u16s(r"\Device\HarddiskVolume3\Users\alice\AppData\Local\Temp\evil.dll");
    let doc = u16s(r"\Device\HarddiskVolume3\Users\alice\Documents\report.docx");
    let lnk = u16s(
        r"\Device\HarddiskVolume3\Users\alice\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\x.lnk",
    );
    let long = u16s(&"A".repeat(400));

    let mut out = Vec::new();
    let mut seq = 0;
    let mut push = |rec: &dyn Fn(&mut Vec<u8>, u64) -> usize| {
        rec(&mut out, seq);
        seq += 1;
    };
    fn enc<R: Encode>(r: &R, out: &mut Vec<u8>, seq: u64, max: usize) -> usize {
        encode_to_vec(r, seq, max, out).unwrap()
    }
    let max = MAX_RECORD_SIZE;
    push(&|o, s| {
        let body = ProcessStart {
            parent_pid: 4 * 50,
            creating_pid: 4 * 50,
            creating_tid: 4 * 51,
            session_id: 1,
            parent_key: 0x1_0000_0001,
            integrity_rid: 0x3000,
            elevation_type: 2,
            flags: ProcessStart::FLAG_ELEVATED | ProcessStart::FLAG_FILE_OPEN_NAME,
            ..ProcessStart::ZERO
        };
        enc(
            &Record::with_vars(
                stamp(0),
                body,
                &[Var::Utf16(&image), Var::Utf16(&cmd), Var::Bytes(&sid), Var::Utf16(&cwd)],
            ),
            o,
            s,
            max,
        )
    });
    push(&|o, s| enc(&Record::new(stamp(1), ProcessExit { exit_status: -1073741510, reserved: 0 }), o, s, max));
    push(&|o, s| {
        let body = ImageLoad {
            image_base: 0x7ff8_0000_0000,
            image_size: 0x2_0000,
            flags: ImageLoad::FLAG_SIGNATURE_KNOWN,
            signature_level: 0,
            signature_type: 1,
            ..ImageLoad::ZERO
        };
        enc(&Record::with_vars(stamp(2), body, &[Var::Utf16(&dll)]), o, s, max)
    });
    push(&|o, s| {
        let body = FileCreate {
            desired_access: 0x0012_019F,
            disposition: 5,
            create_options: 0x60,
            status: 0,
            information: FileCreate::INFO_CREATED,
            flags: 0,
            share_access: 7,
            ..FileCreate::ZERO
        };
        enc(&Record::with_vars(stamp(3), body, &[Var::Utf16(&lnk)]), o, s, max)
    });
    push(&|o, s| {
        enc(
            &Record::with_vars(
                stamp(4),
                FileWrite { flags: FileWrite::FLAG_FIRST_WRITE, ..FileWrite::ZERO },
                &[Var::Utf16(&doc)],
            ),
            o,
            s,
            max,
        )
    });
    push(&|o, s| {
        let body = FileRename { info_class: 65, flags: FileRename::FLAG_REPLACE_IF_EXISTS, ..FileRename::ZERO };
        enc(&Record::with_vars(stamp(5), body, &[Var::Utf16(&doc), Var::Utf16(&lnk)]), o, s, max)
    });
    push(&|o, s| {
        enc(
            &Record::with_vars(
                stamp(6),
                FileLink { info_class: 11, ..FileLink::ZERO },
                &[Var::Utf16(&doc), Var::Utf16(&[])],
            ),
            o,
            s,
            max,
        )
    });
    push(&|o, s| {
        enc(
            &Record::with_vars(
                stamp(7),
                FileDelete { method: FileDelete::METHOD_DISPOSITION_EX, disposition_flags: 3, ..FileDelete::ZERO },
                &[Var::Utf16(&doc)],
            ),
            o,
            s,
            max,
        )
    });
    push(&|o, s| {
        enc(
            &Record::with_vars(
                stamp(8),
                FileSetInfo { info_class: 20, status: 0, value: 4096, ..FileSetInfo::ZERO },
                &[Var::Absent],
            ),
            o,
            s,
            max,
        )
    });
    push(&|o, s| enc(&Record::new(stamp(9), Lost { count: 17, bytes: 2048 }), o, s, max));
    push(&|o, s| {
        enc(
            &Record::new(
                stamp(10),
                Heartbeat {
                    produced: 1000,
                    dropped: 17,
                    config_generation: 3,
                    mode: 1,
                    unclean_starts: 0,
                    reserved: 0,
                },
            ),
            o,
            s,
            max,
        )
    });
    // Truncated: a 400-character path into a 512-byte record limit.
    push(&|o, s| enc(&Record::with_vars(stamp(11), FileWrite::ZERO, &[Var::Utf16(&long)]), o, s, 512));
    out
}

#[test]
fn golden_bytes_match_committed_file() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/records-v{SCHEMA_VERSION}.bin"));
    let bytes = golden_stream();
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let committed =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (bless with VIGIL_BLESS=1)", path.display()));
    if committed != bytes {
        let at = committed.iter().zip(&bytes).position(|(a, b)| a != b).unwrap_or(committed.len().min(bytes.len()));
        panic!(
            "record layout changed: first difference at byte {at} (committed {} bytes, now {}). \
             If intended, bump SCHEMA_VERSION and bless a new golden file.",
            committed.len(),
            bytes.len()
        );
    }
}

#[test]
fn golden_records_decode_to_what_was_encoded() {
    let bytes = golden_stream();
    let events: Vec<_> = Records::new(&bytes).map(|(_, r)| r.unwrap()).collect();
    assert_eq!(events.len(), 12);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.header().seq, i as u64);
        assert_eq!(e.header().process_key, 0x1_0000_0000 + i as u64);
        assert_eq!(e.bytes().len() % 8, 0);
    }
    let Event::ProcessStart(p) = events[0] else { panic!() };
    assert_eq!(p.text(p.body.command_line).unwrap().to_string_lossy(), r#"cmd.exe /c "echo Grüße 😀 > C:\Temp\x.txt""#);
    assert_eq!(p.var(p.body.user_sid).unwrap().len(), 28);
    assert_eq!(p.body.integrity_rid, 0x3000);
    assert!(!p.truncated());
    let Event::FileLink(l) = events[6] else { panic!() };
    assert_eq!(l.text(l.body.target).map(|t| t.len_units()), Some(0), "present but empty");
    let Event::FileSetInfo(f) = events[8] else { panic!() };
    assert!(f.text(f.body.path).is_none(), "absent stays absent");
    let Event::FileWrite(t) = events[11] else { panic!() };
    assert!(t.truncated() && t.header.size as usize <= 512);
}
