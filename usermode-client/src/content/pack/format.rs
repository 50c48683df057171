//! The pack container: a fixed header, the manifest, the content, a SHA-256
//! of all of it and an optional ed25519 signature of that digest.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "VIGILPAK"
//!      8     2  format version (LE), FORMAT_VERSION
//!     10     2  flags (LE): bit 0 = signed; every other bit must be 0
//!     12     4  manifest length (LE), at most MAX_MANIFEST_LEN
//!     16     4  content length (LE), at most MAX_CONTENT_LEN
//!     20     4  reserved, 0
//!     24     8  key id: first 8 bytes of SHA-256(public key); 0 if unsigned
//!     32     m  manifest (UTF-8 JSON)
//!   32+m     c  content (the rule sources, concatenated in manifest order)
//! 32+m+c    32  digest: SHA-256 of bytes [0, 32+m+c)
//! 64+m+c    64  signature (signed packs only): ed25519 over SIGNATURE_CONTEXT || digest
//! ```
//!
//! [`open`] checks, in this order and before anything is parsed: the magic,
//! the format version, flags and reserved bits, the declared lengths against
//! their limits and against the file's length, the digest, and the
//! signature. Every byte of the file is covered by the digest or is the
//! signature over it, so any truncation or corruption is refused here.

use super::PackError;
use super::keys::{KeyId, TrustPolicy};
use ed25519_dalek::{Signature, Signer, SigningKey};
use sha2::{Digest, Sha256};

/// First bytes of every pack.
pub const MAGIC: [u8; 8] = *b"VIGILPAK";
/// The container layout this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes before the manifest.
pub const HEADER_LEN: usize = 32;
/// Bytes of the digest trailer.
pub const DIGEST_LEN: usize = 32;
/// Bytes of the signature trailer of a signed pack.
pub const SIGNATURE_LEN: usize = 64;
/// Largest manifest accepted.
pub const MAX_MANIFEST_LEN: u32 = 4 << 20;
/// Largest content accepted.
pub const MAX_CONTENT_LEN: u32 = 64 << 20;
/// Prefix of the signed message, so a pack signature cannot be replayed as
/// a signature of anything else made with the same key.
pub const SIGNATURE_CONTEXT: &[u8] = b"vigil content pack v1\0";

const FLAG_SIGNED: u16 = 1;

/// A pack whose framing, digest and signature were verified; the manifest
/// and content are still unparsed bytes.
#[derive(Clone, Debug)]
pub struct Sealed<'a> {
    /// The manifest bytes.
    pub manifest: &'a [u8],
    /// The content bytes.
    pub content: &'a [u8],
    /// SHA-256 of header, manifest and content: the pack's identity.
    pub digest: [u8; 32],
    /// The key that signed it, if signed.
    pub key_id: Option<KeyId>,
    /// Whether the signature was checked against a trusted key (false for
    /// unsigned packs and for signed packs under [`TrustPolicy::AllowUnsigned`]).
    pub signature_verified: bool,
}

/// Writes a pack: header, `manifest`, `content`, digest and, with `key`,
/// the signature.
pub fn seal(manifest: &[u8], content: &[u8], key: Option<&SigningKey>) -> Result<Vec<u8>, PackError> {
    let m = u32::try_from(manifest.len()).ok().filter(|&m| m <= MAX_MANIFEST_LEN);
    let c = u32::try_from(content.len()).ok().filter(|&c| c <= MAX_CONTENT_LEN);
    let (Some(m), Some(c)) = (m, c) else {
        return Err(PackError::TooLarge { manifest: manifest.len() as u64, content: content.len() as u64 });
    };
    let mut out = Vec::with_capacity(HEADER_LEN + manifest.len() + content.len() + DIGEST_LEN + SIGNATURE_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(if key.is_some() { FLAG_SIGNED } else { 0 }).to_le_bytes());
    out.extend_from_slice(&m.to_le_bytes());
    out.extend_from_slice(&c.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&key.map_or([0; 8], |k| KeyId::of(&k.verifying_key()).0));
    out.extend_from_slice(manifest);
    out.extend_from_slice(content);
    let digest: [u8; 32] = Sha256::digest(&out).into();
    out.extend_from_slice(&digest);
    if let Some(k) = key {
        out.extend_from_slice(&k.sign(&signed_message(&digest)).to_bytes());
    }
    Ok(out)
}

