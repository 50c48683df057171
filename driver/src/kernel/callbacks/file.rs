//! File-system callbacks: which operation becomes which record.
//!
//! | operation | callback (IRQL) | record |
//! |---|---|---|
//! | IRP_MJ_CREATE | post (PASSIVE) | FileCreate: status, information, disposition, options, access, directory flag, name |
//! | IRP_MJ_WRITE | pre (<= APC; paging I/O skipped) | FileWrite{FIRST_WRITE}, once per stream handle (stream-handle context) |
//! | IRP_MJ_SET_INFORMATION | pre (<= APC) + synchronized post (<= APC) | FileRename, FileLink, FileDelete (disposition), FileSetInfo (end of file) |
//! | IRP_MJ_CLEANUP | pre (PASSIVE) | FileWrite{MODIFIED_AT_CLEANUP}, FileDelete{DELETE_ON_CLOSE} |
//!
//! Not captured: paging I/O, the connected analyzer's own I/O, processes excluded by the
//! configuration, kinds switched off in its capture mask. Names are only looked up while
//! a ring is attached; otherwise the record is only counted as dropped.

use super::Subject;
use crate::ffi::flt::SET_INFO_TAG;
use crate::ffi::flt_data::{FileName, Op, PreOp};
use crate::ffi::pool::PoolBox;
use crate::kernel::ring;
use crate::kernel::state::DRIVER;
use crate::logic::file_events::{
    self, CreateOptions, CreateOutcome, FILE_DELETE_ON_CLOSE, FILE_DIRECTORY_FILE, PAGING_IO_FLAGS, SetInfo, handle,
};
use crate::logic::status;
use vigil_protocol::encode::{Record, Var};
use vigil_protocol::schema::{FileCreate, FileDelete, FileLink, FileRename, FileSetInfo, FileWrite, Kind, VarRef};

fn subject(op: &Op<'_>) -> Option<Subject> {
    Subject::enter(op.requestor_pid())
}

fn name_var(name: Option<&FileName>) -> Var<'_> {
    name.map_or(Var::Absent, |n| Var::Utf16(n.name()))
}

/// Post-create.
pub(crate) fn post_create(op: &Op<'_>) {
    let Some(s) = subject(op) else { return };
    let Some(req) = op.create() else { return };
    let status = op.status();
    let opts = CreateOptions::from_raw(req.options);
    let succeeded = status::is_success(status) && status != status::REPARSE;
    let directory = if succeeded {
        op.is_directory().unwrap_or(opts.options & FILE_DIRECTORY_FILE != 0)
    } else {
        opts.options & FILE_DIRECTORY_FILE != 0
    };

    // Remember delete-on-close for the cleanup record.
    if succeeded
        && opts.options & FILE_DELETE_ON_CLOSE != 0
        && s.config.captures(Kind::FileDelete)
        && let Some(h) = op.handle_context_or_new(&DRIVER.filter)
    {
        h.set(handle::DELETE_ON_CLOSE);
    }

    if !s.config.captures(Kind::FileCreate)
        || !file_events::report_create(CreateOutcome { status, directory }, s.config.get().flags)
    {
        return;
    }
    let name = match (ring::is_attached(), succeeded) {
        (false, _) => None,
        (true, true) => op.file_name(),
        (true, false) => op.opened_name().map(|n| (n, true)),
    };
    let opened_only = name.as_ref().is_some_and(|(_, opened)| *opened);
    let body = FileCreate {
        desired_access: req.desired_access,
        disposition: opts.disposition,
        create_options: opts.options,
        status,
        information: op.information(),
        flags: file_events::create_flags(directory, opened_only),
        share_access: req.share_access,
        path: VarRef::ABSENT,
    };
    let stamp = ring::stamp(s.pid, op.thread_id(), op.requestor_key());
    ring::emit(&Record::with_vars(stamp, body, &[name_var(name.as_ref().map(|(n, _)| n))]));
}

/// Pre-write: the first write on a stream handle.
pub(crate) fn pre_write(op: &Op<'_>) {
    if op.irp_flags() & PAGING_IO_FLAGS != 0 {
        return;
    }
    let Some(s) = subject(op) else { return };
    if !s.config.captures(Kind::FileWrite) {
        return;
    }
    // Without a context (pool exhausted) every write would look like the first; report
    // it rather than lose it.
    if let Some(h) = op.handle_context_or_new(&DRIVER.filter)
        && !file_events::handle::is_first_write(h.set(handle::WRITTEN))
    {
        return;
    }
    let name = if ring::is_attached() { op.file_name().map(|(n, _)| n) } else { None };
    let body = FileWrite { flags: file_events::FIRST_WRITE, reserved: 0, path: VarRef::ABSENT };
    let stamp = ring::stamp(s.pid, op.thread_id(), op.requestor_key());
    ring::emit(&Record::with_vars(stamp, body, &[name_var(name.as_ref())]));
}

/// What pre-set-information hands its post-operation.
pub(crate) struct SetInfoPending {
    kind: SetInfo,
    class: u32,
    /// FileRename flags, FileDelete method, or the new end of file.
    flags: u32,
    value: u64,
    source: Option<FileName>,
    target: Option<FileName>,
    pid: u32,
    tid: u32,
    key: u64,
}

