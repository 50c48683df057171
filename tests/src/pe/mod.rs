//! Checks that a PE image is a kernel driver Windows would load and that Vigil would ship.
//!
//! [`inspect`] reads the facts from the image (with the `object` crate), [`Policy::check`]
//! compares them with what a Vigil driver must be, and [`checksum`] recomputes the PE
//! checksum independently of the linker. The real `vigil.sys` is checked by
//! `cargo make verify-driver` (tests/tests/driver_image.rs); plain `cargo test` runs the same
//! checks against synthetic images built by [`build::TestImage`], good and bad.

pub mod build;

use object::LittleEndian as LE;
use object::pe::{ImageNtHeaders64, ImageOptionalHeader64};
use object::read::pe::{ImageNtHeaders, Import, PeFile64};
use std::fmt;

/// `IMAGE_FILE_MACHINE_AMD64`.
pub const MACHINE_AMD64: u16 = 0x8664;
/// `IMAGE_SUBSYSTEM_NATIVE`.
pub const SUBSYSTEM_NATIVE: u16 = 1;
/// `IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA`.
pub const DLL_HIGH_ENTROPY_VA: u16 = 0x0020;
/// `IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE`.
pub const DLL_DYNAMIC_BASE: u16 = 0x0040;
/// `IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY`: the loader enforces a signature check.
pub const DLL_FORCE_INTEGRITY: u16 = 0x0080;
/// `IMAGE_DLLCHARACTERISTICS_NX_COMPAT`.
pub const DLL_NX_COMPAT: u16 = 0x0100;
/// `IMAGE_SCN_MEM_EXECUTE`.
pub const SCN_MEM_EXECUTE: u32 = 0x2000_0000;
/// `IMAGE_SCN_MEM_READ`.
pub const SCN_MEM_READ: u32 = 0x4000_0000;
/// `IMAGE_SCN_MEM_WRITE`.
pub const SCN_MEM_WRITE: u32 = 0x8000_0000;
/// `IMAGE_SCN_CNT_CODE`.
pub const SCN_CNT_CODE: u32 = 0x0000_0020;
/// `IMAGE_SCN_CNT_INITIALIZED_DATA`.
pub const SCN_CNT_INITIALIZED_DATA: u32 = 0x0000_0040;
/// `IMAGE_SCN_MEM_DISCARDABLE`.
pub const SCN_MEM_DISCARDABLE: u32 = 0x0200_0000;
/// Data directory indices.
pub const DIR_EXPORT: usize = 0;
/// Import directory.
pub const DIR_IMPORT: usize = 1;
/// Base relocation directory.
pub const DIR_BASERELOC: usize = 5;
/// TLS directory.
pub const DIR_TLS: usize = 9;
/// Delay-load import directory.
pub const DIR_DELAY_IMPORT: usize = 13;

/// One section header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Name, e.g. `.text`.
    pub name: String,
    /// `IMAGE_SCN_*` flags.
    pub characteristics: u32,
}

impl Section {
    /// Writable and executable at once.
    pub fn is_wx(&self) -> bool {
        self.characteristics & SCN_MEM_WRITE != 0 && self.characteristics & SCN_MEM_EXECUTE != 0
    }
}

/// Functions imported from one module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedModule {
    /// The module name as written in the image (case kept).
    pub dll: String,
    /// Function names; ordinal imports appear as `#<ordinal>`.
    pub functions: Vec<String>,
}

/// What [`inspect`] reads from an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// `FileHeader.Machine`.
    pub machine: u16,
    /// `FileHeader.Characteristics`.
    pub file_characteristics: u16,
    /// `OptionalHeader.Subsystem`.
    pub subsystem: u16,
    /// `(MajorSubsystemVersion, MinorSubsystemVersion)`.
    pub subsystem_version: (u16, u16),
    /// `OptionalHeader.AddressOfEntryPoint`.
    pub entry_rva: u32,
    /// The section containing the entry point.
    pub entry_section: Option<Section>,
    /// Name of the export whose address is the entry point, if any.
    pub entry_export: Option<String>,
    /// `OptionalHeader.DllCharacteristics`.
    pub dll_characteristics: u16,
    /// `OptionalHeader.CheckSum` as stored.
    pub stored_checksum: u32,
    /// The checksum computed from the file ([`checksum`]).
    pub computed_checksum: u32,
    /// Section headers in order.
    pub sections: Vec<Section>,
    /// Import table, in order.
    pub imports: Vec<ImportedModule>,
    /// Whether the image has a delay-load import directory.
    pub has_delay_imports: bool,
    /// Whether the image has a TLS directory (TLS callbacks run before the entry point).
    pub has_tls: bool,
    /// Whether the image has base relocations (needed to load anywhere).
    pub has_relocations: bool,
    /// Export names.
    pub exports: Vec<String>,
}

