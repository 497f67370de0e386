//! Generated credentials (client secrets, authorization codes, refresh tokens): 256 bits of
//! randomness, shown once, stored as a hash.

use std::fmt;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::random;

/// Defines a newtype for an opaque credential generated here with 256 random bits behind a
/// recognisable prefix, shown once and stored only as its [`SecretHash`]. Its `Debug` and
/// `Display` print `[redacted]`, and it is zeroized when dropped.
macro_rules! opaque_secret {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        pub struct $name(SecretString);

        impl $name {
            /// The prefix every generated value carries, so a leaked one is recognisable in a scan.
            pub const PREFIX: &'static str = $prefix;

            /// A new value: the prefix followed by 32 random bytes in unpadded base64url, built
            /// in buffers wiped after use.
            pub fn generate() -> Self {
                Self(random_text(Self::PREFIX))
            }

            /// Wraps a value presented by a client, to check it against a stored hash.
            pub fn from_presented(s: &str) -> Self {
                Self(SecretString::from(s.to_owned()))
            }

            /// The value in clear.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }

            /// The hash the store keeps in its place.
            pub fn hash(&self) -> SecretHash {
                SecretHash::of(self.expose())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }
    };
}

/// `prefix` and 32 random bytes in unpadded base64url.
fn random_text(prefix: &str) -> SecretString {
    let raw = Zeroizing::new(random::bytes::<32>());
    // Sized up front, so the text is never reallocated (and no unwiped copy is left behind).
    let mut text = String::with_capacity(prefix.len() + 43);
    text.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(*raw, &mut text);
    SecretString::from(text)
}

opaque_secret!(
    /// A client secret in clear, as handed to the integrator once. Read it with
    /// [`ClientSecret::expose`] at the one place that must show it.
    ///
    /// ```
    /// use knogin_core::ClientSecret;
    ///
    /// let secret = ClientSecret::generate();
    /// assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
    /// assert!(secret.hash().matches(secret.expose()));
    /// ```
    ClientSecret,
    "ks_"
);

opaque_secret!(
    /// An authorization code (RFC 6749 §4.1.2): single-use, short-lived, stored as its hash.
    AuthorizationCode,
    "kc_"
);

opaque_secret!(
    /// A refresh token: opaque, rotated on every use, stored as its hash.
    RefreshToken,
    "kr_"
);

opaque_secret!(
    /// A token a browser holds during the authorization flow: its session cookie, or a login or
    /// consent form's CSRF token. Stored only as its hash.
    FlowToken,
    "kf_"
);

/// SHA-256 of a generated credential (a client secret, an authorization code, a refresh token).
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

impl std::hash::Hash for SecretHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl SecretHash {
    /// Wraps a hash read back from the store; `None` unless it is exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The hash bytes, for the store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The hash of `text`.
    pub fn of(text: &str) -> Self {
        let d = digest::digest(&digest::SHA256, text.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    /// The first 16 bytes as 32 lowercase hex digits: a short, plain name for what was hashed
    /// (a rate-limit key, a fingerprint), never the secret itself.
    #[cfg(feature = "password-login")]
    pub(crate) fn short_hex(&self) -> String {
        self.0[..16]
            .iter()
            .fold(String::with_capacity(32), |mut out, b| {
                use std::fmt::Write as _;
                let _ = write!(out, "{b:02x}");
                out
            })
    }

    /// Whether `presented` hashes to this value, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.ct_eq(&Self::of(presented).0).into()
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
        assert!(a.hash().matches(a.expose()));
        assert!(!a.hash().matches(b.expose()));
        assert_eq!(a.hash(), ClientSecret::from_presented(a.expose()).hash());
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
