//! Enrichment: what a Sysmon event carries that a kernel record does not.
//!
//! - [`process_table`]: `(pid, process_key)` → image, command line, user,
//!   for `Image` on file/image events and `Parent*` on process creation.
//! - [`volumes`]: `\Device\HarddiskVolumeN\...` → `C:\...`.
//! - [`accounts`]: SID → `DOMAIN\user`, integrity RID → level name.
//! - [`pe`]: version strings and hashes read from the image file.

pub mod accounts;
pub mod pe;
pub mod process_table;
pub mod utf16;
pub mod volumes;

pub use accounts::AccountTable;
pub use pe::{PeCache, PeInfo};
pub use process_table::{ProcessInfo, ProcessTable};
pub use volumes::VolumeTable;
