//! The fixed body of each record kind.
//!
//! Field values are what the kernel hands the driver, unconverted: NTSTATUS
//! codes, create dispositions, FILE_INFORMATION_CLASS numbers, access masks.
//! Turning them into analyst-facing names is user mode's job.

use super::{Body, Kind, VarKind, VarRef};
use crate::pod::wire_struct;
use core::mem::offset_of;

/// Implements [`Body`] for a body struct: its kind and its `VarRef` fields.
macro_rules! body {
    ($ty:ident, $kind:expr, [$( $field:ident : $vk:ident ),*]) => {
        impl Body for $ty {
            const KIND: Kind = $kind;
            const VARS: &'static [(usize, VarKind)] = &[$( (offset_of!($ty, $field), VarKind::$vk) ),*];
        }
        const _: () = assert!(<$ty as Body>::VARS.len() <= super::MAX_VARS);
    };
}

wire_struct! {
    /// `ProcessStart`: header pid/process_key are the new process.
    pub struct ProcessStart {
        /// Parent process id (PS_CREATE_NOTIFY_INFO.ParentProcessId).
        pub parent_pid: u32,
        /// Process that called CreateProcess (CreatingThreadId.UniqueProcess);
        /// differs from the parent when the parent was reassigned.
        pub creating_pid: u32,
        /// Thread that called CreateProcess.
        pub creating_tid: u32,
        /// Terminal Services session id of the new process.
        pub session_id: u32,
        /// Start key of the parent process, 0 if unknown.
        pub parent_key: u64,
        /// Mandatory integrity level RID (0x1000 low, 0x2000 medium, 0x3000
        /// high, 0x4000 system); [`ProcessStart::INTEGRITY_UNKNOWN`] if unknown.
        pub integrity_rid: u32,
        /// TOKEN_ELEVATION_TYPE: 1 default, 2 full, 3 limited; 0 unknown.
        pub elevation_type: u32,
        /// [`ProcessStart::FLAG_ELEVATED`] and friends.
        pub flags: u32,
        /// Always 0.
        pub reserved: u32,
        /// NT path of the image file (ImageFileName).
        pub image_path: VarRef,
        /// Command line as passed to CreateProcess.
        pub command_line: VarRef,
        /// Raw SID bytes of the token user.
        pub user_sid: VarRef,
        /// Current directory of the new process, when it could be read
        /// without touching user memory (otherwise absent).
        pub current_directory: VarRef,
    }
    size = 72;
}
body!(ProcessStart, Kind::ProcessStart, [image_path: Utf16, command_line: Utf16, user_sid: Bytes, current_directory: Utf16]);

impl ProcessStart {
    /// `integrity_rid` when the token could not be queried.
    pub const INTEGRITY_UNKNOWN: u32 = u32::MAX;
    /// The token is elevated (TokenElevation).
    pub const FLAG_ELEVATED: u32 = 1 << 0;
    /// The image name came from the file object that was opened
    /// (FileOpenNameAvailable).
    pub const FLAG_FILE_OPEN_NAME: u32 = 1 << 1;
    /// A subsystem (e.g. WSL pico) process.
    pub const FLAG_SUBSYSTEM_PROCESS: u32 = 1 << 2;
    /// Every defined flag bit.
    pub const FLAGS_KNOWN: u32 = Self::FLAG_ELEVATED | Self::FLAG_FILE_OPEN_NAME | Self::FLAG_SUBSYSTEM_PROCESS;
}

wire_struct! {
    /// `ProcessExit`: header pid/process_key are the exiting process.
    pub struct ProcessExit {
        /// Exit status (NTSTATUS) as PsGetProcessExitStatus reports it.
        pub exit_status: i32,
        /// Always 0.
        pub reserved: u32,
    }
    size = 8;
}
body!(ProcessExit, Kind::ProcessExit, []);

