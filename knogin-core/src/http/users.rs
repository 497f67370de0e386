//! The embedder's sign-in: its session decides who is signed in, and what to show who is not.

use std::fmt;

use async_trait::async_trait;
use http::Response;
use http::request::Parts;

use super::reply::ResponseBody;
use crate::oauth::SignedInUser;

/// What to show someone who is not signed in: the embedder's login page, or a redirect to it.
#[derive(Debug)]
pub struct LoginStep(pub Response<ResponseBody>);

/// The embedder's sign-in, plugged into routes that act for a person (the authorization
/// endpoint). Given the request (its cookies, headers), return the signed-in user with the
/// tenants they are a member of, or the login step to show instead.
///
/// ```
/// use async_trait::async_trait;
/// use knogin_core::TenantId;
/// use knogin_core::http::{LoginStep, SignedInUser, UserAuthenticator};
///
/// #[derive(Debug)]
/// struct SessionCookie;
///
/// #[async_trait]
/// impl UserAuthenticator for SessionCookie {
///     async fn authenticate(&self, request: &http::request::Parts) -> Result<SignedInUser, LoginStep> {
///         match request.headers.get("cookie").and_then(|c| c.to_str().ok()) {
///             Some(c) if c.contains("session=alice") => Ok(SignedInUser::new(
///                 "alice",
///                 [TenantId::parse("acme").unwrap()],
///             )),
///             _ => Err(LoginStep(http::Response::builder()
///                 .status(302)
///                 .header("location", "/login")
///                 .body(Default::default())
///                 .unwrap())),
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait UserAuthenticator: Send + Sync + fmt::Debug {
    /// The user the request is signed in as, or the login step to show.
    async fn authenticate(&self, request: &Parts) -> Result<SignedInUser, LoginStep>;
}