/// Pre-set-information: decides whether the class is recorded and resolves the names
/// while the file still has them.
pub(crate) fn pre_set_information(op: &Op<'_>) -> PreOp<SetInfoPending> {
    let Some(s) = subject(op) else { return PreOp::NoCallback };
    let Some(info) = op.set_information() else { return PreOp::NoCallback };
    let Some(kind) = SetInfo::from_class(info.class) else { return PreOp::NoCallback };
    let record_kind = match kind {
        SetInfo::Rename | SetInfo::RenameEx => Kind::FileRename,
        SetInfo::Link | SetInfo::LinkEx => Kind::FileLink,
        SetInfo::Disposition | SetInfo::DispositionEx => Kind::FileDelete,
        SetInfo::EndOfFile => Kind::FileSetInfo,
    };
    if !s.config.captures(record_kind) {
        return PreOp::NoCallback;
    }
    let attached = ring::is_attached();
    let (flags, value, target) = if kind.has_destination() {
        let Some(dest) = file_events::destination(kind, info.buffer) else { return PreOp::NoCallback };
        let target = if attached {
            info.buffer.get(dest.name.clone()).and_then(|name| op.destination_name(dest.root_directory, name))
        } else {
            None
        };
        (dest.flags, 0, target)
    } else if matches!(kind, SetInfo::Disposition | SetInfo::DispositionEx) {
        // A disposition that clears the delete flag is not a delete.
        let Some((method, disposition_flags)) = file_events::disposition(kind, info.buffer) else {
            return PreOp::NoCallback;
        };
        (method, u64::from(disposition_flags), None)
    } else {
        let Some(eof) = file_events::end_of_file(info.buffer) else { return PreOp::NoCallback };
        (0, eof, None)
    };
    let source = if attached { op.file_name().map(|(n, _)| n) } else { None };
    let pending = SetInfoPending {
        kind,
        class: info.class,
        flags,
        value,
        source,
        target,
        pid: s.pid,
        tid: op.thread_id(),
        key: op.requestor_key(),
    };
    match PoolBox::try_new(pending, SET_INFO_TAG) {
        Ok(b) => PreOp::Synchronize(b),
        Err(pending) => {
            // No pool for the context: record now, with the final status unknown.
            emit_set_info(&pending, status::PENDING);
            PreOp::NoCallback
        }
    }
}

/// Post-set-information (synchronized, IRQL <= APC_LEVEL).
pub(crate) fn post_set_information(op: &Op<'_>, pending: &SetInfoPending) {
    let Some(_in_flight) = DRIVER.callbacks.enter() else { return };
    let status = op.status();
    // A failed delete or end-of-file change did not happen; a failed rename is still
    // worth recording (its status says it failed).
    if !status::is_success(status) && !pending.kind.has_destination() {
        return;
    }
    emit_set_info(pending, status);
}

fn emit_set_info(p: &SetInfoPending, status: i32) {
    let stamp = ring::stamp(p.pid, p.tid, p.key);
    let source = name_var(p.source.as_ref());
    let target = name_var(p.target.as_ref());
    match p.kind {
        SetInfo::Rename | SetInfo::RenameEx => {
            let body = FileRename {
                info_class: p.class,
                flags: p.flags,
                status,
                reserved: 0,
                source: VarRef::ABSENT,
                target: VarRef::ABSENT,
            };
            ring::emit(&Record::with_vars(stamp, body, &[source, target]));
        }
        SetInfo::Link | SetInfo::LinkEx => {
            let body = FileLink {
                info_class: p.class,
                flags: p.flags,
                status,
                reserved: 0,
                source: VarRef::ABSENT,
                target: VarRef::ABSENT,
            };
            ring::emit(&Record::with_vars(stamp, body, &[source, target]));
        }
        SetInfo::Disposition | SetInfo::DispositionEx => {
            let body = FileDelete { method: p.flags, disposition_flags: p.value as u32, path: VarRef::ABSENT };
            ring::emit(&Record::with_vars(stamp, body, &[source]));
        }
        SetInfo::EndOfFile => {
            let body = FileSetInfo { info_class: p.class, status, value: p.value, path: VarRef::ABSENT };
            ring::emit(&Record::with_vars(stamp, body, &[source]));
        }
    }
}

/// Pre-cleanup: the handle is going away; report what its context recorded.
pub(crate) fn pre_cleanup(op: &Op<'_>) {
    let Some(s) = subject(op) else { return };
    let Some(h) = op.handle_context() else { return };
    let (modified, delete_on_close) = handle::at_cleanup(h.flags().load(core::sync::atomic::Ordering::Acquire));
    let modified = modified && s.config.captures(Kind::FileWrite);
    let delete_on_close = delete_on_close && s.config.captures(Kind::FileDelete);
    if !modified && !delete_on_close {
        return;
    }
    let name = if ring::is_attached() { op.file_name().map(|(n, _)| n) } else { None };
    let stamp = ring::stamp(s.pid, op.thread_id(), op.requestor_key());
    if modified {
        let body = FileWrite { flags: file_events::MODIFIED_AT_CLEANUP, reserved: 0, path: VarRef::ABSENT };
        ring::emit(&Record::with_vars(stamp, body, &[name_var(name.as_ref())]));
    }
    if delete_on_close {
        let body =
            FileDelete { method: FileDelete::METHOD_DELETE_ON_CLOSE, disposition_flags: 0, path: VarRef::ABSENT };
        ring::emit(&Record::with_vars(stamp, body, &[name_var(name.as_ref())]));
    }
}
