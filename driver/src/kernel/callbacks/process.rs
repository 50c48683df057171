//! Process start and exit (PsSetCreateProcessNotifyRoutineEx, PASSIVE_LEVEL, in the
//! creating or exiting thread).

use super::Subject;
use crate::ffi::notify::{ProcessEvent, ProcessStartView};
use crate::ffi::process::{self, ProcessPtr, ProcessRef, Token, TokenBuffer, token_class};
use crate::kernel::ring;
use crate::logic::{records, token};
use vigil_protocol::encode::{Record, Var};
use vigil_protocol::schema::{Kind, ProcessExit, ProcessStart, VarRef};

/// The process notify routine's body.
pub(crate) fn on_process(event: &ProcessEvent<'_>) {
    match event {
        ProcessEvent::Start(v) => start(v),
        ProcessEvent::Exit { process, pid } => exit(*process, *pid),
    }
}

/// What the new process's token says.
struct TokenFacts {
    integrity_rid: u32,
    elevation_type: u32,
    elevated: bool,
    session_id: u32,
}

fn start(v: &ProcessStartView<'_>) {
    let Some(s) = Subject::enter_any(v.pid) else { return };
    if !s.config.captures(Kind::ProcessStart) {
        return;
    }
    let (creating_pid, creating_tid) = v.creator();
    let parent_key = ProcessRef::lookup(v.parent_pid()).map_or(0, |p| p.get().start_key());
    let attached = ring::is_attached();
    // Token queries write into these buffers; the user SID is read out of the first.
    let mut user_buf = TokenBuffer([0; 128]);
    let mut scratch = TokenBuffer([0; 128]);
    let token = if attached { Token::open(v.process) } else { None };
    let facts = token.as_ref().map(|t| TokenFacts {
        integrity_rid: t
            .query(token_class::INTEGRITY_LEVEL, &mut scratch)
            .and_then(|b| token::sid_and_attributes(b, b.as_ptr() as usize))
            .and_then(token::last_sub_authority)
            .unwrap_or(ProcessStart::INTEGRITY_UNKNOWN),
        elevation_type: t.query(token_class::ELEVATION_TYPE, &mut scratch).and_then(token::ulong).unwrap_or(0),
        elevated: t.query(token_class::ELEVATION, &mut scratch).and_then(token::ulong).is_some_and(|e| e != 0),
        session_id: t.query(token_class::SESSION_ID, &mut scratch).and_then(token::ulong).unwrap_or(u32::MAX),
    });
    let sid = token
        .as_ref()
        .and_then(|t| t.query(token_class::USER, &mut user_buf))
        .and_then(|b| token::sid_and_attributes(b, b.as_ptr() as usize));
    let body = ProcessStart {
        parent_pid: v.parent_pid(),
        creating_pid,
        creating_tid,
        session_id: facts.as_ref().map_or(u32::MAX, |f| f.session_id),
        parent_key,
        integrity_rid: facts.as_ref().map_or(ProcessStart::INTEGRITY_UNKNOWN, |f| f.integrity_rid),
        elevation_type: facts.as_ref().map_or(0, |f| f.elevation_type),
        flags: records::process_flags(v.flags(), facts.as_ref().is_some_and(|f| f.elevated)),
        reserved: 0,
        image_path: VarRef::ABSENT,
        command_line: VarRef::ABSENT,
        user_sid: VarRef::ABSENT,
        current_directory: VarRef::ABSENT,
    };
    let vars = [
        v.image_name().map_or(Var::Absent, Var::Utf16),
        v.command_line().map_or(Var::Absent, Var::Utf16),
        sid.map_or(Var::Absent, Var::Bytes),
        // Lives in the new process's user-mode parameters: never read (no SEH in Rust).
        Var::Absent,
    ];
    let stamp = ring::stamp(v.pid, creating_tid, v.process.start_key());
    ring::emit(&Record::with_vars(stamp, body, &vars));
}

fn exit(p: ProcessPtr<'_>, pid: u32) {
    let Some(s) = Subject::enter_any(pid) else { return };
    if !s.config.captures(Kind::ProcessExit) {
        return;
    }
    let body = ProcessExit { exit_status: p.exit_status(), reserved: 0 };
    ring::emit(&Record::new(ring::stamp(pid, process::current_tid(), p.start_key()), body));
}
