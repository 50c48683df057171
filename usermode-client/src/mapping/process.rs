//! `ProcessStart` → process_creation, `ProcessExit` → process_termination.

use super::{Mapper, SYSTEM_PID};
use crate::enrich::accounts::integrity_level;
use crate::enrich::pe::VersionStrings;
use crate::enrich::utf16::push_utf16;
use crate::enrich::{PeInfo, ProcessInfo};
use crate::event::{Category, Event, Field};
use vigil_protocol::decode::View;
use vigil_protocol::schema::{ProcessExit, ProcessStart};

impl Mapper {
    pub(super) fn process_start(&mut self, v: &View<'_, ProcessStart>, out: &mut Event) -> Category {
        let h = &v.header;
        let b = &v.body;
        self.begin(out, Category::ProcessCreation, h);
        let image = v.text(b.image_path).map(|p| self.volumes.translate_string(p));
        let command_line = v.var(b.command_line).map(|c| {
            let mut s = String::new();
            push_utf16(&mut s, c);
            s
        });
        let user = v.var(b.user_sid).and_then(|sid| self.accounts.resolve(sid)).map(str::to_owned);
        if let Some(i) = &image {
            out.set_str(Field::Image, i);
        }
        if let Some(c) = &command_line {
            out.set_str(Field::CommandLine, c);
        }
        if let Some(d) = v.text(b.current_directory) {
            self.set_path(out, Field::CurrentDirectory, d);
        }
        if let Some(u) = &user {
            out.set_str(Field::User, u);
        }
        if let Some(level) = integrity_level(b.integrity_rid) {
            out.set_str(Field::IntegrityLevel, level);
        }
        out.set_int(Field::TerminalSessionId, i64::from(b.session_id));
        out.set_int(Field::ParentProcessId, i64::from(b.parent_pid));
        match self.processes.get(b.parent_pid, b.parent_key) {
            Some(p) => {
                out.set_str(Field::ParentImage, &p.image);
                if let Some(c) = &p.command_line {
                    out.set_str(Field::ParentCommandLine, c);
                }
                if let Some(u) = &p.user {
                    out.set_str(Field::ParentUser, u);
                }
            }
            None if b.parent_pid == SYSTEM_PID => out.set_str(Field::ParentImage, "System"),
            None => {}
        }
        if let (Some(i), Some(cache)) = (&image, self.pe.as_mut())
            && let Some(info) = cache.lookup(i)
        {
            set_pe_fields(out, info);
        }
        self.processes.start(ProcessInfo {
            pid: h.pid,
            key: h.process_key,
            image: image.unwrap_or_default(),
            command_line,
            user,
            parent_pid: b.parent_pid,
            parent_key: b.parent_key,
            start_time: h.timestamp,
        });
        Category::ProcessCreation
    }

    pub(super) fn process_exit(&mut self, v: &View<'_, ProcessExit>, out: &mut Event) -> Category {
        let h = &v.header;
        self.begin(out, Category::ProcessTermination, h);
        self.subject(out, h);
        self.processes.exit(h.pid, h.process_key, h.timestamp);
        Category::ProcessTermination
    }
}

/// Version strings and `Hashes`. A PE that was read but lacks a string gets
/// `-`, as Sysmon writes it; a file that could not be read sets nothing.
pub(super) fn set_pe_fields(out: &mut Event, info: &PeInfo) {
    type Get = fn(&VersionStrings) -> &Option<String>;
    let fields: [(Field, Get); 5] = [
        (Field::OriginalFileName, |v| &v.original_file_name),
        (Field::Description, |v| &v.description),
        (Field::Product, |v| &v.product),
        (Field::Company, |v| &v.company),
        (Field::FileVersion, |v| &v.file_version),
    ];
    for (f, get) in fields {
        out.set_str(f, info.version.as_ref().and_then(|v| get(v).as_deref()).unwrap_or("-"));
    }
    out.set_str(Field::Hashes, &info.hashes());
}
