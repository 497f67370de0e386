//! Client secrets: generated with 256 bits of randomness, shown once, stored as a hash.

use std::fmt;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::random;

/// A client secret in clear, as handed to the integrator once.
///
/// Its `Debug` and `Display` print `[redacted]`, and it is zeroized when dropped. Read it with
/// [`ClientSecret::expose`] at the one place that must show it.
///
/// ```
/// use knogin_core::ClientSecret;
///
/// let secret = ClientSecret::generate();
/// assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
/// assert!(secret.hash().matches(&secret));
/// ```
pub struct ClientSecret(SecretString);

impl ClientSecret {
    /// The prefix every generated secret carries, so a leaked one is recognisable in a scan.
    pub const PREFIX: &'static str = "ks_";

    /// A new secret: `ks_` followed by 32 random bytes in unpadded base64url. The random bytes
    /// and the text are built in buffers wiped after use.
    pub fn generate() -> Self {
        let raw = Zeroizing::new(random::bytes::<32>());
        // `ks_` + 43 base64url characters: sized up front, so the text is never reallocated (and
        // no unwiped copy is left behind).
        let mut text = String::with_capacity(Self::PREFIX.len() + 43);
        text.push_str(Self::PREFIX);
        URL_SAFE_NO_PAD.encode_string(*raw, &mut text);
        Self(SecretString::from(text))
    }

    /// Wraps a secret presented by a client, to check it against a stored hash.
    pub fn from_presented(s: &str) -> Self {
        Self(SecretString::from(s.to_owned()))
    }

    /// The secret in clear.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hash the store keeps in place of the secret.
    pub fn hash(&self) -> SecretHash {
        let d = digest::digest(&digest::SHA256, self.expose().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        SecretHash(out)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

impl fmt::Display for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// SHA-256 of a client secret.
///
/// A fast hash is enough because generated secrets carry 256 bits of entropy: there is nothing to
/// brute-force. Comparison, `==` included, is constant-time.
#[derive(Clone)]
pub struct SecretHash([u8; 32]);

impl PartialEq for SecretHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretHash {}

impl SecretHash {
    /// Wraps a hash read back from the store; `None` unless it is exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The hash bytes, for the store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether `secret` hashes to this value, compared in constant time.
    pub fn matches(&self, secret: &ClientSecret) -> bool {
        self.0.ct_eq(&secret.hash().0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_carry_256_bits() {
        let s = ClientSecret::generate();
        let body = s.expose().strip_prefix("ks_").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
    }

    #[test]
    fn only_the_same_secret_matches() {
        let a = ClientSecret::generate();
        let b = ClientSecret::generate();
        assert!(a.hash().matches(&a));
        assert!(!a.hash().matches(&b));
        assert!(a.hash().matches(&ClientSecret::from_presented(a.expose())));
    }

    #[test]
    fn generated_secrets_have_the_documented_shape() {
        let s = ClientSecret::generate();
        assert_eq!(s.expose().len(), 3 + 43);
        assert!(s.expose().starts_with("ks_"));
    }

    #[test]
    fn nothing_prints_the_secret() {
        let s = ClientSecret::generate();
        assert!(!format!("{s:?}{s}{:?}", s.hash()).contains(&s.expose()[3..]));
    }
}
