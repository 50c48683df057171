//! `vigil-pe`: PE tools for the driver build flow (cargo make verify-driver).
//!
//! ```text
//! vigil-pe fix-checksum FILE   write the PE checksum if the linker left it 0
//! vigil-pe report FILE         print what the checks look at
//! ```
//! The checks themselves are the test tests/tests/driver_image.rs.

use std::process::ExitCode;
use vigil_tests::pe;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, path) = match args.as_slice() {
        [cmd, path] => (cmd.as_str(), path.as_str()),
        _ => {
            eprintln!("usage: vigil-pe fix-checksum|report FILE");
            return ExitCode::from(2);
        }
    };
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("vigil-pe: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cmd {
        "fix-checksum" => match pe::inspect(&bytes) {
            Ok(f) if f.stored_checksum != 0 => {
                println!("vigil-pe: {path}: checksum {:#010x} already set by the linker", f.stored_checksum);
                ExitCode::SUCCESS
            }
            Ok(_) => match pe::write_checksum(&mut bytes).map(|sum| (sum, std::fs::write(path, &bytes))) {
                Ok((sum, Ok(()))) => {
                    println!("vigil-pe: {path}: checksum was 0, wrote {sum:#010x}");
                    ExitCode::SUCCESS
                }
                Ok((_, Err(e))) => {
                    eprintln!("vigil-pe: {path}: {e}");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("vigil-pe: {path}: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("vigil-pe: {path}: {e}");
                ExitCode::FAILURE
            }
        },
        "report" => match pe::inspect(&bytes) {
            Ok(f) => {
                println!("{path} ({} bytes)\n{f}", bytes.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vigil-pe: {path}: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("vigil-pe: unknown command {cmd}");
            ExitCode::from(2)
        }
    }
}
