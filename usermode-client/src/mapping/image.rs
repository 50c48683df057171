//! `ImageLoad` → image_load.

use super::process::set_pe_fields;
use super::{Mapper, Skip};
use crate::event::{Category, Event, Field};
use vigil_protocol::decode::View;
use vigil_protocol::schema::ImageLoad;

/// SE_SIGNING_LEVEL_UNCHECKED: code integrity did not look at the image.
const SIGNING_LEVEL_UNCHECKED: u8 = 0;
/// SE_SIGNING_LEVEL_UNSIGNED.
const SIGNING_LEVEL_UNSIGNED: u8 = 1;

impl Mapper {
    pub(super) fn image_load(&mut self, v: &View<'_, ImageLoad>, out: &mut Event) -> Result<Category, Skip> {
        let b = &v.body;
        if b.flags & ImageLoad::FLAG_SYSTEM_MODE != 0 {
            return Err(Skip::DriverLoad);
        }
        self.begin(out, Category::ImageLoad, &v.header);
        self.subject(out, &v.header);
        let loaded = v.text(b.image_path);
        if let Some(p) = loaded {
            self.set_path(out, Field::ImageLoaded, p);
        }
        // The kernel reports the level code integrity validated the image at,
        // not the signer: `Signature` (the signer's name) stays absent.
        if b.flags & ImageLoad::FLAG_SIGNATURE_KNOWN != 0 {
            match b.signature_level {
                SIGNING_LEVEL_UNCHECKED => {}
                SIGNING_LEVEL_UNSIGNED => {
                    out.set_str(Field::Signed, "false");
                    out.set_str(Field::SignatureStatus, "Unavailable");
                }
                _ => {
                    out.set_str(Field::Signed, "true");
                    out.set_str(Field::SignatureStatus, "Valid");
                }
            }
        }
        // `set_path` left the DOS path in `scratch`.
        if let (Some(_), Some(cache)) = (loaded, self.pe.as_mut())
            && let Some(info) = cache.lookup(&self.scratch)
        {
            set_pe_fields(out, info);
        }
        Ok(Category::ImageLoad)
    }
}
