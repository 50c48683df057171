//! Which file-system operations become which records, and the few fixed-layout parameter
//! fields the driver reads to say so.
//!
//! The driver reads no file content, ever. What it reads are I/O *parameters* the I/O
//! manager has already captured into kernel memory: the create options, and the first
//! bytes of a set-information buffer (a flag, a length, an end-of-file offset), each
//! checked against the buffer length here. Names come from FltMgr, never from these
//! buffers.

use vigil_protocol::config::DriverConfig;
use vigil_protocol::schema::{FileCreate, FileDelete, FileRename, FileWrite};

use super::status;

/// FILE_DIRECTORY_FILE (create option).
pub const FILE_DIRECTORY_FILE: u32 = 0x0000_0001;
/// FILE_DELETE_ON_CLOSE (create option).
pub const FILE_DELETE_ON_CLOSE: u32 = 0x0000_1000;

/// `IRP_PAGING_IO | IRP_SYNCHRONOUS_PAGING_IO` in `FLT_IO_PARAMETER_BLOCK::IrpFlags`: the
/// memory manager's I/O, never reported.
pub const PAGING_IO_FLAGS: u32 = 0x0000_0002 | 0x0000_0040;

/// `Parameters.Create.Options` split into disposition (high 8 bits) and options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateOptions {
    /// FILE_SUPERSEDE (0) .. FILE_OVERWRITE_IF (5).
    pub disposition: u32,
    /// The low 24 bits.
    pub options: u32,
}

impl CreateOptions {
    /// Splits the raw `Options` value.
    pub const fn from_raw(raw: u32) -> Self {
        Self { disposition: raw >> 24, options: raw & 0x00FF_FFFF }
    }
}

/// What a completed create looked like, for [`report_create`].
#[derive(Clone, Copy, Debug)]
pub struct CreateOutcome {
    /// Final NTSTATUS.
    pub status: i32,
    /// Whether the object is a directory (FltIsDirectory for a success, the
    /// FILE_DIRECTORY_FILE option for a failure).
    pub directory: bool,
}

/// Whether a completed create is reported under `config_flags`
/// ([`DriverConfig::flags`]). STATUS_REPARSE is never reported: the I/O manager reissues
/// the create under the new name, and that one is.
pub fn report_create(outcome: CreateOutcome, config_flags: u32) -> bool {
    if outcome.status == status::REPARSE {
        return false;
    }
    if !status::is_success(outcome.status) && config_flags & DriverConfig::FLAG_CAPTURE_FAILED_CREATES == 0 {
        return false;
    }
    if outcome.directory && config_flags & DriverConfig::FLAG_CAPTURE_DIRECTORY_OPENS == 0 {
        return false;
    }
    true
}

/// `FileCreate::flags` for a create.
pub fn create_flags(directory: bool, name_opened_only: bool) -> u32 {
    (if directory { FileCreate::FLAG_DIRECTORY } else { 0 })
        | (if name_opened_only { FileCreate::FLAG_NAME_OPENED } else { 0 })
}

/// The IRP_MJ_SET_INFORMATION classes Vigil reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetInfo {
    /// FileRenameInformation (10).
    Rename,
    /// FileRenameInformationEx (65).
    RenameEx,
    /// FileLinkInformation (11).
    Link,
    /// FileLinkInformationEx (72).
    LinkEx,
    /// FileDispositionInformation (13).
    Disposition,
    /// FileDispositionInformationEx (64).
    DispositionEx,
    /// FileEndOfFileInformation (20).
    EndOfFile,
}

impl SetInfo {
    /// The class, if Vigil reports it.
    pub const fn from_class(class: u32) -> Option<Self> {
        Some(match class {
            10 => SetInfo::Rename,
            65 => SetInfo::RenameEx,
            11 => SetInfo::Link,
            72 => SetInfo::LinkEx,
            13 => SetInfo::Disposition,
            64 => SetInfo::DispositionEx,
            20 => SetInfo::EndOfFile,
            _ => return None,
        })
    }

    /// Whether the record needs the destination name (resolved before the operation).
    pub const fn has_destination(self) -> bool {
        matches!(self, SetInfo::Rename | SetInfo::RenameEx | SetInfo::Link | SetInfo::LinkEx)
    }
}

/// FILE_RENAME_INFORMATION / FILE_LINK_INFORMATION on x64:
/// `{ union { BOOLEAN ReplaceIfExists; ULONG Flags; }; HANDLE RootDirectory;
///    ULONG FileNameLength; WCHAR FileName[]; }` with FileName at offset 20.
pub const RENAME_ROOT_OFFSET: usize = 8;
/// Offset of `FileNameLength`.
pub const RENAME_NAME_LENGTH_OFFSET: usize = 16;
/// Offset of `FileName`.
pub const RENAME_NAME_OFFSET: usize = 20;

