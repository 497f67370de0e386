//! Verify knogin access tokens in a resource server that is not the issuer, and Standard
//! Webhooks signatures in a receiver.
//!
//! This crate is the integrator's half of knogin, on its own: no store, login, GraphQL or docs,
//! and no web framework unless you ask for one.
//!
//! * [`Verifier`] checks a token against the issuer's published JWKS: the size cap before any
//!   parsing, `typ: at+jwt`, the key's own algorithm only (never `none`, never HMAC), the
//!   signature, `iss`, `aud`, `exp`/`nbf`/`iat` with a leeway, the scope a route needs and,
//!   with a [`RevocationCheck`], whether the issuer still considers it active. Each refusal is a
//!   [`VerifyError`] that renders as RFC 6750 with an RFC 9457 problem body.
//! * [`JwksCache`] holds the issuer's keys, refreshing on its `Cache-Control` within bounds and
//!   at most once per interval on an unknown `kid`; `HttpJwksFetcher` (feature `fetch`) gets
//!   them over HTTPS, and `IntrospectionCheck` (feature `fetch`) asks the issuer about
//!   revocations.
//! * [`Verifier::verify_request`] takes a token as `Authorization: Bearer`, or a DPoP-bound one
//!   (RFC 9449) as `Authorization: DPoP` with a proof of the request by its key, each proof taken
//!   once through a [`ProofReplay`]; [`jose`] holds the JWS, JWK and DPoP checks it is built on.
//! * [`VerifyLayer`] is a tower layer over any `http::Request<B>`: hyper, tonic and axum alike.
//!   With the `axum` feature, `axum::Verified` is an extractor that also states the scope.
//! * [`ProtectedResource`] is the RFC 9728 metadata a resource server publishes.
//! * [`webhooks::Receiver`] checks a Standard Webhooks delivery (constant time, timestamp
//!   tolerance, several signatures).
//!
//! The issuer (`knogin-core`) reads its own bearer tokens through the same
//! [`UnverifiedToken`] and [`check_times`], so the two sides judge a token alike.
//!
//! # Example
//!
//! A hyper service behind [`VerifyLayer`], answering with the tenant of the verified token:
//!
//! ```no_run
//! # #[cfg(feature = "fetch")]
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use knogin_verifier::{AccessClaims, CacheSettings, HttpJwksFetcher, JwksCache, Verifier, VerifyLayer};
//! use knogin_time::SystemClock;
//! use tower::ServiceBuilder;
//!
//! let issuer = "https://auth.example.com";
//! let fetcher = HttpJwksFetcher::discover(issuer).await?;
//! let keys = JwksCache::new(Arc::new(fetcher), Arc::new(SystemClock), CacheSettings::default());
//! let verifier = Arc::new(Verifier::new(issuer, Arc::new(keys)));
//!
//! let service = ServiceBuilder::new()
//!     .layer(VerifyLayer::new(verifier, Some("incidents:read")))
//!     .service_fn(|request: http::Request<hyper::body::Incoming>| async move {
//!         let claims = request.extensions().get::<AccessClaims>().expect("set by the layer");
//!         let body = Full::new(Bytes::from(format!("incidents of {}", claims.tenant)));
//!         Ok::<_, std::convert::Infallible>(http::Response::new(body))
//!     });
//! # let _ = service;
//! # Ok(()) }
//! ```
//!
//! # Features
//! * `fetch` (default): `HttpJwksFetcher` and `IntrospectionCheck`, on hyper's client with
//!   rustls (aws-lc-rs, web PKI roots; no system OpenSSL).
//! * `axum`: the `axum::Verified` extractor and the `axum::protected_resource` router.
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
pub mod axum;
mod cache;
mod claims;
mod error;
#[cfg(feature = "fetch")]
mod fetch;
pub mod jose;
mod keys;
mod layer;
mod protected_resource;
mod replay;
mod request;
mod verifier;
pub mod webhooks;

pub use self::cache::{CacheSettings, FetchedJwks, JwksCache, JwksFetcher};
pub use self::claims::{
    AccessClaims, ActorClaim, Audience, Confirmation, UnverifiedToken, check_times,
    is_access_token_type,
};
pub use self::error::VerifyError;
#[cfg(feature = "fetch")]
pub use self::fetch::{
    DEFAULT_FETCH_TIMEOUT, DEFAULT_INTROSPECTION_CACHE, DEFAULT_INTROSPECTION_CAPACITY,
    DEFAULT_MAX_DOCUMENT_BYTES, FetchError, HttpJwksFetcher, IntrospectionCheck, https_connector,
};
pub use self::keys::{PublicKeys, VerifyingKey};
pub use self::layer::{RequiredScope, VerifyLayer, VerifyService};
pub use self::protected_resource::{PROTECTED_RESOURCE_PATH, ProtectedResource};
pub use self::replay::{DEFAULT_PROOF_REPLAY_CAPACITY, MemoryProofReplay, ProofReplay};
pub use self::request::{NoToken, RequestHead, TokenScheme, presented_token};
pub use self::verifier::{
    DEFAULT_DPOP_MAX_AGE, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_BYTES, KeySource, RevocationCheck,
    Verifier,
};
pub use knogin_time as time;

/// The body of the answers this crate builds (refusals, the RFC 9728 metadata).
pub type ResponseBody = http_body_util::Full<bytes::Bytes>;

/// The media type of an RFC 9457 problem body.
const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 6750 `WWW-Authenticate: Bearer` challenge with these auth-params, in order. A value
/// that cannot be a quoted-string as it is (anything but visible ASCII and spaces, or a quote or
/// backslash) is left out rather than break the header.
///
/// ```
/// let challenge = knogin_verifier::bearer_challenge(&[
///     ("error", "insufficient_scope"),
///     ("scope", "incidents:read"),
///     ("error_description", "not\nquotable"),
/// ]);
/// assert_eq!(challenge, r#"Bearer error="insufficient_scope", scope="incidents:read""#);
/// ```
pub fn bearer_challenge(params: &[(&str, &str)]) -> http::HeaderValue {
    challenge("Bearer", params)
}

/// An RFC 9449 §7.1 `WWW-Authenticate: DPoP` challenge with these auth-params, in order, left
/// out as [`bearer_challenge`] leaves them.
///
/// ```
/// let challenge = knogin_verifier::dpop_challenge(&[("algs", "ES256 EdDSA")]);
/// assert_eq!(challenge, r#"DPoP algs="ES256 EdDSA""#);
/// ```
pub fn dpop_challenge(params: &[(&str, &str)]) -> http::HeaderValue {
    challenge("DPoP", params)
}

fn challenge(scheme: &'static str, params: &[(&str, &str)]) -> http::HeaderValue {
    use std::fmt::Write as _;

    let quotable = |value: &str| {
        value
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    };
    let mut challenge = String::from(scheme);
    for (i, (name, value)) in params.iter().filter(|(_, v)| quotable(v)).enumerate() {
        let separator = if i == 0 { " " } else { ", " };
        let _ = write!(challenge, r#"{separator}{name}="{value}""#);
    }
    http::HeaderValue::from_str(&challenge)
        .unwrap_or_else(|_| http::HeaderValue::from_static(scheme))
}
