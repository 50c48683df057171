//! The driver image checks against synthetic images: a driver-shaped image passes, and each
//! way of breaking it is caught with the violation that names it.

use vigil_tests::pe::build::{Checksum, TestImage};
use vigil_tests::pe::{self, Policy, SCN_MEM_EXECUTE, SCN_MEM_READ, SCN_MEM_WRITE, Violation};

fn violations(image: &TestImage, policy: Policy) -> Vec<Violation> {
    let bytes = image.build();
    let facts = pe::inspect(&bytes).expect("synthetic image parses");
    policy.check(&facts)
}

#[test]
fn driver_shaped_image_passes() {
    let img = TestImage::driver();
    let bytes = img.build();
    let facts = pe::inspect(&bytes).unwrap();
    assert_eq!(Policy::RELEASE_DRIVER.check(&facts), vec![]);
    assert_eq!(facts.entry_export.as_deref(), Some("DriverEntry"));
    assert_eq!(facts.imports.len(), 3);
    assert!(facts.imports_function("KeSetEvent"));
    assert_eq!(facts.stored_checksum, facts.computed_checksum);
}

#[test]
fn ntdll_import_is_rejected() {
    // What windows-sys's raw-dylib stubs produce when ntoskrnl.lib is not first on the link line.
    let img = TestImage::driver().import("ntdll.dll", "DbgPrint");
    assert_eq!(violations(&img, Policy::DRIVER), vec![Violation::ModuleNotAllowed("ntdll.dll".into())]);
}

#[test]
fn user_mode_modules_are_rejected() {
    for dll in ["KERNEL32.dll", "advapi32.dll", "ntoskrnl.exe.evil", "fltlib.dll"] {
        let img = TestImage::driver().import(dll, "Anything");
        assert_eq!(violations(&img, Policy::DRIVER), vec![Violation::ModuleNotAllowed(dll.into())], "{dll}");
    }
}

#[test]
fn allowlist_ignores_case() {
    // windows-sys writes "fltmgr.sys"; the WDK import library writes "FLTMGR.SYS".
    let img = TestImage::driver().import("FLTMGR.SYS", "FltSendMessage").import("NTOSKRNL.EXE", "KeBugCheck");
    assert_eq!(violations(&img, Policy::DRIVER), vec![]);
}

#[test]
fn zero_checksum_is_rejected() {
    let img = TestImage { checksum: Checksum::Zero, ..TestImage::driver() };
    assert_eq!(violations(&img, Policy::DRIVER), vec![Violation::ChecksumZero]);
}

#[test]
fn wrong_checksum_is_rejected() {
    let good = TestImage::driver().build();
    let stored = pe::inspect(&good).unwrap().stored_checksum;
    let img = TestImage { checksum: Checksum::Value(stored ^ 1), ..TestImage::driver() };
    assert!(matches!(violations(&img, Policy::DRIVER).as_slice(), [Violation::ChecksumMismatch { .. }]));
}

#[test]
fn flipped_byte_breaks_the_checksum() {
    let mut bytes = TestImage::driver().build();
    // A byte of the .text section (file offset 0x401: inside `xor eax, eax`).
    bytes[0x401] ^= 0x40;
    let facts = pe::inspect(&bytes).unwrap();
    assert!(matches!(Policy::DRIVER.check(&facts).as_slice(), [Violation::ChecksumMismatch { .. }]));
}

#[test]
fn write_checksum_repairs_a_zero_checksum() {
    let mut bytes = TestImage { checksum: Checksum::Zero, ..TestImage::driver() }.build();
    let written = pe::write_checksum(&mut bytes).unwrap();
    let facts = pe::inspect(&bytes).unwrap();
    assert_ne!(written, 0);
    assert_eq!(facts.stored_checksum, written);
    assert_eq!(Policy::DRIVER.check(&facts), vec![]);
}

#[test]
fn checksum_matches_a_hand_computed_value() {
    // 0x44 bytes: "MZ", e_lfanew = 0x04 -> checksum field at 0x04 + 88 = 0x5c, outside the
    // file, so a file this short has none.
    assert_eq!(pe::checksum(&[0u8; 0x44]), None);
    // e_lfanew = 0 puts the field at 88..92. Words: 0x0001 at 0 and 0xffff at 2 sum to
    // 0x10000, which folds to 0x0001; plus the length 96 gives 0x61.
    let mut bytes = vec![0u8; 96];
    bytes[0] = 1;
    bytes[2] = 0xff;
    bytes[3] = 0xff;
    bytes[88..92].copy_from_slice(&[0xaa; 4]);
    assert_eq!(pe::checksum(&bytes), Some(0x61));
}

