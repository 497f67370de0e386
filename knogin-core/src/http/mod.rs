//! The contract over `http` types: [`Knogin`](crate::Knogin) is a
//! `tower::Service<http::Request<B>>` for any body `B`, so every adapter serves the same routes
//! and the same error bodies.
//!
//! ```
//! # async fn example(knogin: knogin_core::Knogin) {
//! use tower::ServiceExt as _;
//!
//! let request = http::Request::get("/.well-known/jwks.json")
//!     .body(http_body_util::Empty::<bytes::Bytes>::new())
//!     .unwrap();
//! let response = knogin.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # }
//! ```
//!
//! Each capability owns a module that contributes its rows to one route table ([`routes`]):
//! method, path, who may call it ([`Access`]), how it answers errors ([`ErrorFormat`]), and its
//! handler. The table is the one source that routing, the adapters, the tests and the docs read.
//!
//! This layer sits above the domain: it imports the capabilities and the shared core, and keeps
//! its own state (the sign-in, the trusted proxies, the docs, the body limit, the documents it
//! serves as they are), which the domain never sees.

mod access;
mod apps;
mod authorize;
mod body;
mod ctx;
pub mod docs;
pub(crate) mod error;
mod fields;
mod graphql;
mod html;
mod jwks;
mod oauth;
mod page;
mod proxies;
mod redirect;
mod reply;
mod route;
mod router;
mod scopes;
mod served;
#[cfg(feature = "password-login")]
mod sign_in;
mod state;
mod table;
#[cfg(test)]
mod tests;
mod topics;
mod users;
mod webhooks;
mod weighted;

pub use self::access::{
    Admin, AuthenticatedClient, Bearer, ClientAuthMethod, ClientRejection, Rejection, SignedInUser,
    TenantBearer,
};
pub use self::body::BoxError;
pub(crate) use self::error::Reply;
pub use self::error::{ErrorFormat, PROBLEM_JSON, not_found};
pub use self::proxies::{ClientAddr, InvalidProxyRange, TrustedProxies};
pub(crate) use self::redirect::redirect;
pub use self::reply::ResponseBody;
pub(crate) use self::reply::{json, json_bytes, json_no_store, no_store};
pub use self::route::{Access, Route, Surface, Surfaces};
pub use self::router::routes;
pub(crate) use self::router::{dispatch, served, serves_path};
pub use self::served::{CorrelationId, MatchedRoute};
#[cfg(feature = "password-login")]
pub(crate) use self::sign_in::PasswordLogin;
pub(crate) use self::state::State;
pub(crate) use self::topics::TOPICS;
pub use self::users::{LoginStep, UserAuthenticator};
