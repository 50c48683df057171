//! Image loads (PsSetLoadImageNotifyRoutine, PASSIVE_LEVEL).

use super::Subject;
use crate::ffi::notify::ImageView;
use crate::ffi::process::{self, ProcessRef};
use crate::kernel::ring;
use crate::logic::records;
use vigil_protocol::encode::{Record, Var};
use vigil_protocol::schema::{ImageLoad, Kind, VarRef};

/// The image notify routine's body.
pub(crate) fn on_image(v: &ImageView<'_>) {
    let Some(s) = Subject::enter_any(v.pid) else { return };
    if !s.config.captures(Kind::ImageLoad) {
        return;
    }
    let (flags, signature_level, signature_type) = records::image_fields(v.properties);
    // The callback usually runs in the process that maps the image; look it up otherwise.
    let key = if v.pid == 0 {
        0
    } else if v.pid == process::current_pid() {
        process::current_process().map_or(0, |p| p.start_key())
    } else {
        ProcessRef::lookup(v.pid).map_or(0, |p| p.get().start_key())
    };
    let body = ImageLoad {
        image_base: v.base,
        image_size: v.size,
        flags,
        signature_level,
        signature_type,
        reserved: 0,
        image_path: VarRef::ABSENT,
    };
    let stamp = ring::stamp(v.pid, process::current_tid(), key);
    ring::emit(&Record::with_vars(stamp, body, &[v.name.map_or(Var::Absent, Var::Utf16)]));
}
