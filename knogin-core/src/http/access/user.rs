//! The embedder's signed-in user: the embedder's session decides who that is.

use std::fmt;

use async_trait::async_trait;
use http::Response;
use http::request::Parts;

use crate::http::ResponseBody;
use crate::http::ctx::Ctx;
use crate::http::error::ApiError;

/// Who is signed in, as the embedder's session says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInUser {
    /// A stable identifier of the user, used as the `sub` of tokens issued for them.
    pub subject: String,
}

/// What to show someone who is not signed in: the embedder's login page, or a redirect to it.
#[derive(Debug)]
pub struct LoginStep(pub Response<ResponseBody>);

/// The embedder's sign-in, plugged into routes that act for a person (the authorization
/// endpoint). Given the request (its cookies, headers), return the signed-in user, or the login
/// step to show instead.
///
/// ```
/// use async_trait::async_trait;
/// use knogin_core::http::{LoginStep, SignedInUser, UserAuthenticator};
///
/// #[derive(Debug)]
/// struct SessionCookie;
///
/// #[async_trait]
/// impl UserAuthenticator for SessionCookie {
///     async fn authenticate(&self, request: &http::request::Parts) -> Result<SignedInUser, LoginStep> {
///         match request.headers.get("cookie").and_then(|c| c.to_str().ok()) {
///             Some(c) if c.contains("session=alice") => Ok(SignedInUser { subject: "alice".into() }),
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

/// The signed-in user, or the embedder's login step as the answer.
pub(super) async fn authenticate(ctx: Ctx) -> Result<(Ctx, SignedInUser), ApiError> {
    let Some(users) = ctx.knogin.users() else {
        return Err(ApiError::Forbidden(
            "This server has no sign-in configured, so no one can act here as a user.".into(),
        ));
    };
    match users.authenticate(&ctx.parts).await {
        Ok(user) => Ok((ctx, user)),
        Err(LoginStep(answer)) => Err(ApiError::Answer(Box::new(answer))),
    }
}
