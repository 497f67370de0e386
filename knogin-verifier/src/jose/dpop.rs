//! DPoP proofs (RFC 9449 §4): the checks of one proof against the request it came with. What
//! needs state (that each `jti` is used once, server nonces) is the caller's.

use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use knogin_time::Timestamp;
use serde::Deserialize;

use super::{Jws, JwsError};
use crate::RequestHead;

/// The request header that carries a DPoP proof.
pub const DPOP_HEADER: http::HeaderName = http::HeaderName::from_static("dpop");

/// The JOSE `typ` of a DPoP proof.
pub const DPOP_PROOF_TYPE: &str = "dpop+jwt";

/// The algorithms a DPoP proof may be signed with, as metadata and challenges list them.
pub const DPOP_ALGORITHMS: &str = "ES256 EdDSA Ed25519 PS256 RS256";

/// The longest proof read, in bytes.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The longest `jti` taken.
const MAX_JTI_CHARS: usize = 256;

/// Why a DPoP proof was refused: the `error_description` of `invalid_dpop_proof`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// Not a JWS with a supported `alg` and a public `jwk`, or not signed by that key.
    #[error("the DPoP proof is not a signed JWT with a public jwk: {0}")]
    Jws(#[from] JwsError),
    /// The header's `typ` is not `dpop+jwt`, or it carries no `jwk`.
    #[error("the DPoP proof's header must have typ dpop+jwt and a jwk")]
    Header,
    /// A claim is missing or mistyped.
    #[error("the DPoP proof lacks jti, htm, htu or iat")]
    Claims,
    /// `htm` is not the request's method.
    #[error("the DPoP proof's htm is not the request's method")]
    Method,
    /// `htu` is not the request's URL.
    #[error("the DPoP proof's htu is not the request's URL")]
    Url,
    /// `iat` is too old, or ahead of this server's clock.
    #[error("the DPoP proof's iat is outside the accepted window")]
    Time,
    /// `ath` is missing or not the hash of the access token presented.
    #[error("the DPoP proof's ath does not match the access token")]
    AccessTokenHash,
    /// The request has more than one `DPoP` header, or one that is not text.
    #[error("send exactly one DPoP header, holding a JWT")]
    NotOneProof,
    /// The proof is signed by another key than the token is bound to.
    #[error("the DPoP proof is signed by another key than the access token is bound to")]
    OtherKey,
    /// A DPoP-bound token came without a proof.
    #[error("send the request's DPoP proof in a DPoP header")]
    Missing,
    /// The proof was taken before: a client makes a new one for each request.
    #[error("the DPoP proof was used before: make a new one for each request")]
    Reused,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// A proof that passed every stateless check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProof {
    /// The RFC 7638 thumbprint of the proof's key: what a bound token's `cnf.jkt` must be.
    pub jkt: String,
    /// The proof's `jti`, to be used once.
    pub jti: String,
    /// When it was made.
    pub iat: Timestamp,
    /// The server nonce it carries, if any.
    pub nonce: Option<String>,
}

/// What a proof must match: the request, and the window of time it may come from.
#[derive(Debug, Clone, Copy)]
pub struct ProofContext<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The URLs the request may have been made to, as clients reach this server (a public
    /// origin and the request's path): `htu` must be one of them.
    pub urls: &'a [&'a str],
    /// Now.
    pub now: Timestamp,
    /// How old a proof may be.
    pub max_age: Duration,
    /// The clock skew tolerated for a proof made "in the future".
    pub leeway: Duration,
    /// The access token presented with the proof, whose hash `ath` must be; `None` at the
    /// token endpoint.
    pub access_token: Option<&'a str>,
}

/// `base64url(SHA-256(token))`: a proof's `ath` for `token`.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()))
}

/// A URL without query and fragment, its scheme and host lowercased and a default port dropped:
/// the form `htu` is compared in (RFC 9449 §4.3, RFC 3986 §6.2.2, §6.2.3).
fn normalized(url: &str) -> Option<String> {
    let url = url.split(['#', '?']).next()?;
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let host = authority.host().to_ascii_lowercase();
    let port = match (scheme.as_str(), authority.port_u16()) {
        ("https", Some(443)) | ("http", Some(80)) | (_, None) => String::new(),
        (_, Some(port)) => format!(":{port}"),
    };
    let path = match uri.path() {
        "" => "/",
        path => path,
    };
    Some(format!("{scheme}://{host}{port}{path}"))
}