wire_struct! {
    /// `ImageLoad`: header pid/process_key are the process the image is
    /// mapped into (0 for drivers).
    pub struct ImageLoad {
        /// Base address of the mapping.
        pub image_base: u64,
        /// Size of the mapping in bytes.
        pub image_size: u64,
        /// [`ImageLoad::FLAG_SYSTEM_MODE`] and friends.
        pub flags: u32,
        /// SE_SIGNING_LEVEL from IMAGE_INFO.ImageSignatureLevel.
        pub signature_level: u8,
        /// SE_IMAGE_SIGNATURE_TYPE from IMAGE_INFO.ImageSignatureType.
        pub signature_type: u8,
        /// Always 0.
        pub reserved: u16,
        /// NT path of the image file.
        pub image_path: VarRef,
    }
    size = 32;
}
body!(ImageLoad, Kind::ImageLoad, [image_path: Utf16]);

impl ImageLoad {
    /// A kernel-mode image (driver).
    pub const FLAG_SYSTEM_MODE: u32 = 1 << 0;
    /// IMAGE_INFO.ImageSignatureLevel/Type are meaningful (ExtendedInfoPresent).
    pub const FLAG_SIGNATURE_KNOWN: u32 = 1 << 1;
    /// Every defined flag bit.
    pub const FLAGS_KNOWN: u32 = Self::FLAG_SYSTEM_MODE | Self::FLAG_SIGNATURE_KNOWN;
}

wire_struct! {
    /// `FileCreate`: an IRP_MJ_CREATE as it completed.
    pub struct FileCreate {
        /// ACCESS_MASK requested.
        pub desired_access: u32,
        /// Create disposition (FILE_SUPERSEDE=0 .. FILE_OVERWRITE_IF=5).
        pub disposition: u32,
        /// Create options (low 24 bits of Parameters.Create.Options).
        pub create_options: u32,
        /// Final NTSTATUS of the create.
        pub status: i32,
        /// IoStatus.Information (FILE_CREATED=2, FILE_OPENED=1, ...).
        pub information: u64,
        /// [`FileCreate::FLAG_DIRECTORY`] and friends.
        pub flags: u32,
        /// Share access requested.
        pub share_access: u32,
        /// NT path, normalized by FltGetFileNameInformation.
        pub path: VarRef,
    }
    size = 40;
}
body!(FileCreate, Kind::FileCreate, [path: Utf16]);

impl FileCreate {
    /// The object opened is a directory.
    pub const FLAG_DIRECTORY: u32 = 1 << 0;
    /// The name is the opened name, not normalized (normalization failed).
    pub const FLAG_NAME_OPENED: u32 = 1 << 1;
    /// Every defined flag bit.
    pub const FLAGS_KNOWN: u32 = Self::FLAG_DIRECTORY | Self::FLAG_NAME_OPENED;

    /// IoStatus.Information value: the file was created.
    pub const INFO_CREATED: u64 = 2;
    /// IoStatus.Information value: an existing file was opened.
    pub const INFO_OPENED: u64 = 1;
    /// IoStatus.Information value: an existing file was overwritten.
    pub const INFO_OVERWRITTEN: u64 = 3;
    /// IoStatus.Information value: an existing file was superseded.
    pub const INFO_SUPERSEDED: u64 = 0;
}

wire_struct! {
    /// `FileWrite`: the first write on a stream handle, or a modified file
    /// seen at cleanup.
    pub struct FileWrite {
        /// [`FileWrite::FLAG_FIRST_WRITE`] or [`FileWrite::FLAG_MODIFIED_AT_CLEANUP`].
        pub flags: u32,
        /// Always 0.
        pub reserved: u32,
        /// NT path of the file.
        pub path: VarRef,
    }
    size = 16;
}
body!(FileWrite, Kind::FileWrite, [path: Utf16]);

impl FileWrite {
    /// The first IRP_MJ_WRITE seen on this stream handle.
    pub const FLAG_FIRST_WRITE: u32 = 1 << 0;
    /// IRP_MJ_CLEANUP of a handle that wrote.
    pub const FLAG_MODIFIED_AT_CLEANUP: u32 = 1 << 1;
    /// Every defined flag bit.
    pub const FLAGS_KNOWN: u32 = Self::FLAG_FIRST_WRITE | Self::FLAG_MODIFIED_AT_CLEANUP;
}