/// FILE_RENAME_REPLACE_IF_EXISTS / FILE_LINK_REPLACE_IF_EXISTS (the -Ex flags).
pub const EX_REPLACE_IF_EXISTS: u32 = 0x1;
/// FILE_RENAME_POSIX_SEMANTICS / FILE_LINK_POSIX_SEMANTICS.
pub const EX_POSIX_SEMANTICS: u32 = 0x2;
/// FILE_DISPOSITION_DELETE (FileDispositionInformationEx).
pub const DISPOSITION_DELETE: u32 = 0x1;

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(buf.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(buf.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// A rename or link request's destination, as FltGetDestinationFileNameInformation needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// `RootDirectory` (a handle value; 0 for a full path).
    pub root_directory: u64,
    /// Byte range of `FileName` inside the buffer, checked to lie inside it.
    pub name: core::ops::Range<usize>,
    /// `FileRename::FLAG_*` bits.
    pub flags: u32,
}

/// Reads a rename/link buffer of `class` (`Rename`, `RenameEx`, `Link`, `LinkEx`).
/// `None` if the buffer is too short for its own header and name, or the name length is
/// odd: FltMgr and the file system fail such a request, and Vigil reports nothing.
pub fn destination(class: SetInfo, buf: &[u8]) -> Option<Destination> {
    let first = u32_at(buf, 0)?;
    let flags = match class {
        // Only the BOOLEAN is defined for the plain classes; the other bytes are padding.
        SetInfo::Rename | SetInfo::Link => {
            if first & 0xff != 0 {
                FileRename::FLAG_REPLACE_IF_EXISTS
            } else {
                0
            }
        }
        SetInfo::RenameEx | SetInfo::LinkEx => {
            (if first & EX_REPLACE_IF_EXISTS != 0 { FileRename::FLAG_REPLACE_IF_EXISTS } else { 0 })
                | (if first & EX_POSIX_SEMANTICS != 0 { FileRename::FLAG_POSIX_SEMANTICS } else { 0 })
        }
        _ => return None,
    };
    let root_directory = u64_at(buf, RENAME_ROOT_OFFSET)?;
    let len = u32_at(buf, RENAME_NAME_LENGTH_OFFSET)? as usize;
    if !len.is_multiple_of(2) {
        return None;
    }
    let end = RENAME_NAME_OFFSET.checked_add(len)?;
    if end > buf.len() {
        return None;
    }
    Some(Destination { root_directory, name: RENAME_NAME_OFFSET..end, flags })
}

/// The delete request in a disposition buffer: `Some((method, disposition_flags))` if it
/// asks for deletion (FileDelete::METHOD_*), `None` if it clears it or is too short.
pub fn disposition(class: SetInfo, buf: &[u8]) -> Option<(u32, u32)> {
    match class {
        SetInfo::Disposition => {
            let delete = *buf.first()?;
            (delete != 0).then_some((FileDelete::METHOD_DISPOSITION, 0))
        }
        SetInfo::DispositionEx => {
            let flags = u32_at(buf, 0)?;
            (flags & DISPOSITION_DELETE != 0).then_some((FileDelete::METHOD_DISPOSITION_EX, flags))
        }
        _ => None,
    }
}

/// The new end of file in a FILE_END_OF_FILE_INFORMATION buffer.
pub fn end_of_file(buf: &[u8]) -> Option<u64> {
    u64_at(buf, 0)
}

/// Per-handle state kept in the FltMgr stream-handle context (an atomic word).
pub mod handle {
    /// The handle has written (a FileWrite{FIRST_WRITE} was produced).
    pub const WRITTEN: u32 = 1 << 0;
    /// The handle was opened with FILE_DELETE_ON_CLOSE.
    pub const DELETE_ON_CLOSE: u32 = 1 << 1;

    /// Records to produce at IRP_MJ_CLEANUP for a handle in `state`:
    /// `(modified, delete_on_close)`.
    pub const fn at_cleanup(state: u32) -> (bool, bool) {
        (state & WRITTEN != 0, state & DELETE_ON_CLOSE != 0)
    }

    /// Whether setting WRITTEN on `previous` is the first write on the handle.
    pub const fn is_first_write(previous: u32) -> bool {
        previous & WRITTEN == 0
    }
}

/// `FileWrite::flags` for the two places a write is reported.
pub const FIRST_WRITE: u32 = FileWrite::FLAG_FIRST_WRITE;
/// See [`FIRST_WRITE`].
pub const MODIFIED_AT_CLEANUP: u32 = FileWrite::FLAG_MODIFIED_AT_CLEANUP;

#[cfg(test)]
mod tests {
    use super::*;

    fn rename_buf(first: u32, root: u64, name: &[u16], declared_len: Option<u32>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&first.to_le_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&root.to_le_bytes());
        b.extend_from_slice(&declared_len.unwrap_or(2 * name.len() as u32).to_le_bytes());
        for u in name {
            b.extend_from_slice(&u.to_le_bytes());
        }
        b
    }

    #[test]
    fn create_options_split() {
        // FILE_OPEN_IF (3) << 24 | FILE_NON_DIRECTORY_FILE | FILE_DELETE_ON_CLOSE
        let c = CreateOptions::from_raw(3 << 24 | 0x40 | FILE_DELETE_ON_CLOSE);
        assert_eq!(c, CreateOptions { disposition: 3, options: 0x1040 });
    }

    #[test]
    fn create_reporting_follows_config_flags() {
        let ok = CreateOutcome { status: 0, directory: false };
        let failed = CreateOutcome { status: 0xC000_0034u32 as i32, directory: false };
        let dir = CreateOutcome { status: 0, directory: true };
        let reparse = CreateOutcome { status: status::REPARSE, directory: false };
        assert!(report_create(ok, 0));
        assert!(!report_create(failed, 0));
        assert!(report_create(failed, DriverConfig::FLAG_CAPTURE_FAILED_CREATES));
        assert!(!report_create(dir, 0));
        assert!(report_create(dir, DriverConfig::FLAG_CAPTURE_DIRECTORY_OPENS));
        assert!(!report_create(reparse, DriverConfig::FLAGS_KNOWN));
        assert_eq!(create_flags(true, true), FileCreate::FLAG_DIRECTORY | FileCreate::FLAG_NAME_OPENED);
    }

    #[test]
    fn set_info_classes() {
        for (class, want) in [
            (10, SetInfo::Rename),
            (65, SetInfo::RenameEx),
            (11, SetInfo::Link),
            (72, SetInfo::LinkEx),
            (13, SetInfo::Disposition),
            (64, SetInfo::DispositionEx),
            (20, SetInfo::EndOfFile),
        ] {
            assert_eq!(SetInfo::from_class(class), Some(want));
        }
        // FileBasicInformation, FileAllocationInformation, FilePositionInformation.
        for other in [4, 19, 14, 0, u32::MAX] {
            assert_eq!(SetInfo::from_class(other), None);
        }
        assert!(SetInfo::LinkEx.has_destination() && !SetInfo::EndOfFile.has_destination());
    }

    #[test]
    fn destination_reads_flags_root_and_checked_name_range() -> Result<(), &'static str> {
        let name: Vec<u16> = "\\??\\C:\\x.txt".encode_utf16().collect();
        // Plain class: only the low byte counts; garbage in the padding is ignored.
        let b = rename_buf(0xABCD_EF00, 0, &name, None);
        let d = destination(SetInfo::Rename, &b).ok_or("rename buffer")?;
        assert_eq!(d.flags, 0);
        assert_eq!(d.name, 20..20 + 2 * name.len());
        let b = rename_buf(1, 0x88, &name, None);
        let d = destination(SetInfo::Link, &b).ok_or("link buffer")?;
        assert_eq!((d.flags, d.root_directory), (FileRename::FLAG_REPLACE_IF_EXISTS, 0x88));
        let b = rename_buf(EX_REPLACE_IF_EXISTS | EX_POSIX_SEMANTICS | 0x40, 0, &name, None);
        assert_eq!(
            destination(SetInfo::RenameEx, &b).map(|d| d.flags),
            Some(FileRename::FLAG_REPLACE_IF_EXISTS | FileRename::FLAG_POSIX_SEMANTICS)
        );
        Ok(())
    }

    #[test]
    fn destination_rejects_lengths_past_the_buffer() {
        let name: Vec<u16> = "abc".encode_utf16().collect();
        assert!(destination(SetInfo::Rename, &rename_buf(0, 0, &name, Some(8))).is_none());
        assert!(destination(SetInfo::Rename, &rename_buf(0, 0, &name, Some(5))).is_none());
        assert!(destination(SetInfo::Rename, &rename_buf(0, 0, &name, Some(u32::MAX))).is_none());
        assert!(destination(SetInfo::Rename, &[0u8; 19]).is_none());
        assert!(destination(SetInfo::Disposition, &rename_buf(0, 0, &name, None)).is_none());
        // An empty name is a well-formed (if odd) request.
        assert_eq!(destination(SetInfo::Rename, &rename_buf(0, 0, &[], None)).map(|d| d.name), Some(20..20));
    }

    #[test]
    fn disposition_and_end_of_file() {
        assert_eq!(disposition(SetInfo::Disposition, &[1]), Some((FileDelete::METHOD_DISPOSITION, 0)));
        assert_eq!(disposition(SetInfo::Disposition, &[0]), None);
        assert_eq!(disposition(SetInfo::Disposition, &[]), None);
        assert_eq!(
            disposition(SetInfo::DispositionEx, &0x13u32.to_le_bytes()),
            Some((FileDelete::METHOD_DISPOSITION_EX, 0x13))
        );
        assert_eq!(disposition(SetInfo::DispositionEx, &0x2u32.to_le_bytes()), None);
        assert_eq!(disposition(SetInfo::DispositionEx, &[1, 0]), None);
        assert_eq!(end_of_file(&4096u64.to_le_bytes()), Some(4096));
        assert_eq!(end_of_file(&[0; 7]), None);
    }

    #[test]
    fn handle_state() {
        assert!(handle::is_first_write(0));
        assert!(handle::is_first_write(handle::DELETE_ON_CLOSE));
        assert!(!handle::is_first_write(handle::WRITTEN));
        assert_eq!(handle::at_cleanup(handle::WRITTEN | handle::DELETE_ON_CLOSE), (true, true));
        assert_eq!(handle::at_cleanup(0), (false, false));
    }
}
