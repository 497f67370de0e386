//! Why a resource server refuses a token, and the RFC 6750 answer each refusal maps to.

use http::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

use crate::PROBLEM_JSON;
use crate::ResponseBody;
use crate::jose::DpopError;

/// Why a bearer token was refused. Every variant but [`VerifyError::InsufficientScope`] is an
/// RFC 6750 `invalid_token` (401); that one is `insufficient_scope` (403). Messages are safe to
/// show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization: Bearer` header (RFC 6750 §3.1: a bare challenge, no error code).
    #[error("the request carries no bearer token")]
    Missing,
    /// Longer than the verifier's limit: refused unread.
    #[error("the token is longer than {0} bytes")]
    TooLarge(usize),
    /// Not a compact JWS with a JSON header and claims of the expected shape (an `alg` of `none`
    /// included).
    #[error("the token is not a well-formed access token")]
    Malformed,
    /// The header's `typ` is not `at+jwt` (RFC 9068).
    #[error("the token is not an access token")]
    WrongType,
    /// No key of the issuer's JWKS has the token's `kid`, even after a refresh.
    #[error("the token is not signed by a key the issuer publishes")]
    UnknownKey,
    /// The header names another algorithm than its key's (e.g. HS256 with the public key).
    #[error("the token's algorithm is not its key's")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
    /// `iss` is not the issuer this resource server trusts.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not name this resource server.
    #[error("the token is not meant for this resource server")]
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The token is valid but lacks the scope the resource needs.
    #[error("the token lacks the {0} scope")]
    InsufficientScope(String),
    /// The issuer says the token is no longer active (revoked, its app or tenant cut off, or
    /// its key withdrawn): only with a [`RevocationCheck`](super::RevocationCheck).
    #[error("the token has been revoked")]
    Revoked,
    /// The issuer could not be asked whether the token is still active, so it is refused.
    #[error("the token's status could not be checked with its issuer")]
    StatusUnknown,
    /// The DPoP proof of a DPoP-bound token is missing or fails a check (RFC 9449 §7.1:
    /// `invalid_dpop_proof`).
    #[error(transparent)]
    Dpop(#[from] DpopError),
    /// A DPoP-bound token presented as `Authorization: Bearer`.
    #[error("the token is DPoP-bound: present it as Authorization: DPoP with a DPoP proof")]
    DpopBound,
    /// A token that is not DPoP-bound presented as `Authorization: DPoP`.
    #[error("the token is not DPoP-bound: present it as Authorization: Bearer")]
    NotDpopBound,
    /// The proof could not be recorded as used (the [`ProofReplay`](crate::ProofReplay)
    /// failed), so it is refused.
    #[error("the DPoP proof could not be checked for reuse")]
    ReplayUnknown,
}

impl VerifyError {
    /// 401 for an unusable token, 403 for a missing scope.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// A short, stable name for the kind of refusal: the problem `type` is
    /// `urn:knogin:problem:{slug}`, as on the issuer's own routes.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Missing => "unauthorized",
            Self::InsufficientScope(_) => "insufficient-scope",
            Self::Dpop(_) | Self::ReplayUnknown => "invalid-dpop-proof",
            _ => "invalid-token",
        }
    }

    /// Whether the refusal is about a DPoP binding, answered with a `DPoP` challenge.
    fn is_dpop(&self) -> bool {
        matches!(
            self,
            Self::Dpop(_) | Self::DpopBound | Self::NotDpopBound | Self::ReplayUnknown
        )
    }

    /// The RFC 6750 `WWW-Authenticate` challenge (RFC 9449 §7.1's `DPoP` one for a refused
    /// DPoP binding), with RFC 9728's `resource_metadata` when the resource publishes its
    /// metadata at that URL.
    pub fn challenge(&self, resource_metadata: Option<&str>) -> HeaderValue {
        let description = self.to_string();
        let mut params: Vec<(&str, &str)> = Vec::new();
        match self {
            Self::Missing => {}
            Self::InsufficientScope(scope) => {
                params.push(("error", "insufficient_scope"));
                params.push(("scope", scope));
            }
            Self::Dpop(_) | Self::ReplayUnknown => {
                params.push(("error", "invalid_dpop_proof"));
                params.push(("error_description", &description));
            }
            _ => {
                params.push(("error", "invalid_token"));
                params.push(("error_description", &description));
            }
        }
        if let Some(url) = resource_metadata {
            params.push(("resource_metadata", url));
        }
        if self.is_dpop() {
            params.push(("algs", crate::jose::DPOP_ALGORITHMS));
            crate::dpop_challenge(&params)
        } else {
            crate::bearer_challenge(&params)
        }
    }

    /// The whole answer: the status, the challenge, and an RFC 9457 problem body saying why.
    pub fn into_response(self, resource_metadata: Option<&str>) -> Response<ResponseBody> {
        let missing = self == Self::Missing;
        let body = serde_json::json!({
            "type": format!("urn:knogin:problem:{}", self.slug()),
            "title": self.status().canonical_reason().unwrap_or("Unauthorized"),
            "status": self.status().as_u16(),
            "detail": self.to_string(),
        });
        let mut response = Response::new(ResponseBody::from(body.to_string()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(WWW_AUTHENTICATE, self.challenge(resource_metadata));
        if missing {
            // Either scheme is welcome (RFC 9449 §7.1).
            let mut params = vec![("algs", crate::jose::DPOP_ALGORITHMS)];
            params.extend(resource_metadata.map(|url| ("resource_metadata", url)));
            headers.append(WWW_AUTHENTICATE, crate::dpop_challenge(&params));
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn problem_types_are_the_issuer_s() {
        use http_body_util::BodyExt as _;
        let cases = [
            (VerifyError::Missing, "urn:knogin:problem:unauthorized"),
            (VerifyError::Expired, "urn:knogin:problem:invalid-token"),
            (
                VerifyError::InsufficientScope("incidents:read".into()),
                "urn:knogin:problem:insufficient-scope",
            ),
        ];
        for (error, expected) in cases {
            let body = error
                .into_response(None)
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes();
            let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(problem["type"], expected);
        }
    }

    #[test]
    fn challenges_follow_rfc_6750_and_9728() {
        assert_eq!(VerifyError::Missing.challenge(None), "Bearer");
        assert_eq!(
            VerifyError::Expired.challenge(Some(
                "https://rs.example/.well-known/oauth-protected-resource"
            )),
            r#"Bearer error="invalid_token", error_description="the token has expired", resource_metadata="https://rs.example/.well-known/oauth-protected-resource""#
        );
        let scope = VerifyError::InsufficientScope("incidents:read".into());
        assert_eq!(scope.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            scope.challenge(None),
            r#"Bearer error="insufficient_scope", scope="incidents:read""#
        );
    }
}
