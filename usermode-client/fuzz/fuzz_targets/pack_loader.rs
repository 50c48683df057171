//! Arbitrary bytes through the analyzer's pack loader: every input is
//! refused with a typed error or loads; nothing panics. The first byte picks
//! the mode: even, the bytes are a pack file as received; odd, they are
//! split into a manifest and content and sealed with a correct digest, so
//! the fuzzer gets past the digest into manifest parsing, the split into
//! rules, compilation and the static checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::content::pack::{self, TrustPolicy, format};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let sealed;
    let bytes = if mode & 1 == 0 {
        rest
    } else {
        let Some((len, body)) = rest.split_first_chunk::<2>() else { return };
        let at = (u16::from_le_bytes(*len) as usize).min(body.len());
        let Ok(p) = format::seal(&body[..at], &body[at..], None) else { return };
        sealed = p;
        &sealed
    };
    match pack::load(bytes, &TrustPolicy::AllowUnsigned) {
        Ok((v, c)) => {
            assert_eq!(c.rules.len(), v.manifest.rule_count as usize);
            assert_eq!(v.sources.len(), c.rules.len());
            let again = pack::verify(bytes, &TrustPolicy::AllowUnsigned).expect("a loaded pack verifies again");
            assert_eq!(again.digest, v.digest);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