impl Facts {
    /// Whether any module imports a function called `name`.
    pub fn imports_function(&self, name: &str) -> bool {
        self.imports.iter().any(|m| m.functions.iter().any(|f| f == name))
    }
}

/// The PE checksum: the 16-bit one's-complement-style sum of the file with the checksum
/// field read as zero, folded to 16 bits, plus the file length (the algorithm of
/// `CheckSumMappedFile`). `None` if the file is too short to have the field.
pub fn checksum(bytes: &[u8]) -> Option<u32> {
    let field = checksum_offset(bytes)?;
    let mut sum: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let lo = bytes.get(i).copied().unwrap_or(0);
        let hi = bytes.get(i + 1).copied().unwrap_or(0);
        let word = if (field..field + 4).contains(&i) { 0 } else { u64::from(u16::from_le_bytes([lo, hi])) };
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
        i += 2;
    }
    sum = (sum & 0xffff) + (sum >> 16);
    u32::try_from(sum + bytes.len() as u64).ok()
}

/// File offset of `OptionalHeader.CheckSum` (64 bytes into the optional header).
pub fn checksum_offset(bytes: &[u8]) -> Option<usize> {
    let lfanew = u32::from_le_bytes(bytes.get(0x3c..0x40)?.try_into().ok()?) as usize;
    let offset = lfanew.checked_add(4 + 20 + 64)?;
    (offset + 4 <= bytes.len()).then_some(offset)
}

/// Writes the correct checksum into `bytes` and returns it.
pub fn write_checksum(bytes: &mut [u8]) -> Result<u32, String> {
    let sum = checksum(bytes).ok_or("file too short for a PE checksum")?;
    let at = checksum_offset(bytes).ok_or("file too short for a PE checksum")?;
    bytes.get_mut(at..at + 4).ok_or("checksum field out of range")?.copy_from_slice(&sum.to_le_bytes());
    Ok(sum)
}

/// Reads the facts [`Policy::check`] needs. Fails only if the file is not a PE32+ image
/// whose tables can be parsed.
pub fn inspect(bytes: &[u8]) -> Result<Facts, String> {
    let pe = PeFile64::parse(bytes).map_err(|e| format!("not a PE32+ image: {e}"))?;
    let nt: &ImageNtHeaders64 = pe.nt_headers();
    let fh = nt.file_header();
    let oh: &ImageOptionalHeader64 = nt.optional_header();

    let mut sections = Vec::new();
    let mut ranges = Vec::new();
    for s in pe.section_table().iter() {
        let raw = s.name;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        sections.push(Section {
            name: String::from_utf8_lossy(&raw[..end]).into_owned(),
            characteristics: s.characteristics.get(LE).0,
        });
        let size = s.virtual_size.get(LE).max(s.size_of_raw_data.get(LE));
        ranges.push((s.virtual_address.get(LE), size));
    }

    let mut imports = Vec::new();
    if let Some(table) = pe.import_table().map_err(|e| format!("import table: {e}"))? {
        let mut descriptors = table.descriptors().map_err(|e| format!("import descriptors: {e}"))?;
        while let Some(d) = descriptors.next().map_err(|e| format!("import descriptor: {e}"))? {
            let dll = table.name(d.name.get(LE)).map_err(|e| format!("import module name: {e}"))?;
            let first = match d.original_first_thunk.get(LE) {
                0 => d.first_thunk.get(LE),
                n => n,
            };
            let mut thunks = table.thunks(first).map_err(|e| format!("import thunks: {e}"))?;
            let mut functions = Vec::new();
            while let Some(t) = thunks.next::<ImageNtHeaders64>().map_err(|e| format!("import thunk: {e}"))? {
                match table.import::<ImageNtHeaders64>(t).map_err(|e| format!("import: {e}"))? {
                    Import::Name(_, name) => functions.push(String::from_utf8_lossy(name).into_owned()),
                    Import::Ordinal(n) => functions.push(format!("#{n}")),
                }
            }
            imports.push(ImportedModule { dll: String::from_utf8_lossy(dll).into_owned(), functions });
        }
    }

    let mut exports = Vec::new();
    let mut entry_export = None;
    let entry_rva = oh.address_of_entry_point.get(LE);
    if let Some(table) = pe.export_table().map_err(|e| format!("export table: {e}"))? {
        for e in table.exports().map_err(|e| format!("exports: {e}"))? {
            let Some(name) = e.name else { continue };
            let name = String::from_utf8_lossy(name).into_owned();
            if let object::read::pe::ExportTarget::Address(rva) = e.target
                && rva == entry_rva
            {
                entry_export = Some(name.clone());
            }
            exports.push(name);
        }
    }

    let entry_section = ranges
        .iter()
        .position(|&(start, size)| entry_rva >= start && entry_rva < start.saturating_add(size))
        .and_then(|i| sections.get(i).cloned());

    let dirs = pe.data_directories();
    let present = |i: usize| dirs.get(i).is_some_and(|d| d.virtual_address.get(LE) != 0 && d.size.get(LE) != 0);

    Ok(Facts {
        machine: fh.machine.get(LE).0,
        file_characteristics: fh.characteristics.get(LE).0,
        subsystem: oh.subsystem.get(LE).0,
        subsystem_version: (oh.major_subsystem_version.get(LE), oh.minor_subsystem_version.get(LE)),
        entry_rva,
        entry_section,
        entry_export,
        dll_characteristics: oh.dll_characteristics.get(LE).0,
        stored_checksum: oh.check_sum.get(LE),
        computed_checksum: checksum(bytes).ok_or("file too short for a PE checksum")?,
        sections,
        imports,
        has_delay_imports: present(DIR_DELAY_IMPORT),
        has_tls: present(DIR_TLS),
        has_relocations: present(DIR_BASERELOC),
        exports,
    })
}

