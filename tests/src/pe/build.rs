//! A small PE32+ writer for the checker's tests: a driver-shaped image that can be made
//! wrong in one respect at a time (an ntdll import, a zero checksum, an RWX section...).
//!
//! Layout: headers in the first 0x400 bytes, then `.text` (RVA 0x1000), `.rdata` (imports,
//! delay imports, exports, TLS), `.reloc` and any extra sections, 0x1000 apart in memory
//! and 0x200-aligned in the file.

use super::{SCN_CNT_CODE, SCN_CNT_INITIALIZED_DATA, SCN_MEM_DISCARDABLE, SCN_MEM_EXECUTE, SCN_MEM_READ};

const FILE_ALIGN: usize = 0x200;
const SECTION_ALIGN: u32 = 0x1000;
const HEADERS_SIZE: usize = 0x400;
const LFANEW: usize = 0x40;
const OPTIONAL_HEADER_SIZE: usize = 240;

/// How the `CheckSum` field is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// The value [`super::checksum`] computes.
    Correct,
    /// Zero, as a linker leaves it without `/RELEASE`.
    Zero,
    /// This value.
    Value(u32),
}

/// The description of an image to write.
#[derive(Clone, Debug)]
pub struct TestImage {
    /// `FileHeader.Machine`.
    pub machine: u16,
    /// `OptionalHeader.Subsystem`.
    pub subsystem: u16,
    /// `OptionalHeader.DllCharacteristics`.
    pub dll_characteristics: u16,
    /// Characteristics of `.text`.
    pub text_characteristics: u32,
    /// Further (empty) sections: name and characteristics.
    pub extra_sections: Vec<(String, u32)>,
    /// Import table: module and function names.
    pub imports: Vec<(String, Vec<String>)>,
    /// Delay-load import table: module and function names.
    pub delay_imports: Vec<(String, Vec<String>)>,
    /// An export at the entry point with this name.
    pub entry_export: Option<String>,
    /// Entry point RVA; `None` for the start of `.text`.
    pub entry_rva: Option<u32>,
    /// Write a (zeroed) TLS directory.
    pub tls: bool,
    /// Write a `.reloc` section and its directory.
    pub relocations: bool,
    /// The checksum field.
    pub checksum: Checksum,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl TestImage {
    /// An image shaped like a good `vigil.sys`.
    pub fn driver() -> Self {
        Self {
            machine: super::MACHINE_AMD64,
            subsystem: super::SUBSYSTEM_NATIVE,
            dll_characteristics: super::DLL_HIGH_ENTROPY_VA
                | super::DLL_DYNAMIC_BASE
                | super::DLL_FORCE_INTEGRITY
                | super::DLL_NX_COMPAT,
            text_characteristics: SCN_CNT_CODE | SCN_MEM_EXECUTE | SCN_MEM_READ,
            extra_sections: Vec::new(),
            imports: vec![
                ("ntoskrnl.exe".into(), strings(&["DbgPrintEx", "KeSetEvent", "KeQuerySystemTimePrecise"])),
                ("fltmgr.sys".into(), strings(&["FltRegisterFilter", "FltStartFiltering"])),
                ("HAL.dll".into(), strings(&["KeQueryPerformanceCounter"])),
            ],
            delay_imports: Vec::new(),
            entry_export: Some("DriverEntry".into()),
            entry_rva: None,
            tls: false,
            relocations: true,
            checksum: Checksum::Correct,
        }
    }

    /// Adds `function` to the imports from `module` (creating the module entry).
    pub fn import(mut self, module: &str, function: &str) -> Self {
        match self.imports.iter_mut().find(|(m, _)| m == module) {
            Some((_, fns)) => fns.push(function.to_owned()),
            None => self.imports.push((module.to_owned(), vec![function.to_owned()])),
        }
        self
    }

    /// Writes the image.
    pub fn build(&self) -> Vec<u8> {
        const TEXT_RVA: u32 = 0x1000;
        const RDATA_RVA: u32 = 0x2000;
        let entry = self.entry_rva.unwrap_or(TEXT_RVA);

        // .text: `xor eax, eax; ret` (DriverEntry returning STATUS_SUCCESS).
        let text = vec![0x31, 0xC0, 0xC3];

        let mut rd = Rdata { bytes: Vec::new(), base: RDATA_RVA };
        let import_dir = (!self.imports.is_empty()).then(|| rd.import_table(&self.imports));
        let delay_dir = (!self.delay_imports.is_empty()).then(|| rd.delay_import_table(&self.delay_imports));
        let export_dir = self.entry_export.as_deref().map(|name| rd.export_table(name, entry));
        let tls_dir = self.tls.then(|| (rd.zeros(40), 40));

        let mut sections: Vec<(String, u32, Vec<u8>)> = vec![
            (".text".into(), self.text_characteristics, text),
            (".rdata".into(), SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ, rd.bytes),
        ];
        let reloc_index = sections.len();
        if self.relocations {
            // One block for the .text page: page RVA, block size 12, two ABSOLUTE (padding) entries.
            let mut block = Vec::new();
            block.extend_from_slice(&TEXT_RVA.to_le_bytes());
            block.extend_from_slice(&12u32.to_le_bytes());
            block.extend_from_slice(&[0; 4]);
            sections.push((".reloc".into(), SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ | SCN_MEM_DISCARDABLE, block));
        }
        for (name, c) in &self.extra_sections {
            sections.push((name.clone(), *c, vec![0; 16]));
        }

        let mut dirs = [(0u32, 0u32); 16];
        if let Some(d) = import_dir {
            dirs[super::DIR_IMPORT] = d;
        }
        if let Some(d) = delay_dir {
            dirs[super::DIR_DELAY_IMPORT] = d;
        }
        if let Some(d) = export_dir {
            dirs[super::DIR_EXPORT] = d;
        }
        if let Some(d) = tls_dir {
            dirs[super::DIR_TLS] = d;
        }
        if self.relocations {
            dirs[super::DIR_BASERELOC] = (TEXT_RVA + SECTION_ALIGN * reloc_index as u32, 12);
        }

        let mut out = vec![0u8; HEADERS_SIZE];
        let mut headers = Vec::new();
        let mut rva = TEXT_RVA;
        for (name, characteristics, data) in &sections {
            let raw_offset = out.len();
            let raw_size = data.len().div_ceil(FILE_ALIGN) * FILE_ALIGN;
            out.extend_from_slice(data);
            out.resize(raw_offset + raw_size, 0);
            headers.push((name.clone(), data.len() as u32, rva, raw_size as u32, raw_offset as u32, *characteristics));
            rva += SECTION_ALIGN;
        }
        let size_of_image = rva;

        // DOS header: "MZ" and e_lfanew.
        put(&mut out, 0, b"MZ");
        put(&mut out, 0x3c, &(LFANEW as u32).to_le_bytes());
        // PE signature and file header.
        put(&mut out, LFANEW, b"PE\0\0");
        let fh = LFANEW + 4;
        put(&mut out, fh, &self.machine.to_le_bytes());
        put(&mut out, fh + 2, &(headers.len() as u16).to_le_bytes());
        put(&mut out, fh + 16, &(OPTIONAL_HEADER_SIZE as u16).to_le_bytes());
        // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL, as rust-lld writes for a cdylib.
        put(&mut out, fh + 18, &0x2022u16.to_le_bytes());
        // Optional header.
        let oh = fh + 20;
        put(&mut out, oh, &0x20bu16.to_le_bytes());
        put(&mut out, oh + 16, &entry.to_le_bytes());
        put(&mut out, oh + 20, &TEXT_RVA.to_le_bytes());
        put(&mut out, oh + 24, &0x1_4000_0000u64.to_le_bytes());
        put(&mut out, oh + 32, &SECTION_ALIGN.to_le_bytes());
        put(&mut out, oh + 36, &(FILE_ALIGN as u32).to_le_bytes());
        put(&mut out, oh + 40, &10u16.to_le_bytes());
        put(&mut out, oh + 48, &10u16.to_le_bytes());
        put(&mut out, oh + 56, &size_of_image.to_le_bytes());
        put(&mut out, oh + 60, &(HEADERS_SIZE as u32).to_le_bytes());
        put(&mut out, oh + 68, &self.subsystem.to_le_bytes());
        put(&mut out, oh + 70, &self.dll_characteristics.to_le_bytes());
        put(&mut out, oh + 72, &0x4_0000u64.to_le_bytes());
        put(&mut out, oh + 80, &0x1000u64.to_le_bytes());
        put(&mut out, oh + 108, &16u32.to_le_bytes());
        for (i, (d_rva, d_size)) in dirs.iter().enumerate() {
            put(&mut out, oh + 112 + 8 * i, &d_rva.to_le_bytes());
            put(&mut out, oh + 116 + 8 * i, &d_size.to_le_bytes());
        }
        // Section headers.
        let mut sh = oh + OPTIONAL_HEADER_SIZE;
        for (name, vsize, rva, raw_size, raw_offset, characteristics) in headers {
            let mut n = [0u8; 8];
            for (d, s) in n.iter_mut().zip(name.bytes()) {
                *d = s;
            }
            put(&mut out, sh, &n);
            put(&mut out, sh + 8, &vsize.to_le_bytes());
            put(&mut out, sh + 12, &rva.to_le_bytes());
            put(&mut out, sh + 16, &raw_size.to_le_bytes());
            put(&mut out, sh + 20, &raw_offset.to_le_bytes());
            put(&mut out, sh + 36, &characteristics.to_le_bytes());
            sh += 40;
        }

        match self.checksum {
            Checksum::Correct => {
                super::write_checksum(&mut out).ok();
            }
            Checksum::Zero => {}
            Checksum::Value(v) => put(&mut out, oh + 64, &v.to_le_bytes()),
        }
        out
    }
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    out[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The `.rdata` section under construction; offsets become RVAs by adding `base`.
struct Rdata {
    bytes: Vec<u8>,
    base: u32,
}

impl Rdata {
    fn rva(&self) -> u32 {
        self.base + self.bytes.len() as u32
    }

    fn align(&mut self, n: usize) {
        self.bytes.resize(self.bytes.len().div_ceil(n) * n, 0);
    }

    fn zeros(&mut self, n: usize) -> u32 {
        self.align(8);
        let at = self.rva();
        self.bytes.resize(self.bytes.len() + n, 0);
        at
    }

    fn cstr(&mut self, s: &str) -> u32 {
        let at = self.rva();
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        at
    }

    fn set_u32(&mut self, rva: u32, v: u32) {
        let at = (rva - self.base) as usize;
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn set_u64(&mut self, rva: u32, v: u64) {
        let at = (rva - self.base) as usize;
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// A zero-terminated thunk array of hint/name RVAs for `functions`.
    fn thunks(&mut self, functions: &[String]) -> u32 {
        let table = self.zeros(8 * (functions.len() + 1));
        for (i, f) in functions.iter().enumerate() {
            self.align(2);
            let hint_name = self.rva();
            self.bytes.extend_from_slice(&0u16.to_le_bytes());
            self.cstr(f);
            self.set_u64(table + 8 * i as u32, u64::from(hint_name));
        }
        table
    }

    /// IMAGE_IMPORT_DESCRIPTORs (20 bytes each, zero-terminated); returns the directory.
    fn import_table(&mut self, modules: &[(String, Vec<String>)]) -> (u32, u32) {
        let size = 20 * (modules.len() + 1);
        let dir = self.zeros(size);
        for (i, (dll, functions)) in modules.iter().enumerate() {
            let d = dir + 20 * i as u32;
            let ilt = self.thunks(functions);
            let iat = self.thunks(functions);
            let name = self.cstr(dll);
            self.set_u32(d, ilt);
            self.set_u32(d + 12, name);
            self.set_u32(d + 16, iat);
        }
        (dir, size as u32)
    }

    /// IMAGE_DELAYLOAD_DESCRIPTORs (32 bytes each, zero-terminated); returns the directory.
    fn delay_import_table(&mut self, modules: &[(String, Vec<String>)]) -> (u32, u32) {
        let size = 32 * (modules.len() + 1);
        let dir = self.zeros(size);
        for (i, (dll, functions)) in modules.iter().enumerate() {
            let d = dir + 32 * i as u32;
            let handle = self.zeros(8);
            let int = self.thunks(functions);
            let iat = self.thunks(functions);
            let name = self.cstr(dll);
            self.set_u32(d, 1); // RvaBased
            self.set_u32(d + 4, name);
            self.set_u32(d + 8, handle);
            self.set_u32(d + 12, iat);
            self.set_u32(d + 16, int);
        }
        (dir, size as u32)
    }

    /// IMAGE_EXPORT_DIRECTORY with one named export at `target`; returns the directory.
    fn export_table(&mut self, name: &str, target: u32) -> (u32, u32) {
        let dir = self.zeros(40);
        let functions = self.zeros(4);
        let names = self.zeros(4);
        let ordinals = self.zeros(4);
        let export_name = self.cstr(name);
        let module_name = self.cstr("test.sys");
        self.set_u32(functions, target);
        self.set_u32(names, export_name);
        self.set_u32(dir + 12, module_name);
        self.set_u32(dir + 16, 1); // Base
        self.set_u32(dir + 20, 1); // NumberOfFunctions
        self.set_u32(dir + 24, 1); // NumberOfNames
        self.set_u32(dir + 28, functions);
        self.set_u32(dir + 32, names);
        self.set_u32(dir + 36, ordinals);
        let size = self.rva() - dir;
        (dir, size)
    }
}