/// Checks `proof` (the `DPoP` header's value) against `context`: `typ`, `alg`, a public `jwk`
/// that verifies the signature, `htm`, `htu`, `iat` within the window, and `ath` when a token
/// is presented.
///
/// ```
/// use std::time::Duration;
/// use knogin_verifier::jose::{DpopError, ProofContext, check_proof};
/// use knogin_verifier::time::Timestamp;
///
/// let context = ProofContext {
///     method: "POST",
///     urls: &["https://auth.example/v1/oauth/token"],
///     now: Timestamp::from_unix(1_800_000_000),
///     max_age: Duration::from_secs(300),
///     leeway: Duration::from_secs(5),
///     access_token: None,
/// };
/// assert!(matches!(check_proof("not-a-jwt", &context), Err(DpopError::Jws(_))));
/// ```
pub fn check_proof(proof: &str, context: &ProofContext<'_>) -> Result<CheckedProof, DpopError> {
    let jws = Jws::parse(proof, MAX_PROOF_BYTES)?;
    let Some(key) = jws.jwk().filter(|_| jws.typ() == Some(DPOP_PROOF_TYPE)) else {
        return Err(DpopError::Header);
    };
    let payload = jws.verify(key)?;
    let claims: ProofClaims = serde_json::from_slice(payload).map_err(|_| DpopError::Claims)?;
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_CHARS {
        return Err(DpopError::Claims);
    }
    if claims.htm != context.method {
        return Err(DpopError::Method);
    }
    let presented = normalized(&claims.htu).ok_or(DpopError::Url)?;
    if !context
        .urls
        .iter()
        .any(|url| normalized(url).as_ref() == Some(&presented))
    {
        return Err(DpopError::Url);
    }
    let iat = Timestamp::from_unix(claims.iat);
    let oldest = Timestamp::from_unix(
        context
            .now
            .unix()
            .saturating_sub(i64::try_from(context.max_age.as_secs()).unwrap_or(i64::MAX)),
    );
    if iat < oldest || iat > context.now.plus(context.leeway) {
        return Err(DpopError::Time);
    }
    if let Some(token) = context.access_token
        && claims.ath.as_deref() != Some(access_token_hash(token).as_str())
    {
        return Err(DpopError::AccessTokenHash);
    }
    Ok(CheckedProof {
        jkt: key.thumbprint().to_owned(),
        jti: claims.jti,
        iat,
        nonce: claims.nonce,
    })
}

/// The URLs a request to `path` may have been made to: each of `origins` (the public origins
/// this server is reached at), and the origin the request names (its URI's authority or `Host`)
/// over HTTPS.
fn request_urls(request: &impl RequestHead, origins: &[&str]) -> Vec<String> {
    let path = request.uri().path();
    let named = request
        .uri()
        .authority()
        .map(http::uri::Authority::as_str)
        .or_else(|| {
            let host = request.headers().get(http::header::HOST)?;
            host.to_str().ok()
        })
        .map(|host| format!("https://{host}{path}"));
    origins
        .iter()
        .map(|origin| format!("{}{path}", origin.trim_end_matches('/')))
        .chain(named)
        .collect()
}

/// What [`check_request_proof`] checks a request's proof against, besides the request itself.
#[derive(Debug, Clone, Copy)]
pub struct RequestProofPolicy<'a> {
    /// The public origins this server is reached at (scheme and authority, as
    /// `https://api.example.com`); the origin the request names, over HTTPS, is accepted too.
    pub origins: &'a [&'a str],
    /// Now.
    pub now: Timestamp,
    /// How old a proof may be.
    pub max_age: Duration,
    /// The clock skew tolerated for a proof made "in the future".
    pub leeway: Duration,
}

/// The `DPoP` proof of `request`, checked as [`check_proof`] does against the request's method
/// and URL: `Ok(None)` without a `DPoP` header. `access_token` is the token presented with it
/// (`None` at a token endpoint). Single use of its `jti`, and nonces, are the caller's.
pub fn check_request_proof(
    request: &impl RequestHead,
    policy: &RequestProofPolicy<'_>,
    access_token: Option<&str>,
) -> Result<Option<CheckedProof>, DpopError> {
    let mut proofs = request.headers().get_all(DPOP_HEADER).iter();
    let Some(proof) = proofs.next() else {
        return Ok(None);
    };
    if proofs.next().is_some() {
        return Err(DpopError::NotOneProof);
    }
    let proof = proof.to_str().map_err(|_| DpopError::NotOneProof)?;
    let urls = request_urls(request, policy.origins);
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let context = ProofContext {
        method: request.method().as_str(),
        urls: &urls,
        now: policy.now,
        max_age: policy.max_age,
        leeway: policy.leeway,
        access_token,
    };
    check_proof(proof, &context).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_query_fragment_case_or_default_port() {
        let same = [
            (
                "https://Auth.Example:443/v1/oauth/token?x=1#f",
                "https://auth.example/v1/oauth/token",
            ),
            ("HTTP://127.0.0.1:80/a", "http://127.0.0.1/a"),
            ("https://a.example", "https://a.example/"),
        ];
        for (a, b) in same {
            assert_eq!(normalized(a), normalized(b), "{a}");
        }
        let different = [
            ("https://a.example/Path", "https://a.example/path"),
            ("https://a.example:8443/", "https://a.example/"),
            ("http://a.example/", "https://a.example/"),
        ];
        for (a, b) in different {
            assert_ne!(normalized(a), normalized(b), "{a}");
        }
        assert_eq!(normalized("/relative"), None);
    }
}
