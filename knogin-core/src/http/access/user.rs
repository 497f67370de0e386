//! The embedder's signed-in user: the embedder's session decides who that is.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use http::Response;
use http::request::Parts;

use crate::http::ResponseBody;
use crate::http::ctx::Ctx;
use crate::http::error::ApiError;
use crate::id::TenantId;

/// Who is signed in, as the embedder's session says, and the tenants they are a member of. A
/// user acts only within those tenants: for an app of any other tenant the authorization
/// endpoint answers `access_denied` to the client, whatever was consented before.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedInUser {
    /// A stable identifier of the user within their tenants, used as the `sub` of tokens
    /// issued for them (it means someone only together with the token's `tenant`).
    pub subject: String,
    /// The tenants the user is a member of.
    pub tenants: Vec<TenantId>,
}

impl SignedInUser {
    /// `subject`, a member of `tenants`.
    pub fn new(subject: impl Into<String>, tenants: impl IntoIterator<Item = TenantId>) -> Self {
        Self {
            subject: subject.into(),
            tenants: tenants.into_iter().collect(),
        }
    }

    /// Whether the user is a member of `tenant`.
    pub fn is_member_of(&self, tenant: &TenantId) -> bool {
        self.tenants.contains(tenant)
    }
}

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

/// Someone at the browser, who may or may not be signed in: a route that must check its request
/// before asking them to sign in (the authorization endpoint) calls [`Visitor::sign_in`] when
/// it is ready.
#[derive(Debug, Clone)]
pub(crate) struct Visitor(Arc<dyn UserAuthenticator>);

impl Visitor {
    /// The signed-in user, or the embedder's login step as the answer.
    pub(crate) async fn sign_in(&self, request: &Parts) -> Result<SignedInUser, ApiError> {
        self.0
            .authenticate(request)
            .await
            .map_err(|LoginStep(answer)| ApiError::Answer(Box::new(answer)))
    }
}

/// The embedder's sign-in, as a [`Visitor`]; without one, no one can act as a user here.
pub(super) async fn visitor(ctx: Ctx) -> Result<(Ctx, Visitor), ApiError> {
    let Some(users) = ctx.knogin.users() else {
        return Err(ApiError::Forbidden(
            "This server has no sign-in configured, so no one can act here as a user.".into(),
        ));
    };
    let visitor = Visitor(Arc::clone(users));
    Ok((ctx, visitor))
}
