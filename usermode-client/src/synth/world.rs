//! The simulated machine: a clock, processes with pids and start keys, and
//! helpers that emit the records the driver would write for each action.

use super::catalog::{self, Account, Token};
use super::record::{Body, SynthRecord, VarData};
use super::rng::Rng;
use super::{Attack, SynthEvent};
use std::collections::VecDeque;
use vigil_protocol::encode::Stamp;
use vigil_protocol::schema::{FileCreate, FileDelete, FileRename, FileWrite, ImageLoad, ProcessExit, ProcessStart};

/// The NT device of the system volume (`C:`).
pub const SYSTEM_VOLUME: &str = r"\Device\HarddiskVolume3";

/// A simulated process.
#[derive(Clone, Debug)]
pub struct Proc {
    /// Process id.
    pub pid: u32,
    /// Start key.
    pub key: u64,
}

/// Signing levels the kernel reports (SE_SIGNING_LEVEL_*).
#[derive(Clone, Copy, Debug)]
pub enum Signing {
    /// Unsigned image.
    Unsigned = 1,
    /// Authenticode-signed third-party image.
    Authenticode = 4,
    /// Microsoft-signed.
    Microsoft = 8,
    /// Windows component.
    Windows = 12,
}

/// Clock, pids, keys and the output queue.
#[derive(Debug)]
pub struct World {
    pub(super) rng: Rng,
    /// Current FILETIME.
    pub now: u64,
    next_key: u64,
    used_pids: std::collections::HashSet<u32>,
    pub(super) queue: VecDeque<SynthEvent>,
    /// Label given to records emitted now (set by attack scenarios).
    pub label: Option<Attack>,
    cpus: u32,
}

/// DOS path → NT path on the system volume.
pub fn nt_path(dos: &str) -> String {
    match dos.strip_prefix("C:") {
        Some(rest) => format!("{SYSTEM_VOLUME}{rest}"),
        None => dos.to_owned(),
    }
}

impl World {
    /// A machine booting at `start` (FILETIME) with `cpus` processors.
    pub fn new(seed: u64, start: u64, cpus: u32) -> Self {
        Self {
            rng: Rng::new(seed),
            now: start,
            next_key: 0x100,
            used_pids: Default::default(),
            queue: VecDeque::new(),
            label: None,
            cpus: cpus.max(1),
        }
    }

    fn tick(&mut self) -> u64 {
        // 5 µs .. 2 ms between records.
        self.now += self.rng.range(50, 20_000);
        self.now
    }

    fn emit(&mut self, p: &Proc, body: Body, vars: Vec<VarData>) {
        let stamp = Stamp { timestamp: self.tick(), pid: p.pid, tid: p.pid + 4, process_key: p.key };
        let cpu = self.rng.below(u64::from(self.cpus)) as u32;
        self.queue.push_back(SynthEvent { cpu, record: SynthRecord { stamp, body, vars }, label: self.label });
    }

    fn new_pid(&mut self) -> u32 {
        loop {
            let pid = self.rng.range(100, 16_000) as u32 * 4;
            if self.used_pids.insert(pid) {
                return pid;
            }
        }
    }