/// The message a pack signature covers.
pub fn signed_message(digest: &[u8; 32]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(SIGNATURE_CONTEXT.len() + 32);
    msg.extend_from_slice(SIGNATURE_CONTEXT);
    msg.extend_from_slice(digest);
    msg
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Verifies framing, digest and signature of `bytes` under `policy`.
pub fn open<'a>(bytes: &'a [u8], policy: &TrustPolicy) -> Result<Sealed<'a>, PackError> {
    if bytes.len() < HEADER_LEN {
        if !bytes.is_empty() && !MAGIC.starts_with(&bytes[..bytes.len().min(MAGIC.len())]) {
            return Err(PackError::NotAPack);
        }
        return Err(PackError::Truncated { expected: HEADER_LEN as u64, got: bytes.len() as u64 });
    }
    if bytes[..8] != MAGIC {
        return Err(PackError::NotAPack);
    }
    let format = u16_at(bytes, 8);
    if format != FORMAT_VERSION {
        return Err(PackError::UnsupportedFormat { got: format, supported: FORMAT_VERSION });
    }
    let flags = u16_at(bytes, 10);
    if flags & !FLAG_SIGNED != 0 {
        return Err(PackError::Header {
            field: "flags",
            reason: format!("unknown bits {:#06x}", flags & !FLAG_SIGNED),
        });
    }
    let signed = flags & FLAG_SIGNED != 0;
    let (m, c) = (u32_at(bytes, 12), u32_at(bytes, 16));
    if u32_at(bytes, 20) != 0 {
        return Err(PackError::Header { field: "reserved", reason: "must be 0".into() });
    }
    if m > MAX_MANIFEST_LEN || c > MAX_CONTENT_LEN {
        return Err(PackError::TooLarge { manifest: u64::from(m), content: u64::from(c) });
    }
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&bytes[24..32]);
    if !signed && key_id != [0; 8] {
        return Err(PackError::Header { field: "key id", reason: "set on an unsigned pack".into() });
    }
    let body = HEADER_LEN + m as usize + c as usize;
    let expected = body + DIGEST_LEN + if signed { SIGNATURE_LEN } else { 0 };
    if bytes.len() != expected {
        return Err(if bytes.len() < expected {
            PackError::Truncated { expected: expected as u64, got: bytes.len() as u64 }
        } else {
            PackError::TrailingBytes { expected: expected as u64, got: bytes.len() as u64 }
        });
    }
    let digest: [u8; 32] = Sha256::digest(&bytes[..body]).into();
    if bytes[body..body + DIGEST_LEN] != digest {
        return Err(PackError::DigestMismatch);
    }
    let key_id = signed.then_some(KeyId(key_id));
    let signature = &bytes[body + DIGEST_LEN..];
    let signature_verified = match (policy, key_id) {
        (TrustPolicy::AllowUnsigned, _) => false,
        (TrustPolicy::Keys(_), None) => return Err(PackError::Unsigned),
        (TrustPolicy::Keys(keys), Some(id)) => {
            let key = keys.iter().find(|k| KeyId::of(k) == id).ok_or(PackError::UnknownKey { key_id: id })?;
            let sig = Signature::from_slice(signature).map_err(|_| PackError::BadSignature { key_id: id })?;
            key.verify_strict(&signed_message(&digest), &sig).map_err(|_| PackError::BadSignature { key_id: id })?;
            true
        }
    };
    let manifest = &bytes[HEADER_LEN..HEADER_LEN + m as usize];
    let content = &bytes[HEADER_LEN + m as usize..body];
    Ok(Sealed { manifest, content, digest, key_id, signature_verified })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    #[test]
    fn round_trip_unsigned_and_signed() {
        let p = seal(b"{}", b"rules", None).unwrap();
        let s = open(&p, &TrustPolicy::AllowUnsigned).unwrap();
        assert_eq!((s.manifest, s.content, s.key_id, s.signature_verified), (&b"{}"[..], &b"rules"[..], None, false));
        assert!(matches!(open(&p, &TrustPolicy::Keys(vec![key().verifying_key()])), Err(PackError::Unsigned)));

        let p = seal(b"{}", b"rules", Some(&key())).unwrap();
        let s = open(&p, &TrustPolicy::Keys(vec![key().verifying_key()])).unwrap();
        assert!(s.signature_verified);
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(matches!(open(&p, &TrustPolicy::Keys(vec![other])), Err(PackError::UnknownKey { .. })));
    }

    #[test]
    fn every_truncation_and_every_byte_flip_is_refused() {
        let policy = TrustPolicy::Keys(vec![key().verifying_key()]);
        for signed in [false, true] {
            let p = seal(br#"{"a":1}"#, b"title: x\n", signed.then(key).as_ref()).unwrap();
            let policy = if signed { &policy } else { &TrustPolicy::AllowUnsigned };
            assert!(open(&p, policy).is_ok());
            for len in 0..p.len() {
                assert!(open(&p[..len], policy).is_err(), "truncated to {len} accepted");
            }
            let mut longer = p.clone();
            longer.push(0);
            assert!(matches!(open(&longer, policy), Err(PackError::TrailingBytes { .. })));
            for i in 0..p.len() {
                for bit in 0..8 {
                    let mut bad = p.clone();
                    bad[i] ^= 1 << bit;
                    assert!(open(&bad, policy).is_err(), "flip of bit {bit} in byte {i} accepted (signed: {signed})");
                }
            }
        }
    }

    #[test]
    fn unknown_versions_and_flags_are_refused() {
        let mut p = seal(b"{}", b"", None).unwrap();
        p[8] = 2;
        assert!(matches!(open(&p, &TrustPolicy::AllowUnsigned), Err(PackError::UnsupportedFormat { got: 2, .. })));
        assert!(matches!(open(b"not a pack at all, no", &TrustPolicy::AllowUnsigned), Err(PackError::NotAPack)));
    }
}
