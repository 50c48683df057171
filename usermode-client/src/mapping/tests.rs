use super::*;
use crate::enrich::accounts::sid_bytes;
use crate::event::Value;
use vigil_protocol::encode::{Encode, Record, Stamp, Var, encode_to_vec};
use vigil_protocol::schema::*;

const VOL: &str = r"\Device\HarddiskVolume3";

fn u(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn nt(dos_rest: &str) -> Vec<u16> {
    u(&format!("{VOL}{dos_rest}"))
}

fn stamp(pid: u32, key: u64, t: u64) -> Stamp {
    Stamp { timestamp: t, pid, tid: 1, process_key: key }
}

fn mapper() -> Mapper {
    let mut v = VolumeTable::new();
    v.insert(VOL, "C:");
    let mut m = Mapper::new(v, AccountTable::new());
    m.pe = None;
    m.set_computer(Some("WS01".into()));
    m
}

fn map_rec<R: Encode>(m: &mut Mapper, r: &R) -> (Result<Category, Skip>, Event) {
    let mut bytes = Vec::new();
    encode_to_vec(r, 0, MAX_RECORD_SIZE, &mut bytes).unwrap();
    let rec = vigil_protocol::decode::decode(&bytes).unwrap();
    let mut e = Event::new(Category::ProcessCreation);
    let c = m.map(&rec, &mut e);
    (c, e)
}

fn s(e: &Event, f: Field) -> Option<String> {
    match e.get(f)? {
        Value::Str(s) => Some(s.to_owned()),
        Value::Int(i) => Some(i.to_string()),
    }
}

fn start(m: &mut Mapper, pid: u32, key: u64, ppid: u32, pkey: u64, image: &str, cmd: &str) -> Event {
    let img = nt(image);
    let cmd = u(cmd);
    let cwd = u(r"C:\Users\alice\");
    let sid = sid_bytes(5, &[21, 1, 2, 3, 1001]);
    let body =
        ProcessStart { parent_pid: ppid, parent_key: pkey, session_id: 1, integrity_rid: 0x2000, ..ProcessStart::ZERO };
    let r = Record::with_vars(
        stamp(pid, key, 1000),
        body,
        &[Var::Utf16(&img), Var::Utf16(&cmd), Var::Bytes(&sid), Var::Utf16(&cwd)],
    );
    let (c, e) = map_rec(m, &r);
    assert_eq!(c, Ok(Category::ProcessCreation));
    e
}

#[test]
fn process_creation_fields_and_parent() {
    let mut m = mapper();
    m.accounts.insert(&sid_bytes(5, &[21, 1, 2, 3, 1001]), r"WS01\alice");
    start(&mut m, 1000, 10, 500, 5, r"\Windows\explorer.exe", r"C:\Windows\Explorer.EXE");
    let e = start(&mut m, 2000, 20, 1000, 10, r"\Program Files\Microsoft Office\WINWORD.EXE", "winword /n x.docm");
    assert_eq!(e.category(), Category::ProcessCreation);
    assert_eq!(s(&e, Field::EventID).as_deref(), Some("1"));
    assert_eq!(s(&e, Field::Image).as_deref(), Some(r"C:\Program Files\Microsoft Office\WINWORD.EXE"));
    assert_eq!(s(&e, Field::CommandLine).as_deref(), Some("winword /n x.docm"));
    assert_eq!(s(&e, Field::CurrentDirectory).as_deref(), Some(r"C:\Users\alice\"));
    assert_eq!(s(&e, Field::User).as_deref(), Some(r"WS01\alice"));
    assert_eq!(s(&e, Field::IntegrityLevel).as_deref(), Some("Medium"));
    assert_eq!(s(&e, Field::ProcessId).as_deref(), Some("2000"));
    assert_eq!(s(&e, Field::ParentProcessId).as_deref(), Some("1000"));
    assert_eq!(s(&e, Field::ParentImage).as_deref(), Some(r"C:\Windows\explorer.exe"));
    assert_eq!(s(&e, Field::ParentCommandLine).as_deref(), Some(r"C:\Windows\Explorer.EXE"));
    assert_eq!(s(&e, Field::ParentUser).as_deref(), Some(r"WS01\alice"));
    assert_eq!(s(&e, Field::TerminalSessionId).as_deref(), Some("1"));
    assert_eq!(s(&e, Field::Computer).as_deref(), Some("WS01"));
    assert_eq!(s(&e, Field::UtcTime).as_deref(), Some("1601-01-01 00:00:00.000"));
    // Not known to Vigil: absent, not empty.
    assert_eq!(e.get(Field::OriginalFileName), None);
    assert_eq!(e.get(Field::Hashes), None);
    assert_eq!(e.get(Field::ProcessGuid), None);
}

#[test]
fn absent_vars_stay_absent_and_unknown_parent() {
    let mut m = mapper();
    let r =
        Record::new(stamp(300, 3, 5), ProcessStart { parent_pid: 4, integrity_rid: u32::MAX, ..ProcessStart::ZERO });
    let (c, e) = map_rec(&mut m, &r);
    assert_eq!(c, Ok(Category::ProcessCreation));
    assert_eq!(e.get(Field::Image), None);
    assert_eq!(e.get(Field::CommandLine), None);
    assert_eq!(e.get(Field::User), None);
    assert_eq!(e.get(Field::IntegrityLevel), None);
    assert_eq!(s(&e, Field::ParentImage).as_deref(), Some("System"));
    let r = Record::new(stamp(301, 4, 5), ProcessStart { parent_pid: 999, ..ProcessStart::ZERO });
    let (_, e) = map_rec(&mut m, &r);
    assert_eq!(e.get(Field::ParentImage), None);
}

fn create(
    m: &mut Mapper,
    pid: u32,
    key: u64,
    path: &str,
    info: u64,
    status: i32,
    flags: u32,
) -> (Result<Category, Skip>, Event) {
    let p = nt(path);
    let body = FileCreate { information: info, status, flags, disposition: 2, ..FileCreate::ZERO };
    map_rec(m, &Record::with_vars(stamp(pid, key, 2000), body, &[Var::Utf16(&p)]))
}

#[test]
fn file_create_categories() {
    let mut m = mapper();
    start(&mut m, 2000, 20, 4, 0, r"\Windows\System32\cmd.exe", "cmd");
    let (c, e) = create(&mut m, 2000, 20, r"\Users\a\x.exe", FileCreate::INFO_CREATED, 0, 0);
    assert_eq!(c, Ok(Category::FileEvent));
    assert_eq!(s(&e, Field::TargetFilename).as_deref(), Some(r"C:\Users\a\x.exe"));
    assert_eq!(s(&e, Field::Image).as_deref(), Some(r"C:\Windows\System32\cmd.exe"));
    assert_eq!(s(&e, Field::EventID).as_deref(), Some("11"));
    assert_eq!(create(&mut m, 2000, 20, r"\a", FileCreate::INFO_OVERWRITTEN, 0, 0).0, Ok(Category::FileEvent));
    let (c, e) = create(&mut m, 2000, 20, r"\a", FileCreate::INFO_OPENED, 0, 0);
    assert_eq!(c, Ok(Category::FileAccess));
    assert_eq!(s(&e, Field::FileName).as_deref(), Some(r"C:\a"));
    assert_eq!(e.get(Field::TargetFilename), None);
    assert_eq!(e.get(Field::EventID), None);
    // Information 0 with a non-supersede disposition is not a supersede.
    assert_eq!(create(&mut m, 2000, 20, r"\a", FileCreate::INFO_SUPERSEDED, 0, 0).0, Err(Skip::NoCategory));
    assert_eq!(create(&mut m, 2000, 20, r"\a", 2, 0xC000_0034_u32 as i32, 0).0, Err(Skip::Failed));
    assert_eq!(create(&mut m, 2000, 20, r"\d", 2, 0, FileCreate::FLAG_DIRECTORY).0, Err(Skip::Directory));
    assert_eq!(m.stats().skipped_for(Skip::Failed), 1);
    assert_eq!(m.stats().events_of(Category::FileEvent), 2);
}

#[test]
fn unknown_subject_and_system() {
    let mut m = mapper();
    let (_, e) = create(&mut m, 4, 0, r"\x", FileCreate::INFO_CREATED, 0, 0);
    assert_eq!(s(&e, Field::Image).as_deref(), Some("System"));
    let (_, e) = create(&mut m, 1234, 9, r"\x", FileCreate::INFO_CREATED, 0, 0);
    assert_eq!(e.get(Field::Image), None);
    assert_eq!(m.stats().unknown_process, 1);
}

#[test]
fn write_rename_link_delete_setinfo() {
    let mut m = mapper();
    let p = nt(r"\Users\a\doc.docx");
    let q = nt(r"\Users\a\doc.docx.locked");
    let w = Record::with_vars(
        stamp(8, 1, 1),
        FileWrite { flags: FileWrite::FLAG_FIRST_WRITE, ..FileWrite::ZERO },
        &[Var::Utf16(&p)],
    );
    let (c, e) = map_rec(&mut m, &w);
    assert_eq!(c, Ok(Category::FileChange));
    assert_eq!(s(&e, Field::TargetFilename).as_deref(), Some(r"C:\Users\a\doc.docx"));
    let r = Record::with_vars(
        stamp(8, 1, 1),
        FileRename { info_class: 10, ..FileRename::ZERO },
        &[Var::Utf16(&p), Var::Utf16(&q)],
    );
    let (c, e) = map_rec(&mut m, &r);
    assert_eq!(c, Ok(Category::FileRename));
    assert_eq!(s(&e, Field::SourceFilename).as_deref(), Some(r"C:\Users\a\doc.docx"));
    assert_eq!(s(&e, Field::TargetFilename).as_deref(), Some(r"C:\Users\a\doc.docx.locked"));
    let failed = Record::with_vars(
        stamp(8, 1, 1),
        FileRename { status: -1, ..FileRename::ZERO },
        &[Var::Utf16(&p), Var::Utf16(&q)],
    );
    assert_eq!(map_rec(&mut m, &failed).0, Err(Skip::Failed));
    let l = Record::with_vars(
        stamp(8, 1, 1),
        FileLink { info_class: 11, ..FileLink::ZERO },
        &[Var::Utf16(&p), Var::Utf16(&q)],
    );
    let (c, e) = map_rec(&mut m, &l);
    assert_eq!(c, Ok(Category::FileEvent));
    assert_eq!(s(&e, Field::TargetFilename).as_deref(), Some(r"C:\Users\a\doc.docx.locked"));
    let d = Record::with_vars(
        stamp(8, 1, 1),
        FileDelete { method: FileDelete::METHOD_DISPOSITION, ..FileDelete::ZERO },
        &[Var::Utf16(&p)],
    );
    let (c, e) = map_rec(&mut m, &d);
    assert_eq!(c, Ok(Category::FileDelete));
    assert_eq!(s(&e, Field::EventID).as_deref(), Some("26"));
    let basic =
        Record::with_vars(stamp(8, 1, 1), FileSetInfo { info_class: 4, ..FileSetInfo::ZERO }, &[Var::Utf16(&p)]);
    assert_eq!(map_rec(&mut m, &basic).0, Ok(Category::FileChange));
    let eof = Record::with_vars(stamp(8, 1, 1), FileSetInfo { info_class: 20, ..FileSetInfo::ZERO }, &[Var::Utf16(&p)]);
    assert_eq!(map_rec(&mut m, &eof).0, Err(Skip::NoCategory));
}

#[test]
fn image_load_signature_and_driver() {
    let mut m = mapper();
    start(&mut m, 2000, 20, 4, 0, r"\Windows\System32\rundll32.exe", "rundll32 x.dll,Start");
    let dll = nt(r"\Users\a\AppData\Local\Temp\x.dll");
    let load = |level: u8, flags: u32| {
        Record::with_vars(
            stamp(2000, 20, 3),
            ImageLoad { flags, signature_level: level, ..ImageLoad::ZERO },
            &[Var::Utf16(&dll)],
        )
    };
    let (c, e) = map_rec(&mut m, &load(1, ImageLoad::FLAG_SIGNATURE_KNOWN));
    assert_eq!(c, Ok(Category::ImageLoad));
    assert_eq!(s(&e, Field::ImageLoaded).as_deref(), Some(r"C:\Users\a\AppData\Local\Temp\x.dll"));
    assert_eq!(s(&e, Field::Image).as_deref(), Some(r"C:\Windows\System32\rundll32.exe"));
    assert_eq!(s(&e, Field::Signed).as_deref(), Some("false"));
    assert_eq!(s(&e, Field::SignatureStatus).as_deref(), Some("Unavailable"));
    assert_eq!(e.get(Field::Signature), None);
    let (_, e) = map_rec(&mut m, &load(12, ImageLoad::FLAG_SIGNATURE_KNOWN));
    assert_eq!(s(&e, Field::Signed).as_deref(), Some("true"));
    let (_, e) = map_rec(&mut m, &load(12, 0));
    assert_eq!(e.get(Field::Signed), None, "level not known: absent");
    let (_, e) = map_rec(&mut m, &load(0, ImageLoad::FLAG_SIGNATURE_KNOWN));
    assert_eq!(e.get(Field::Signed), None, "unchecked: absent");
    assert_eq!(map_rec(&mut m, &load(12, ImageLoad::FLAG_SYSTEM_MODE)).0, Err(Skip::DriverLoad));
}

#[test]
fn exit_keeps_image_for_late_events_then_forgets() {
    let mut m = mapper();
    start(&mut m, 2000, 20, 4, 0, r"\Windows\System32\cmd.exe", "cmd");
    let exit = Record::new(stamp(2000, 20, 5000), ProcessExit::ZERO);
    let (c, e) = map_rec(&mut m, &exit);
    assert_eq!(c, Ok(Category::ProcessTermination));
    assert_eq!(s(&e, Field::Image).as_deref(), Some(r"C:\Windows\System32\cmd.exe"));
    let p = nt(r"\late.txt");
    let late = |t: u64| Record::with_vars(stamp(2000, 20, t), FileWrite::ZERO, &[Var::Utf16(&p)]);
    let (_, e) = map_rec(&mut m, &late(6000));
    assert!(e.get(Field::Image).is_some(), "inside the grace period");
    let (_, e) = map_rec(&mut m, &late(5000 + ProcessTable::DEFAULT_GRACE_TICKS + 1));
    assert_eq!(e.get(Field::Image), None, "evicted after the grace period");
}

#[test]
fn lost_and_heartbeat_are_counted_not_mapped() {
    let mut m = mapper();
    let lost = Record::new(stamp(0, 0, 1), Lost { count: 7, bytes: 700 });
    assert_eq!(map_rec(&mut m, &lost).0, Err(Skip::StreamRecord));
    let hb = Record::new(stamp(0, 0, 1), Heartbeat::ZERO);
    assert_eq!(map_rec(&mut m, &hb).0, Err(Skip::StreamRecord));
    assert_eq!(m.stats().lost, 7);
    assert_eq!(m.stats().records_of(Kind::Lost), 1);
    assert_eq!(m.stats().total_records(), 2);
    assert_eq!(m.stats().total_events(), 0);
}