wire_struct! {
    /// `FileRename` and `FileLink` (same body).
    pub struct FileRename {
        /// FILE_INFORMATION_CLASS used (10 rename, 65 rename-ex, 11 link, 72 link-ex).
        pub info_class: u32,
        /// [`FileRename::FLAG_REPLACE_IF_EXISTS`] and friends.
        pub flags: u32,
        /// Final NTSTATUS of the operation.
        pub status: i32,
        /// Always 0.
        pub reserved: u32,
        /// NT path before.
        pub source: VarRef,
        /// NT path after (the new name, or the new link).
        pub target: VarRef,
    }
    size = 32;
}
body!(FileRename, Kind::FileRename, [source: Utf16, target: Utf16]);

impl FileRename {
    /// ReplaceIfExists was set (or FILE_RENAME_REPLACE_IF_EXISTS).
    pub const FLAG_REPLACE_IF_EXISTS: u32 = 1 << 0;
    /// POSIX semantics were requested (the -Ex classes).
    pub const FLAG_POSIX_SEMANTICS: u32 = 1 << 1;
    /// Every defined flag bit.
    pub const FLAGS_KNOWN: u32 = Self::FLAG_REPLACE_IF_EXISTS | Self::FLAG_POSIX_SEMANTICS;
}

wire_struct! {
    /// `FileLink`: the same layout as [`FileRename`], written under its own kind.
    pub struct FileLink {
        /// FILE_INFORMATION_CLASS used (11 link, 72 link-ex).
        pub info_class: u32,
        /// [`FileRename::FLAG_REPLACE_IF_EXISTS`] and friends.
        pub flags: u32,
        /// Final NTSTATUS of the operation.
        pub status: i32,
        /// Always 0.
        pub reserved: u32,
        /// NT path of the existing file.
        pub source: VarRef,
        /// NT path of the new link.
        pub target: VarRef,
    }
    size = 32;
}
body!(FileLink, Kind::FileLink, [source: Utf16, target: Utf16]);

wire_struct! {
    /// `FileDelete`.
    pub struct FileDelete {
        /// How the delete was requested: [`FileDelete::METHOD_DELETE_ON_CLOSE`] ...
        pub method: u32,
        /// FILE_DISPOSITION_* flags for the -Ex class, else 0.
        pub disposition_flags: u32,
        /// NT path of the file.
        pub path: VarRef,
    }
    size = 16;
}
body!(FileDelete, Kind::FileDelete, [path: Utf16]);

impl FileDelete {
    /// FILE_DELETE_ON_CLOSE at create time, observed at cleanup.
    pub const METHOD_DELETE_ON_CLOSE: u32 = 1;
    /// FileDispositionInformation with DeleteFile = TRUE.
    pub const METHOD_DISPOSITION: u32 = 2;
    /// FileDispositionInformationEx with FILE_DISPOSITION_DELETE.
    pub const METHOD_DISPOSITION_EX: u32 = 3;
}

wire_struct! {
    /// `FileSetInfo`: another IRP_MJ_SET_INFORMATION class Vigil records.
    pub struct FileSetInfo {
        /// FILE_INFORMATION_CLASS.
        pub info_class: u32,
        /// Final NTSTATUS.
        pub status: i32,
        /// Class-specific value (the new end of file for class 20), else 0.
        pub value: u64,
        /// NT path of the file.
        pub path: VarRef,
    }
    size = 24;
}
body!(FileSetInfo, Kind::FileSetInfo, [path: Utf16]);

wire_struct! {
    /// `Lost`: records the producer could not write on this shard. They used
    /// the sequence numbers `header.seq .. header.seq + count`.
    pub struct Lost {
        /// Number of records dropped.
        pub count: u64,
        /// Sum of their sizes in bytes (as planned before dropping).
        pub bytes: u64,
    }
    size = 16;
}
body!(Lost, Kind::Lost, []);

wire_struct! {
    /// `Heartbeat`: the driver is alive; its counters at this moment.
    pub struct Heartbeat {
        /// Records written on all shards since the driver started.
        pub produced: u64,
        /// Records dropped on all shards since the driver started.
        pub dropped: u64,
        /// Generation of the configuration in force
        /// ([`crate::config::DriverConfig::generation`]).
        pub config_generation: u32,
        /// [`crate::control::DriverMode`] as `u32`.
        pub mode: u32,
        /// Consecutive unclean starts counted by the boot-loop guard.
        pub unclean_starts: u32,
        /// Always 0.
        pub reserved: u32,
    }
    size = 32;
}
body!(Heartbeat, Kind::Heartbeat, []);