/// One way an image fails the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Not built for x64.
    Machine(u16),
    /// Not a native (kernel) image.
    Subsystem(u16),
    /// The entry point is 0 or not inside an executable section.
    EntryPoint(u32),
    /// The entry point is not the export the policy names.
    EntryExport {
        /// Expected export.
        want: &'static str,
        /// Export found at the entry point, if any.
        got: Option<String>,
    },
    /// A required `DllCharacteristics` bit is missing.
    MissingDllFlag(&'static str),
    /// A section is writable and executable.
    WritableExecutable(String),
    /// `CheckSum` is 0.
    ChecksumZero,
    /// `CheckSum` does not match the file.
    ChecksumMismatch {
        /// Stored value.
        stored: u32,
        /// Computed value.
        computed: u32,
    },
    /// An import from a module outside the allowlist.
    ModuleNotAllowed(String),
    /// A function the policy forbids is imported.
    ForbiddenImport {
        /// Module.
        dll: String,
        /// Function.
        function: String,
    },
    /// The image has delay-load imports (which would bypass the module allowlist).
    DelayImports,
    /// The image has a TLS directory.
    Tls,
    /// The image has no base relocations although it asks for ASLR.
    NoRelocations,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Machine(m) => write!(f, "machine {m:#06x} is not AMD64 (0x8664)"),
            Violation::Subsystem(s) => write!(f, "subsystem {s} is not NATIVE (1)"),
            Violation::EntryPoint(rva) => write!(f, "entry point {rva:#x} is not inside an executable section"),
            Violation::EntryExport { want, got } => write!(f, "entry point is {got:?}, not the export {want}"),
            Violation::MissingDllFlag(name) => write!(f, "DllCharacteristics lacks {name}"),
            Violation::WritableExecutable(s) => write!(f, "section {s} is writable and executable"),
            Violation::ChecksumZero => f.write_str("PE checksum is 0 (link with /RELEASE or write it)"),
            Violation::ChecksumMismatch { stored, computed } => {
                write!(f, "PE checksum {stored:#010x} does not match the file ({computed:#010x})")
            }
            Violation::ModuleNotAllowed(m) => {
                write!(f, "imports from {m}, which is not a kernel module on the allowlist")
            }
            Violation::ForbiddenImport { dll, function } => write!(f, "imports {dll}!{function}, which is forbidden"),
            Violation::DelayImports => f.write_str("has delay-load imports"),
            Violation::Tls => f.write_str("has a TLS directory"),
            Violation::NoRelocations => f.write_str("asks for DYNAMIC_BASE but has no base relocations"),
        }
    }
}

/// What an image must be.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Modules imports may come from (compared case-insensitively).
    pub allowed_modules: &'static [&'static str],
    /// Functions that must not be imported from any module.
    pub forbidden_imports: &'static [&'static str],
    /// The export the entry point must be, if any.
    pub entry_export: Option<&'static str>,
}

impl Policy {
    /// A Vigil kernel driver: kernel modules only.
    pub const DRIVER: Policy = Policy {
        allowed_modules: &["ntoskrnl.exe", "fltmgr.sys", "hal.dll"],
        forbidden_imports: &[],
        entry_export: Some("DriverEntry"),
    };

