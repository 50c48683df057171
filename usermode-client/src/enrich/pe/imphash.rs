//! The import hash (IMPHASH): MD5 of the imports in file order, written
//! `lib.function` in lowercase and joined with commas, where `lib` is the DLL
//! name without a `.dll`, `.ocx` or `.sys` extension and an import by
//! ordinal is named from [`super::ordinals`] or written `ord<N>`. This is
//! Mandiant's definition as pefile implements it (`get_imphash`), which is
//! what Sysmon's `IMPHASH` reproduces.

use md5::{Digest, Md5};
use object::LittleEndian as LE;
use object::read::pe::{ImageNtHeaders, Import, PeFile};

/// Bounds that keep a crafted import table from costing more than a real one.
const MAX_DLLS: usize = 4096;
const MAX_IMPORTS_PER_DLL: usize = 65_536;

/// The import hash of `pe`; `None` if it has no readable import.
pub(super) fn imphash<'d, Pe: ImageNtHeaders>(pe: &PeFile<'d, Pe, &'d [u8]>) -> Option<[u8; 16]> {
    let table = pe.import_table().ok()??;
    let mut descriptors = table.descriptors().ok()?;
    let mut list = String::new();
    let mut dlls = 0;
    while let Ok(Some(d)) = descriptors.next() {
        dlls += 1;
        if dlls > MAX_DLLS {
            break;
        }
        let Ok(name) = table.name(d.name.get(LE)) else { continue };
        let dll = String::from_utf8_lossy(name).to_ascii_lowercase();
        let lib = match dll.rsplit_once('.') {
            Some((stem, "dll" | "ocx" | "sys")) => stem,
            _ => dll.as_str(),
        };
        let first = d.original_first_thunk.get(LE);
        let thunk_rva = if first != 0 { first } else { d.first_thunk.get(LE) };
        let Ok(mut thunks) = table.thunks(thunk_rva) else { continue };
        for _ in 0..MAX_IMPORTS_PER_DLL {
            let Ok(Some(thunk)) = thunks.next::<Pe>() else { break };
            let Ok(import) = table.import::<Pe>(thunk) else { break };
            if !list.is_empty() {
                list.push(',');
            }
            list.push_str(lib);
            list.push('.');
            match import {
                Import::Name(_, n) => list.push_str(&String::from_utf8_lossy(n).to_ascii_lowercase()),
                Import::Ordinal(o) => match super::ordinals::lookup(&dll, o) {
                    Some(n) => list.push_str(&n.to_ascii_lowercase()),
                    None => {
                        list.push_str("ord");
                        list.push_str(&o.to_string());
                    }
                },
            }
        }
    }
    if list.is_empty() { None } else { Some(Md5::digest(list.as_bytes()).into()) }
}
