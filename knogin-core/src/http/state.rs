//! What the HTTP layer keeps beside the shared core: how it reads requests, who signs users in,
//! and the documents it serves as they are.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderValue;

use super::docs::Docs;
use super::proxies::TrustedProxies;
#[cfg(feature = "password-login")]
use super::sign_in::PasswordLogin;
use super::users::UserAuthenticator;

/// The HTTP layer's own state, built once with the handle.
#[derive(Debug)]
pub(crate) struct State {
    /// The largest request body a route accepts unless it sets its own limit.
    pub(crate) body_limit: usize,
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub(crate) trusted_proxies: TrustedProxies,
    /// `Cache-Control` of the JWKS answers, built once.
    pub(crate) jwks_cache_control: HeaderValue,
    /// The RFC 8414 metadata document, serialized once.
    pub(crate) metadata: Bytes,
    /// The embedder's sign-in (or the built-in login's), for the routes that act for a person.
    pub(crate) users: Option<Arc<dyn UserAuthenticator>>,
    /// The built-in password login, if the embedder enabled it.
    #[cfg(feature = "password-login")]
    pub(crate) password_login: Option<Arc<PasswordLogin>>,
    /// The machine-readable docs: their settings, rendered once on first use.
    pub(crate) docs: Docs,
}
