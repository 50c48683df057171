//! Operator keys: ed25519 signing keys kept by the operator, public keys
//! given to every analyzer. Files hold one lowercase hex line (64 digits):
//! the 32-byte seed for a secret key, the 32-byte point for a public key.

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// Which packs an analyzer accepts.
#[derive(Clone, Debug)]
pub enum TrustPolicy {
    /// Packs signed by one of these keys only (production).
    Keys(Vec<VerifyingKey>),
    /// Any pack whose digest checks out; signatures are not checked
    /// (development, tests, and fleets that trust their distribution channel).
    AllowUnsigned,
}

/// First 8 bytes of SHA-256 of a public key: names the key that signed a pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &VerifyingKey) -> KeyId {
        let h = Sha256::digest(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&h[..8]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// A key file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not one line of 64 hex digits, or not a valid key.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Bytes of a hex string of exactly `N` bytes.
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.trim();
    if s.len() != 2 * N || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn read_hex32(path: &Path) -> Result<[u8; 32], KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.into(), source })?;
    unhex::<32>(&text).ok_or_else(|| KeyError::Invalid { path: path.into(), reason: "expected 64 hex digits".into() })
}

/// Reads a secret key file.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    Ok(SigningKey::from_bytes(&read_hex32(path)?))
}

/// Reads a public key file.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_bytes(&read_hex32(path)?)
        .map_err(|e| KeyError::Invalid { path: path.into(), reason: format!("not an ed25519 public key: {e}") })
}

/// A new signing key from the operating system's random source.
pub fn generate() -> Result<SigningKey, getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `key` to `<base>.secret` and its public half to `<base>.pub`;
/// refuses to overwrite an existing secret key.
pub fn write_pair(key: &SigningKey, base: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
    let secret = base.with_extension("secret");
    let public = base.with_extension("pub");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    };
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&secret).map_err(io(&secret))?;
    std::io::Write::write_all(&mut f, format!("{}\n", hex(key.as_bytes())).as_bytes()).map_err(io(&secret))?;
    std::fs::write(&public, format!("{}\n", hex(key.verifying_key().as_bytes()))).map_err(io(&public))?;
    Ok((secret, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_key_files() {
        assert_eq!(unhex::<2>(&hex(&[0xab, 0x01])), Some([0xab, 0x01]));
        assert_eq!(unhex::<2>("abc"), None);
        assert_eq!(unhex::<2>("zz00"), None);
        let dir = std::env::temp_dir().join(format!("vigil-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("op");
        let k = generate().unwrap();
        let (s, p) = write_pair(&k, &base).unwrap();
        assert_eq!(read_signing_key(&s).unwrap().to_bytes(), k.to_bytes());
        assert_eq!(read_verifying_key(&p).unwrap(), k.verifying_key());
        assert!(matches!(write_pair(&k, &base), Err(KeyError::Io { .. })), "secret is never overwritten");
        std::fs::write(&p, "xyz").unwrap();
        assert!(matches!(read_verifying_key(&p), Err(KeyError::Invalid { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
