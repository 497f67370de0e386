//! A subscription's signing secret in the Standard Webhooks form: `whsec_` and the base64 of
//! 24 to 64 random bytes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::random;

/// A webhook signing secret: its raw bytes, shown once as `whsec_…`, stored sealed. `Debug` and
/// `Display` print `[redacted]`; the bytes are wiped when it is dropped.
///
/// ```
/// use knogin_core::webhooks::WebhookSecret;
///
/// let secret = WebhookSecret::generate();
/// assert!(secret.expose().starts_with("whsec_"));
/// assert!(WebhookSecret::parse(&secret.expose()).is_some());
/// assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_none()); // 5 bytes: too short
/// ```
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl WebhookSecret {
    /// The prefix of the text form.
    pub const PREFIX: &'static str = "whsec_";
    /// The fewest bytes a secret may have.
    pub const MIN_BYTES: usize = 24;
    /// The most.
    pub const MAX_BYTES: usize = 64;

    /// A new secret of 32 random bytes.
    pub fn generate() -> Self {
        Self(Zeroizing::new(random::bytes::<32>().to_vec()))
    }

    /// Parses `whsec_<base64>` of 24 to 64 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(Self::PREFIX)?;
        let bytes = Zeroizing::new(STANDARD.decode(encoded).ok()?);
        (Self::MIN_BYTES..=Self::MAX_BYTES)
            .contains(&bytes.len())
            .then(|| Self(bytes))
    }

    /// Wraps bytes opened from the store.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw bytes (what signatures are keyed with, and what is sealed).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text form, `whsec_…`, to show once.
    pub fn expose(&self) -> Zeroizing<String> {
        let mut text = String::from(Self::PREFIX);
        STANDARD.encode_string(&*self.0, &mut text);
        Zeroizing::new(text)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
