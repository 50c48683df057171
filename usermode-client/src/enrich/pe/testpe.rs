//! A minimal PE32+ image built byte by byte for tests: two sections, an
//! import table (named imports, ordinals with and without known names, a
//! `.ocx` library) and an `RT_VERSION` resource. Cross-checked with pefile.

/// `pefile.PE(data=build()).get_imphash().upper()` with pefile 2024.8.26.
pub(crate) const EXPECTED_IMPHASH: &str = "5E4D9526142961601B5D95CB4CA55E34";

const FILE_ALIGN: usize = 0x200;
const RDATA_RVA: u32 = 0x1000;
const RSRC_RVA: u32 = 0x2000;

enum Imp {
    Name(&'static str),
    Ord(u16),
}

const IMPORTS: &[(&str, &[Imp])] = &[
    ("KERNEL32.dll", &[Imp::Name("CreateFileW"), Imp::Name("ReadFile")]),
    ("WS2_32.dll", &[Imp::Ord(23), Imp::Ord(115)]),
    ("OLEAUT32.dll", &[Imp::Ord(2)]),
    ("custom.ocx", &[Imp::Ord(7), Imp::Name("DllRegisterServer")]),
];

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn pad_to(v: &mut Vec<u8>, align: usize) {
    while !v.len().is_multiple_of(align) {
        v.push(0);
    }
}

/// The `.rdata` section: import descriptors, lookup tables, names.
fn rdata() -> (Vec<u8>, u32) {
    let desc_size = 20 * (IMPORTS.len() + 1);
    let mut data = vec![0u8; desc_size];
    for (i, (dll, imps)) in IMPORTS.iter().enumerate() {
        let mut thunks: Vec<u64> = Vec::new();
        for imp in *imps {
            match imp {
                Imp::Name(n) => {
                    pad_to(&mut data, 2);
                    let rva = RDATA_RVA as u64 + data.len() as u64;
                    data.extend_from_slice(&0u16.to_le_bytes());
                    data.extend_from_slice(n.as_bytes());
                    data.push(0);
                    thunks.push(rva);
                }
                Imp::Ord(o) => thunks.push((1 << 63) | u64::from(*o)),
            }
        }
        let name_rva = RDATA_RVA + data.len() as u32;
        data.extend_from_slice(dll.as_bytes());
        data.push(0);
        pad_to(&mut data, 8);
        let ilt_rva = RDATA_RVA + data.len() as u32;
        for t in thunks.iter().chain([&0]) {
            data.extend_from_slice(&t.to_le_bytes());
        }
        let iat_rva = RDATA_RVA + data.len() as u32;
        for t in thunks.iter().chain([&0]) {
            data.extend_from_slice(&t.to_le_bytes());
        }
        let d = 20 * i;
        put(&mut data, d, &ilt_rva.to_le_bytes());
        put(&mut data, d + 12, &name_rva.to_le_bytes());
        put(&mut data, d + 16, &iat_rva.to_le_bytes());
    }
    (data, desc_size as u32)
}

/// The `.rsrc` section: type 16 → id 1 → language 0x409 → the resource.
fn rsrc() -> Vec<u8> {
    let version = super::version_info::build(&[
        ("CompanyName", "Vigil project"),
        ("FileDescription", "Vigil test image"),
        ("FileVersion", "1.2.3.4"),
        ("OriginalFilename", "vigiltest.exe"),
        ("ProductName", "Vigil"),
    ]);
    let dir = |id: u32, target: u32| {
        let mut d = vec![0u8; 16];
        put(&mut d, 14, &1u16.to_le_bytes());
        d.extend_from_slice(&id.to_le_bytes());
        d.extend_from_slice(&target.to_le_bytes());
        d
    };
    let mut data = Vec::new();
    data.extend(dir(16, 0x8000_0000 | 24));
    data.extend(dir(1, 0x8000_0000 | 48));
    data.extend(dir(0x409, 72));
    let res_rva = RSRC_RVA + 88;
    data.extend_from_slice(&res_rva.to_le_bytes());
    data.extend_from_slice(&(version.len() as u32).to_le_bytes());
    data.extend_from_slice(&[0; 8]);
    data.extend(version);
    data
}

/// The image bytes.
pub(crate) fn build() -> Vec<u8> {
    let (rdata, import_size) = rdata();
    let rsrc = rsrc();
    let raw = |len: usize| len.div_ceil(FILE_ALIGN) * FILE_ALIGN;
    let rdata_raw = raw(rdata.len());
    let rsrc_raw = raw(rsrc.len());
    let mut f = vec![0u8; FILE_ALIGN + rdata_raw + rsrc_raw];
    put(&mut f, 0, b"MZ");
    put(&mut f, 0x3C, &0x40u32.to_le_bytes());
    put(&mut f, 0x40, b"PE\0\0");
    let coff = 0x44;
    put(&mut f, coff, &0x8664u16.to_le_bytes());
    put(&mut f, coff + 2, &2u16.to_le_bytes());
    put(&mut f, coff + 16, &240u16.to_le_bytes());
    put(&mut f, coff + 18, &0x0022u16.to_le_bytes());
    let opt = coff + 20;
    put(&mut f, opt, &0x20Bu16.to_le_bytes());
    put(&mut f, opt + 24, &0x1_4000_0000u64.to_le_bytes());
    put(&mut f, opt + 32, &0x1000u32.to_le_bytes());
    put(&mut f, opt + 36, &(FILE_ALIGN as u32).to_le_bytes());
    put(&mut f, opt + 40, &6u16.to_le_bytes());
    put(&mut f, opt + 48, &6u16.to_le_bytes());
    put(&mut f, opt + 56, &0x3000u32.to_le_bytes());
    put(&mut f, opt + 60, &(FILE_ALIGN as u32).to_le_bytes());
    put(&mut f, opt + 68, &3u16.to_le_bytes());
    put(&mut f, opt + 108, &16u32.to_le_bytes());
    let dirs = opt + 112;
    put(&mut f, dirs + 8, &RDATA_RVA.to_le_bytes());
    put(&mut f, dirs + 12, &import_size.to_le_bytes());
    put(&mut f, dirs + 16, &RSRC_RVA.to_le_bytes());
    put(&mut f, dirs + 20, &(rsrc.len() as u32).to_le_bytes());
    let sections = opt + 240;
    let section = |f: &mut Vec<u8>, at: usize, name: &[u8], len: usize, rva: u32, raw_len: usize, raw_at: usize| {
        put(f, at, name);
        put(f, at + 8, &(len as u32).to_le_bytes());
        put(f, at + 12, &rva.to_le_bytes());
        put(f, at + 16, &(raw_len as u32).to_le_bytes());
        put(f, at + 20, &(raw_at as u32).to_le_bytes());
        put(f, at + 36, &0x4000_0040u32.to_le_bytes());
    };
    section(&mut f, sections, b".rdata", rdata.len(), RDATA_RVA, rdata_raw, FILE_ALIGN);
    section(&mut f, sections + 40, b".rsrc", rsrc.len(), RSRC_RVA, rsrc_raw, FILE_ALIGN + rdata_raw);
    put(&mut f, FILE_ALIGN, &rdata);
    put(&mut f, FILE_ALIGN + rdata_raw, &rsrc);
    f
}

#[test]
#[ignore = "writes the test image for cross-checking with pefile"]
fn dump_test_image() {
    let path = std::env::var("VIGIL_TESTPE_OUT").unwrap_or_else(|_| "/tmp/vigil-testpe.exe".into());
    std::fs::write(path, build()).unwrap();
}
