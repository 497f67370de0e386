//! PKCE (RFC 7636), S256 only: `plain` gives no protection against a code intercepted on its way
//! back, so it is refused (RFC 9700 §2.1.1).

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;

/// A `code_challenge` with method `S256`: 43 base64url characters, the encoding of a SHA-256.
///
/// ```
/// use knogin_core::oauth::CodeChallenge;
///
/// // RFC 7636 Appendix B.
/// let challenge = CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Some("S256")).unwrap();
/// assert!(challenge.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
/// assert!(!challenge.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"));
/// assert!(CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Some("plain")).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

/// Why a `code_challenge` is refused. Each message is safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkceError {
    /// The method is not `S256` (or is missing, which RFC 7636 reads as `plain`).
    #[error("code_challenge_method must be S256")]
    UnsupportedMethod,
    /// The challenge is not 43 base64url characters.
    #[error("code_challenge must be the base64url encoding (43 characters) of a SHA-256 hash")]
    Malformed,
}

impl CodeChallenge {
    /// The challenge of an authorization request, with its `code_challenge_method`.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, PkceError> {
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        let decodes = URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32);
        if challenge.len() != 43 || !decodes {
            return Err(PkceError::Malformed);
        }
        Ok(Self(challenge.to_owned()))
    }

    /// Wraps a challenge read back from the store.
    pub fn from_stored(challenge: String) -> Self {
        Self(challenge)
    }

    /// The challenge as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` (43 to 128 unreserved characters, RFC 7636 §4.1) is the one this
    /// challenge was made from, compared in constant time.
    pub fn verify(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let digest = digest::digest(&digest::SHA256, verifier.as_bytes());
        let computed = URL_SAFE_NO_PAD.encode(digest.as_ref());
        well_formed && bool::from(computed.as_bytes().ct_eq(self.0.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_challenges_and_verifiers_are_refused() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
        ] {
            assert_eq!(
                CodeChallenge::parse(bad, Some("S256")),
                Err(PkceError::Malformed),
                "{bad}"
            );
        }
        let ok = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            CodeChallenge::parse(ok, None),
            Err(PkceError::UnsupportedMethod)
        );
        let challenge = CodeChallenge::parse(ok, Some("S256")).unwrap();
        assert!(!challenge.verify("too-short"));
        assert!(!challenge.verify(&"a".repeat(129)));
    }
}