    /// Starts `image` (DOS path) as a child of `parent`, with its image
    /// loads: the executable, ntdll, kernel32, KernelBase and `dlls`.
    pub fn start(
        &mut self,
        parent: Option<&Proc>,
        image: &str,
        command_line: &str,
        token: Token,
        dlls: &[&str],
    ) -> Proc {
        let Token { account, integrity, session } = token;
        let pid = self.new_pid();
        self.next_key += 1;
        let p = Proc { pid, key: self.next_key };
        let body = ProcessStart {
            parent_pid: parent.map_or(4, |q| q.pid),
            creating_pid: parent.map_or(4, |q| q.pid),
            creating_tid: parent.map_or(8, |q| q.pid + 4),
            session_id: session,
            parent_key: parent.map_or(0, |q| q.key),
            integrity_rid: integrity,
            elevation_type: if integrity >= 0x3000 && account == Account::Alice { 2 } else { 1 },
            flags: ProcessStart::FLAG_FILE_OPEN_NAME,
            ..ProcessStart::ZERO
        };
        let cwd = if session == 0 { r"C:\Windows\system32\".to_owned() } else { catalog::PROFILE.to_owned() + r"\" };
        let vars = vec![
            VarData::text(&nt_path(image)),
            VarData::text(command_line),
            VarData::Bytes(account.sid()),
            VarData::text(&cwd),
        ];
        self.emit(&p, Body::ProcessStart(body), vars);
        let signing = catalog::signing_of(image);
        self.load(&p, image, signing);
        for dll in catalog::BASE_DLLS.iter().chain(dlls) {
            self.load(&p, dll, catalog::signing_of(dll));
        }
        p
    }

    /// Ends `p`.
    pub fn exit(&mut self, p: &Proc) {
        self.emit(p, Body::ProcessExit(ProcessExit::ZERO), Vec::new());
        self.used_pids.remove(&p.pid);
    }

    /// `p` maps `image` (DOS path).
    pub fn load(&mut self, p: &Proc, image: &str, signing: Signing) {
        let body = ImageLoad {
            image_base: 0x7FF8_0000_0000 + self.rng.below(0x1000) * 0x10000,
            image_size: self.rng.range(0x10, 0x400) * 0x1000,
            flags: ImageLoad::FLAG_SIGNATURE_KNOWN,
            signature_level: signing as u8,
            signature_type: 1,
            ..ImageLoad::ZERO
        };
        self.emit(p, Body::ImageLoad(body), vec![VarData::text(&nt_path(image))]);
    }

    fn create(&mut self, p: &Proc, path: &str, disposition: u32, information: u64, access: u32) {
        let body = FileCreate {
            desired_access: access,
            disposition,
            create_options: 0x60, // FILE_NON_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT
            status: 0,
            information,
            share_access: 3,
            ..FileCreate::ZERO
        };
        self.emit(p, Body::FileCreate(body), vec![VarData::text(&nt_path(path))]);
    }

    /// `p` creates a new file and writes it.
    pub fn write_new(&mut self, p: &Proc, path: &str) {
        self.create(p, path, 2, FileCreate::INFO_CREATED, 0x0012_019F);
        self.write(p, path);
    }

    /// `p` overwrites an existing file.
    pub fn overwrite(&mut self, p: &Proc, path: &str) {
        self.create(p, path, 5, FileCreate::INFO_OVERWRITTEN, 0x0012_019F);
        self.write(p, path);
    }

    /// `p` opens an existing file to read it.
    pub fn open(&mut self, p: &Proc, path: &str) {
        self.create(p, path, 1, FileCreate::INFO_OPENED, 0x0012_0089);
    }

    /// `p` opens an existing file and modifies it.
    pub fn modify(&mut self, p: &Proc, path: &str) {
        self.create(p, path, 1, FileCreate::INFO_OPENED, 0x0012_019F);
        self.write(p, path);
    }

    fn write(&mut self, p: &Proc, path: &str) {
        let body = FileWrite { flags: FileWrite::FLAG_FIRST_WRITE, ..FileWrite::ZERO };
        self.emit(p, Body::FileWrite(body), vec![VarData::text(&nt_path(path))]);
    }

    /// `p` renames `from` to `to`.
    pub fn rename(&mut self, p: &Proc, from: &str, to: &str) {
        let body = FileRename { info_class: 10, flags: FileRename::FLAG_REPLACE_IF_EXISTS, ..FileRename::ZERO };
        self.emit(p, Body::FileRename(body), vec![VarData::text(&nt_path(from)), VarData::text(&nt_path(to))]);
    }

    /// `p` deletes `path`.
    pub fn delete(&mut self, p: &Proc, path: &str) {
        let body =
            FileDelete { method: FileDelete::METHOD_DISPOSITION_EX, disposition_flags: 0x13, ..FileDelete::ZERO };
        self.emit(p, Body::FileDelete(body), vec![VarData::text(&nt_path(path))]);
    }
}
