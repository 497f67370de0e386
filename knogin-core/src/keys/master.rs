//! The operator's key-encryption key, and sealing with it (AES-256-GCM).

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::random;

/// Format byte in front of every sealed value, so the format can change later.
const VERSION: u8 = 1;

/// Why a master key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MasterKeyError {
    /// The text is not base64.
    #[error("the master key is not valid base64")]
    NotBase64,
    /// The decoded key is not 32 bytes.
    #[error("the master key must be 32 bytes (base64 of 32 random bytes), not {0} bytes")]
    WrongLength(usize),
}

/// The 256-bit key-encryption key that seals private material in the store.
///
/// The operator supplies it (the reference server reads `KNOGIN_MASTER_KEY`). Its `Debug` is
/// redacted.
///
/// ```
/// use knogin_core::keys::MasterKey;
///
/// let key = MasterKey::generate();
/// let again = MasterKey::from_base64(&key.to_base64())?;
/// let sealed = key.seal(b"private", b"kid-1");
/// assert_eq!(again.open(&sealed, b"kid-1").as_deref(), Some(&b"private"[..]));
/// assert_eq!(again.open(&sealed, b"kid-2"), None);
/// # Ok::<(), knogin_core::keys::MasterKeyError>(())
/// ```
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(random::bytes())
    }

    /// Reads a key from base64 (standard alphabet, padded), surrounding whitespace ignored.
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| MasterKeyError::NotBase64)?;
        let len = bytes.len();
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| MasterKeyError::WrongLength(len))
    }

    /// The key as base64, to save it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.0).expect("32 bytes is an AES-256 key"),
        )
    }

    /// Encrypts and authenticates `plaintext`, bound to `context` (e.g. the key id), so a sealed
    /// value moved to another row does not open.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = random::bytes();
        let mut buf = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context),
                &mut buf,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&buf);
        out
    }

    /// Decrypts a value sealed by [`MasterKey::seal`] with the same key and context; `None` when
    /// the key is wrong, the context differs or the value was tampered with.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        let (&version, rest) = sealed.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_key_or_tampering_does_not_open() {
        let key = MasterKey::generate();
        let mut sealed = key.seal(b"secret", b"ctx");
        assert_eq!(MasterKey::generate().open(&sealed, b"ctx"), None);
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(key.open(&sealed, b"ctx"), None);
        assert_eq!(key.open(&[], b"ctx"), None);
    }

    #[test]
    fn base64_must_hold_32_bytes() {
        assert_eq!(
            MasterKey::from_base64("!!").unwrap_err(),
            MasterKeyError::NotBase64
        );
        assert_eq!(
            MasterKey::from_base64(&STANDARD.encode([0u8; 16])).unwrap_err(),
            MasterKeyError::WrongLength(16)
        );
    }
}
