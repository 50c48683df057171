//! File records → file_event, file_access, file_change, file_rename,
//! file_delete.

use super::{Mapper, Skip};
use crate::event::{Category, Event, Field};
use vigil_protocol::decode::View;
use vigil_protocol::schema::{FileCreate, FileDelete, FileLink, FileRename, FileSetInfo, FileWrite, VarRef};

/// `FILE_SUPERSEDE`: the only disposition under which Information 0 means
/// "superseded" rather than nothing.
const FILE_SUPERSEDE: u32 = 0;
/// `FileBasicInformation`: times and attributes (Sysmon 2 is its
/// creation-time case).
const FILE_BASIC_INFORMATION: u32 = 4;

impl Mapper {
    fn file_common<T: vigil_protocol::schema::Body>(
        &mut self,
        v: &View<'_, T>,
        out: &mut Event,
        category: Category,
        field: Field,
        path: VarRef,
    ) {
        self.begin(out, category, &v.header);
        self.subject(out, &v.header);
        if let Some(p) = v.text(path) {
            self.set_path(out, field, p);
        }
    }

    pub(super) fn file_create(&mut self, v: &View<'_, FileCreate>, out: &mut Event) -> Result<Category, Skip> {
        let b = &v.body;
        if b.status < 0 {
            return Err(Skip::Failed);
        }
        if b.flags & FileCreate::FLAG_DIRECTORY != 0 {
            return Err(Skip::Directory);
        }
        let wrote = match b.information {
            FileCreate::INFO_CREATED | FileCreate::INFO_OVERWRITTEN => true,
            FileCreate::INFO_SUPERSEDED => b.disposition == FILE_SUPERSEDE,
            _ => false,
        };
        if wrote {
            self.file_common(v, out, Category::FileEvent, Field::TargetFilename, b.path);
            Ok(Category::FileEvent)
        } else if b.information == FileCreate::INFO_OPENED {
            self.file_common(v, out, Category::FileAccess, Field::FileName, b.path);
            Ok(Category::FileAccess)
        } else {
            Err(Skip::NoCategory)
        }
    }

    pub(super) fn file_write(&mut self, v: &View<'_, FileWrite>, out: &mut Event) -> Category {
        self.file_common(v, out, Category::FileChange, Field::TargetFilename, v.body.path);
        Category::FileChange
    }

    pub(super) fn file_set_info(&mut self, v: &View<'_, FileSetInfo>, out: &mut Event) -> Result<Category, Skip> {
        if v.body.status < 0 {
            return Err(Skip::Failed);
        }
        if v.body.info_class != FILE_BASIC_INFORMATION {
            return Err(Skip::NoCategory);
        }
        self.file_common(v, out, Category::FileChange, Field::TargetFilename, v.body.path);
        Ok(Category::FileChange)
    }

    pub(super) fn file_rename(&mut self, v: &View<'_, FileRename>, out: &mut Event) -> Result<Category, Skip> {
        if v.body.status < 0 {
            return Err(Skip::Failed);
        }
        self.file_common(v, out, Category::FileRename, Field::TargetFilename, v.body.target);
        if let Some(p) = v.text(v.body.source) {
            self.set_path(out, Field::SourceFilename, p);
        }
        Ok(Category::FileRename)
    }

    pub(super) fn file_link(&mut self, v: &View<'_, FileLink>, out: &mut Event) -> Result<Category, Skip> {
        if v.body.status < 0 {
            return Err(Skip::Failed);
        }
        self.file_common(v, out, Category::FileEvent, Field::TargetFilename, v.body.target);
        if let Some(p) = v.text(v.body.source) {
            self.set_path(out, Field::SourceFilename, p);
        }
        Ok(Category::FileEvent)
    }

    pub(super) fn file_delete(&mut self, v: &View<'_, FileDelete>, out: &mut Event) -> Category {
        self.file_common(v, out, Category::FileDelete, Field::TargetFilename, v.body.path);
        Category::FileDelete
    }
}