#[test]
fn rwx_section_is_rejected() {
    let img = TestImage {
        extra_sections: vec![(".rwx".into(), SCN_MEM_READ | SCN_MEM_WRITE | SCN_MEM_EXECUTE)],
        ..TestImage::driver()
    };
    assert_eq!(violations(&img, Policy::DRIVER), vec![Violation::WritableExecutable(".rwx".into())]);
}

#[test]
fn writable_text_is_rejected() {
    let img = TestImage {
        text_characteristics: SCN_MEM_READ | SCN_MEM_WRITE | SCN_MEM_EXECUTE | pe::SCN_CNT_CODE,
        ..TestImage::driver()
    };
    assert_eq!(violations(&img, Policy::DRIVER), vec![Violation::WritableExecutable(".text".into())]);
}

#[test]
fn missing_security_flags_are_each_named() {
    let all = TestImage::driver().dll_characteristics;
    for (bit, name) in [
        (pe::DLL_NX_COMPAT, "NX_COMPAT"),
        (pe::DLL_DYNAMIC_BASE, "DYNAMIC_BASE"),
        (pe::DLL_FORCE_INTEGRITY, "FORCE_INTEGRITY"),
    ] {
        let img = TestImage { dll_characteristics: all & !bit, ..TestImage::driver() };
        assert_eq!(violations(&img, Policy::DRIVER), vec![Violation::MissingDllFlag(name)], "{name}");
    }
}

#[test]
fn wrong_machine_and_subsystem_are_rejected() {
    let arm = TestImage { machine: 0xAA64, ..TestImage::driver() };
    assert_eq!(violations(&arm, Policy::DRIVER), vec![Violation::Machine(0xAA64)]);
    // IMAGE_SUBSYSTEM_WINDOWS_CUI: a console program.
    let cui = TestImage { subsystem: 3, ..TestImage::driver() };
    assert_eq!(violations(&cui, Policy::DRIVER), vec![Violation::Subsystem(3)]);
}

#[test]
fn entry_point_must_be_driver_entry_in_code() {
    // Entry in .rdata (not executable), still exported as DriverEntry.
    let data_entry = TestImage { entry_rva: Some(0x2000), ..TestImage::driver() };
    assert_eq!(violations(&data_entry, Policy::DRIVER), vec![Violation::EntryPoint(0x2000)]);
    let zero = TestImage { entry_rva: Some(0), entry_export: None, ..TestImage::driver() };
    let v = violations(&zero, Policy::DRIVER);
    assert!(v.contains(&Violation::EntryPoint(0)), "{v:?}");
    let unnamed = TestImage { entry_export: Some("NotDriverEntry".into()), ..TestImage::driver() };
    assert_eq!(
        violations(&unnamed, Policy::DRIVER),
        vec![Violation::EntryExport { want: "DriverEntry", got: Some("NotDriverEntry".into()) }]
    );
}

#[test]
fn ke_bug_check_ex_fails_only_the_release_policy() {
    let img = TestImage::driver().import("ntoskrnl.exe", "KeBugCheckEx");
    assert_eq!(violations(&img, Policy::DRIVER), vec![]);
    assert_eq!(
        violations(&img, Policy::RELEASE_DRIVER),
        vec![Violation::ForbiddenImport { dll: "ntoskrnl.exe".into(), function: "KeBugCheckEx".into() }]
    );
}

#[test]
fn delay_imports_are_rejected_even_from_allowed_modules() {
    let img =
        TestImage { delay_imports: vec![("ntoskrnl.exe".into(), vec!["KeSetEvent".into()])], ..TestImage::driver() };
    assert_eq!(violations(&img, Policy::DRIVER), vec![Violation::DelayImports]);
}

#[test]
fn tls_and_missing_relocations_are_rejected() {
    let tls = TestImage { tls: true, ..TestImage::driver() };
    assert_eq!(violations(&tls, Policy::DRIVER), vec![Violation::Tls]);
    let fixed = TestImage { relocations: false, ..TestImage::driver() };
    assert_eq!(violations(&fixed, Policy::DRIVER), vec![Violation::NoRelocations]);
}

#[test]
fn not_a_pe_is_an_error() {
    assert!(pe::inspect(b"\x7fELF not a PE at all").is_err());
    let mut truncated = TestImage::driver().build();
    truncated.truncate(0x100);
    assert!(pe::inspect(&truncated).is_err());
}
