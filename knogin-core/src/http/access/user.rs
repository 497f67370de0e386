//! The guard of the routes that act for a person: the embedder's sign-in, as a [`Visitor`].

use std::sync::Arc;

use http::request::Parts;

use crate::http::ctx::Ctx;
use crate::http::error::ApiError;
use crate::http::users::{LoginStep, UserAuthenticator};
use crate::oauth::SignedInUser;

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
    let Some(users) = &ctx.http.users else {
        return Err(ApiError::Forbidden(
            "This server has no sign-in configured, so no one can act here as a user.".into(),
        ));
    };
    let visitor = Visitor(Arc::clone(users));
    Ok((ctx, visitor))
}
