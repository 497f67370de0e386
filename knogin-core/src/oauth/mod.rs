//! OAuth 2.0: the authorization request (pushed, RFC 9126, or not) and the user's consent, client authentication with its rate limit, the client-credentials grant, the
//! authorization-code grant with PKCE and rotating refresh tokens, service tokens,
//! token exchange (RFC 8693), introspection (RFC 7662), revocation (RFC 7009) and the authorization server metadata
//! (RFC 8414).
//!
//! Each policy is a plain function over the domain types (unit-tested with the in-memory store
//! and a manual clock); the methods on [`Knogin`](crate::Knogin) run one policy and the store
//! calls around it; the routes in [`crate::http`] parse and render.

mod authorize;
mod client_assertion;
mod client_auth;
mod client_cache;
mod client_jwks;
mod code;
mod consent;
mod description;
mod exchange;
mod grant;
mod introspect;
mod metadata;
mod par;
mod pkce;
mod service;
mod settings;
mod user;

pub use self::authorize::{
    AuthorizationRequest, AuthorizeError, ErrorRedirect, MAX_AUTHORIZATION_QUERY,
};
pub use self::client_assertion::{
    JWT_BEARER_ASSERTION, MAX_ASSERTION_BYTES, MAX_ASSERTION_LIFETIME,
};
pub use self::client_auth::ClientAuthError;
pub(crate) use self::client_cache::ClientCache;
pub use self::client_cache::DEFAULT_CLIENT_CACHE;
pub(crate) use self::client_jwks::ClientJwksCache;
pub use self::client_jwks::{CLIENT_JWKS_FETCH_TIMEOUT, MAX_CLIENT_JWKS_BYTES};
pub use self::code::{CodeRequest, FlowError};
pub use self::consent::CONSENT_TTL;
pub(crate) use self::description::error_description;
#[cfg(test)]
pub(crate) use self::description::is_valid as is_valid_error_description;
pub(crate) use self::exchange::Exchange;
pub use self::exchange::{ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE};
pub use self::grant::{GrantError, IssuedToken, granted_scopes};
pub(crate) use self::grant::{requested_within, required};
pub use self::introspect::Introspection;
pub(crate) use self::introspect::IntrospectionBody;
pub(crate) use self::metadata::{Metadata, metadata};
pub(crate) use self::par::PushFailure;
pub use self::par::{PUSHED_REQUEST_TTL, PushRefusal, PushedRequest, REQUEST_URI_PREFIX};
pub use self::pkce::{CodeChallenge, PkceError};
pub use self::service::{ServiceTokenError, ServiceTokenRequest};
pub(crate) use self::settings::{AuthLimit, FlowLifetimes, Lifetimes};
pub use self::settings::{
    DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_AUTH_FAILURES, DEFAULT_AUTH_WINDOW, DEFAULT_CODE_TTL,
    DEFAULT_MAX_TOKEN_TTL, DEFAULT_REFRESH_ABSOLUTE, DEFAULT_REFRESH_IDLE,
    DEFAULT_SERVICE_TOKEN_TTL, MAX_CODE_TTL, TokenLifetimes,
};
pub use self::user::SignedInUser;
