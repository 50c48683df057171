//! The real `vigil.sys` against the release driver policy. Needs the Linux verification
//! build (or a Windows build): `cargo make verify-driver` runs it with `--ignored`.
//!
//! `VIGIL_SYS` names the file; by default it is where the build flows leave it.

use vigil_tests::pe::{self, Policy};

fn image_path() -> std::path::PathBuf {
    match std::env::var_os("VIGIL_SYS") {
        Some(p) => p.into(),
        None => concat!(env!("CARGO_MANIFEST_DIR"), "/../target/x86_64-pc-windows-msvc/release/vigil.sys").into(),
    }
}

#[test]
#[ignore = "needs target/x86_64-pc-windows-msvc/release/vigil.sys: run by `cargo make verify-driver`"]
fn vigil_sys_is_a_loadable_panic_free_kernel_driver() {
    let path = image_path();
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (build it with `cargo make verify-driver`)", path.display()));
    let facts = pe::inspect(&bytes).expect("vigil.sys parses as PE32+");
    println!("{} ({} bytes)\n{facts}", path.display(), bytes.len());

    let violations = Policy::RELEASE_DRIVER.check(&facts);
    assert!(
        violations.is_empty(),
        "vigil.sys fails the release driver policy:\n{}",
        violations.iter().map(|v| format!("  - {v}")).collect::<Vec<_>>().join("\n")
    );
    // It is this driver: a minifilter with process and image notifications.
    for f in [
        "FltRegisterFilter",
        "FltCreateCommunicationPort",
        "PsSetCreateProcessNotifyRoutineEx",
        "PsSetLoadImageNotifyRoutine",
    ] {
        assert!(facts.imports_function(f), "vigil.sys does not import {f}");
    }
    // The linker's checksum (rust-lld /RELEASE) equals the independent computation.
    assert_eq!(facts.stored_checksum, pe::checksum(&bytes).unwrap());
}
