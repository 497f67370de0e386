//! The operator's key-encryption key, and sealing with it (AES-256-GCM).

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hkdf};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret as _, SecretBox};
use zeroize::Zeroizing;

use crate::random;

/// Format byte of values sealed by this version: version, key id, nonce, ciphertext and tag.
const VERSION: u8 = 2;
/// Format byte of the first version: version, nonce, ciphertext and tag, with the bare context as
/// associated data. Still opened, so existing databases keep working.
const VERSION_1: u8 = 1;

/// What a sealed value is, bound into its associated data so a value sealed for one purpose never
/// opens as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// A signing key's private key; the context is its `kid`.
    SigningKey,
    /// A webhook subscription's signing secret; the context names the tenant and subscription.
    WebhookSecret,
    /// A listing's page cursor; the context names the tenant and the collection.
    PageCursor,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::SigningKey => b"knogin/v2/signing-key\0",
            Self::WebhookSecret => b"knogin/v2/webhook-secret\0",
            Self::PageCursor => b"knogin/v2/page-cursor\0",
        }
    }
}

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
/// redacted, it is not `Clone`, and it is zeroized when dropped.
///
/// ```
/// use knogin_core::keys::{MasterKey, Purpose};
///
/// let key = MasterKey::generate();
/// let again = MasterKey::from_base64(&key.to_base64())?;
/// let sealed = key.seal(Purpose::SigningKey, b"kid-1", b"private");
/// let opened = again.open(Purpose::SigningKey, b"kid-1", &sealed).unwrap();
/// assert_eq!(opened.as_slice(), b"private");
/// assert_eq!(again.open(Purpose::SigningKey, b"kid-2", &sealed), None);
/// assert_eq!(again.open(Purpose::WebhookSecret, b"kid-1", &sealed), None);
/// # Ok::<(), knogin_core::keys::MasterKeyError>(())
/// ```
pub struct MasterKey(SecretBox<[u8; 32]>);

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(SecretBox::new(Box::new(random::bytes())))
    }

    /// Reads a key from base64 (standard alphabet, padded), surrounding whitespace ignored.
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| MasterKeyError::NotBase64)?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| MasterKeyError::WrongLength(bytes.len()))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// The key as base64, to save it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.expose_secret())
    }

    /// One byte naming this key (from its hash), stored with every sealed value so a value sealed
    /// under another master key is told apart, e.g. while rows are re-sealed under a new one.
    pub fn id(&self) -> u8 {
        digest::digest(&digest::SHA256, self.0.expose_secret()).as_ref()[0]
    }

    /// A 256-bit key for `label`'s own use (an HMAC key, say), derived from this one with
    /// HKDF-SHA256: the same on every instance with the same master key, and never the master
    /// key itself.
    #[cfg(feature = "password-login")]
    pub(crate) fn derive(&self, label: &[u8]) -> zeroize::Zeroizing<[u8; 32]> {
        struct Len32;
        impl hkdf::KeyType for Len32 {
            fn len(&self) -> usize {
                32
            }
        }
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, b"knogin/v2/subkey").extract(self.0.expose_secret());
        let info = [label];
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        prk.expand(&info, Len32)
            .and_then(|okm| okm.fill(&mut out[..]))
            .expect("32 bytes fit HKDF-SHA256's output");
        out
    }

    /// The AES key of `purpose`: the master key itself for the material it protects (signing
    /// keys, webhook secrets), and for page cursors, which any caller can have sealed at will, a
    /// subkey derived with HKDF-SHA256, so that use never touches the key-encryption key.
    fn aead(&self, purpose: Purpose) -> LessSafeKey {
        let key = match purpose {
            Purpose::PageCursor => {
                let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"knogin/v2/subkey")
                    .extract(self.0.expose_secret());
                let info = [purpose.label()];
                let okm = prk
                    .expand(&info, &AES_256_GCM)
                    .expect("AES-256 fits HKDF-SHA256's output");
                UnboundKey::from(okm)
            }
            _ => UnboundKey::new(&AES_256_GCM, self.0.expose_secret())
                .expect("32 bytes is an AES-256 key"),
        };
        LessSafeKey::new(key)
    }

    fn aad(purpose: Purpose, context: &[u8]) -> Vec<u8> {
        [purpose.label(), context].concat()
    }

    /// Encrypts and authenticates `plaintext` for `purpose`, bound to `context` (e.g. the key
    /// id), so a sealed value moved to another row or used for another purpose does not open.
    pub fn seal(&self, purpose: Purpose, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = random::bytes();
        let mut buf = plaintext.to_vec();
        self.aead(purpose)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(Self::aad(purpose, context)),
                &mut buf,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(2 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.push(self.id());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&buf);
        out
    }

    /// Decrypts a value sealed by [`MasterKey::seal`] with the same key, purpose and context;
    /// `None` when the key is wrong, the purpose or context differs, or the value was tampered
    /// with. Signing keys sealed by the first version (context only) still open.
    pub fn open(
        &self,
        purpose: Purpose,
        context: &[u8],
        sealed: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        let (&version, rest) = sealed.split_first()?;
        let (aad, rest) = match version {
            VERSION => {
                let (&id, rest) = rest.split_first()?;
                if id != self.id() {
                    return None;
                }
                (Self::aad(purpose, context), rest)
            }
            VERSION_1 if purpose == Purpose::SigningKey => (context.to_vec(), rest),
            _ => return None,
        };
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .aead(purpose)
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_cursors_are_sealed_under_a_subkey_not_the_master_key() {
        let key = MasterKey::generate();
        let sealed = key.seal(Purpose::PageCursor, b"t1\0apps", b"position");
        assert_eq!(
            key.open(Purpose::PageCursor, b"t1\0apps", &sealed)
                .unwrap()
                .as_slice(),
            b"position"
        );
        // The master key itself does not open it.
        let (_, rest) = sealed.split_at(2);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let mut buf = ciphertext.to_vec();
        let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.0.expose_secret()).unwrap());
        assert!(
            raw.open_in_place(
                Nonce::try_assume_unique_for_key(nonce).unwrap(),
                Aad::from(MasterKey::aad(Purpose::PageCursor, b"t1\0apps")),
                &mut buf,
            )
            .is_err()
        );
    }

    use super::*;

    #[test]
    fn a_wrong_key_purpose_or_tampering_does_not_open() {
        let key = MasterKey::generate();
        let mut sealed = key.seal(Purpose::SigningKey, b"ctx", b"secret");
        assert_eq!(sealed[1], key.id(), "the sealed value names its master key");
        assert_eq!(
            MasterKey::generate().open(Purpose::SigningKey, b"ctx", &sealed),
            None
        );
        assert_eq!(key.open(Purpose::WebhookSecret, b"ctx", &sealed), None);
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(key.open(Purpose::SigningKey, b"ctx", &sealed), None);
        assert_eq!(key.open(Purpose::SigningKey, b"ctx", &[]), None);
    }

    #[test]
    fn values_sealed_by_the_first_version_still_open() {
        let key = MasterKey::generate();
        let nonce = [7u8; NONCE_LEN];
        let mut buf = b"legacy".to_vec();
        key.aead(Purpose::SigningKey)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(b"kid-1"),
                &mut buf,
            )
            .unwrap();
        let sealed = [&[VERSION_1][..], &nonce, &buf].concat();
        assert_eq!(
            key.open(Purpose::SigningKey, b"kid-1", &sealed)
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"legacy"[..])
        );
        assert_eq!(key.open(Purpose::WebhookSecret, b"kid-1", &sealed), None);
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
