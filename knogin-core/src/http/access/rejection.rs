//! Why a client's authentication (RFC 6749 §2.3.1) was refused.

use std::time::Duration;

/// Why client authentication failed. An unknown client and a wrong secret are the same failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientRejection {
    /// The request carries no client credentials.
    #[error(
        "the request carries no client credentials: use HTTP Basic, or client_id and client_secret in the body"
    )]
    Missing,
    /// The credentials do not name a client with that secret.
    #[error("client authentication failed")]
    Failed {
        /// Whether the client used HTTP Basic (the answer then carries a `Basic` challenge).
        basic: bool,
    },
    /// The client id failed too often in the current window; the credentials were not checked.
    #[error(
        "client authentication failed too often; try again in {} seconds",
        retry_after.as_secs()
    )]
    Limited {
        /// Whether the client used HTTP Basic.
        basic: bool,
        /// How long until it may try again (the answer's `Retry-After`).
        retry_after: Duration,
    },
}

impl ClientRejection {
    /// The HTTP status: 401, or 429 when the caller was rate-limited.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Limited { .. } => http::StatusCode::TOO_MANY_REQUESTS,
            _ => http::StatusCode::UNAUTHORIZED,
        }
    }

    /// Whether the client tried HTTP Basic, so the 401 must carry `WWW-Authenticate: Basic`.
    pub fn used_basic(&self) -> bool {
        matches!(
            self,
            Self::Failed { basic: true } | Self::Limited { basic: true, .. }
        )
    }

    /// How long the client must wait before trying again, when it was rate-limited.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Limited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}