    /// The release `vigil.sys`: as [`Policy::DRIVER`], and no `KeBugCheckEx`. wdk-panic turns
    /// a panic into `KeBugCheckEx`; with fat LTO an import of it means a panic path survived.
    pub const RELEASE_DRIVER: Policy = Policy { forbidden_imports: &["KeBugCheckEx"], ..Policy::DRIVER };

    /// Every way `facts` fails this policy; empty if none.
    pub fn check(&self, facts: &Facts) -> Vec<Violation> {
        let mut v = Vec::new();
        if facts.machine != MACHINE_AMD64 {
            v.push(Violation::Machine(facts.machine));
        }
        if facts.subsystem != SUBSYSTEM_NATIVE {
            v.push(Violation::Subsystem(facts.subsystem));
        }
        let entry_ok = facts.entry_rva != 0
            && facts.entry_section.as_ref().is_some_and(|s| s.characteristics & SCN_MEM_EXECUTE != 0);
        if !entry_ok {
            v.push(Violation::EntryPoint(facts.entry_rva));
        }
        if let Some(want) = self.entry_export
            && facts.entry_export.as_deref() != Some(want)
        {
            v.push(Violation::EntryExport { want, got: facts.entry_export.clone() });
        }
        for (bit, name) in
            [(DLL_NX_COMPAT, "NX_COMPAT"), (DLL_DYNAMIC_BASE, "DYNAMIC_BASE"), (DLL_FORCE_INTEGRITY, "FORCE_INTEGRITY")]
        {
            if facts.dll_characteristics & bit == 0 {
                v.push(Violation::MissingDllFlag(name));
            }
        }
        for s in facts.sections.iter().filter(|s| s.is_wx()) {
            v.push(Violation::WritableExecutable(s.name.clone()));
        }
        if facts.stored_checksum == 0 {
            v.push(Violation::ChecksumZero);
        } else if facts.stored_checksum != facts.computed_checksum {
            v.push(Violation::ChecksumMismatch { stored: facts.stored_checksum, computed: facts.computed_checksum });
        }
        for m in &facts.imports {
            if !self.allowed_modules.iter().any(|a| a.eq_ignore_ascii_case(&m.dll)) {
                v.push(Violation::ModuleNotAllowed(m.dll.clone()));
            }
            for f in m.functions.iter().filter(|f| self.forbidden_imports.contains(&f.as_str())) {
                v.push(Violation::ForbiddenImport { dll: m.dll.clone(), function: f.clone() });
            }
        }
        if facts.has_delay_imports {
            v.push(Violation::DelayImports);
        }
        if facts.has_tls {
            v.push(Violation::Tls);
        }
        if facts.dll_characteristics & DLL_DYNAMIC_BASE != 0 && !facts.has_relocations {
            v.push(Violation::NoRelocations);
        }
        v
    }
}

impl fmt::Display for Facts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "machine            {:#06x}", self.machine)?;
        writeln!(f, "characteristics    {:#06x}", self.file_characteristics)?;
        writeln!(
            f,
            "subsystem          {} (version {}.{})",
            self.subsystem, self.subsystem_version.0, self.subsystem_version.1
        )?;
        writeln!(
            f,
            "entry point        {:#x} in {} ({})",
            self.entry_rva,
            self.entry_section.as_ref().map_or("no section", |s| s.name.as_str()),
            self.entry_export.as_deref().unwrap_or("no export")
        )?;
        writeln!(f, "DllCharacteristics {:#06x}", self.dll_characteristics)?;
        writeln!(
            f,
            "checksum           stored {:#010x}, computed {:#010x}",
            self.stored_checksum, self.computed_checksum
        )?;
        for s in &self.sections {
            let c = s.characteristics;
            let flag = |bit: u32, ch: char| if c & bit != 0 { ch } else { '-' };
            writeln!(
                f,
                "section            {:<8} {}{}{}{} {:#010x}",
                s.name,
                flag(SCN_MEM_READ, 'R'),
                flag(SCN_MEM_WRITE, 'W'),
                flag(SCN_MEM_EXECUTE, 'X'),
                flag(SCN_MEM_DISCARDABLE, 'D'),
                c
            )?;
        }
        for m in &self.imports {
            writeln!(f, "imports            {} ({}): {}", m.dll, m.functions.len(), m.functions.join(" "))?;
        }
        writeln!(f, "exports            {}", self.exports.join(" "))?;
        write!(
            f,
            "directories        delay-imports {}, tls {}, relocations {}",
            self.has_delay_imports, self.has_tls, self.has_relocations
        )
    }
}
