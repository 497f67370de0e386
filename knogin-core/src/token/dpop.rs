//! DPoP (RFC 9449) as a request meets it: the headers, the algorithms, why a proof or a
//! DPoP-bound token was refused, and the parts of a request a proof is checked against.

use std::time::Duration;

use http::HeaderName;
pub use knogin_verifier::RequestHead;
pub use knogin_verifier::jose::{DPOP_ALGORITHMS, DPOP_HEADER};

/// The response header that carries a server nonce.
pub const DPOP_NONCE_HEADER: HeaderName = HeaderName::from_static("dpop-nonce");

/// How old a proof may be when it arrives.
pub const DPOP_PROOF_MAX_AGE: Duration = Duration::from_secs(300);

/// Why a request's DPoP proof, or the way it presented a DPoP-bound token, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopRejection {
    /// The proof is missing where it is needed, malformed, for another request, too old, used
    /// before, or for another key than the token's (`invalid_dpop_proof`).
    #[error("{0}")]
    Invalid(String),
    /// The proof lacks the current server nonce (`use_dpop_nonce`): retry with the nonce
    /// carried here, which the answer sends as `DPoP-Nonce`.
    #[error("this server requires a DPoP nonce: sign the proof again with the DPoP-Nonce sent")]
    UseNonce(String),
    /// A DPoP-bound token presented as `Authorization: Bearer` (`invalid_token`).
    #[error("this access token is DPoP-bound: present it as Authorization: DPoP with a DPoP proof")]
    BoundToken,
    /// A token that is not DPoP-bound presented as `Authorization: DPoP` (`invalid_token`).
    #[error("this access token is not DPoP-bound: present it as Authorization: Bearer")]
    UnboundToken,
}

impl DpopRejection {
    /// The OAuth error code: `invalid_dpop_proof`, `use_dpop_nonce` or `invalid_token`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_dpop_proof",
            Self::UseNonce(_) => "use_dpop_nonce",
            Self::BoundToken | Self::UnboundToken => "invalid_token",
        }
    }

    /// The nonce to send as `DPoP-Nonce`, for [`DpopRejection::UseNonce`].
    pub fn nonce(&self) -> Option<&str> {
        match self {
            Self::UseNonce(nonce) => Some(nonce),
            _ => None,
        }
    }
}
