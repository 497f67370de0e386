//! Who may call a route, and the principal its handler then receives.
//!
//! A route's guard is one of the functions here ([`public`], [`admin`], [`bearer()`],
//! [`tenant_bearer`], [`client()`], [`user()`]). Each takes a handler whose second parameter is the
//! principal that guard produces, so a handler cannot be mounted behind a guard that does not
//! give it what it asks for: the mismatch does not compile. The guard runs before the handler and
//! answers 401/403 (in the route's error format) when the caller does not qualify.

mod bearer;
mod client;
pub(super) mod rejection;
mod user;

use std::future::Future;

use futures_util::future::BoxFuture;

pub use self::bearer::TenantBearer;
pub use self::client::{AuthenticatedClient, ClientAuthMethod};
pub use self::rejection::ClientRejection;
pub(crate) use self::user::Visitor;
use super::ctx::Ctx;
use super::error::ApiError;
use super::error::Reply;
use super::route::Access;
pub use crate::oauth::SignedInUser;
pub use crate::token::{Admin, Bearer, Rejection};

/// A route's handler behind its guard, type-erased for the table.
pub(crate) type Run = Box<dyn Fn(Ctx) -> BoxFuture<'static, Reply> + Send + Sync>;

/// A guard with its handler: what a row of the table runs.
pub(crate) struct Guarded {
    pub(crate) access: Access,
    pub(crate) run: Run,
}

/// `handler` behind `guard`: the guard turns the request into the principal (or an answer), then
/// the handler runs with it.
fn guarded<P, G, GF, H, F>(access: Access, guard: G, handler: H) -> Guarded
where
    P: Send + 'static,
    G: Fn(Ctx) -> GF + Copy + Send + Sync + 'static,
    GF: Future<Output = Result<(Ctx, P), ApiError>> + Send + 'static,
    H: Fn(Ctx, P) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    Guarded {
        access,
        run: Box::new(move |ctx| {
            Box::pin(async move {
                let (ctx, principal) = guard(ctx).await?;
                handler(ctx, principal).await
            })
        }),
    }
}

/// Runs `handler` for anyone.
pub(crate) fn public<H, F>(handler: H) -> Guarded
where
    H: Fn(Ctx) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    Guarded {
        access: Access::Public,
        run: Box::new(move |ctx| Box::pin(handler(ctx))),
    }
}

/// Runs `handler` for the holder of an admin token.
pub(crate) fn admin<H, F>(handler: H) -> Guarded
where
    H: Fn(Ctx, Admin) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    guarded(Access::Admin, bearer::admin, handler)
}

/// Runs `handler` for the holder of an access or service token carrying `scope`.
pub(crate) fn bearer<H, F>(scope: &'static str, handler: H) -> Guarded
where
    H: Fn(Ctx, Bearer) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    guarded(
        Access::Bearer { scope },
        move |ctx| bearer::scoped(ctx, scope),
        handler,
    )
}

/// Runs `handler` for the holder of an access or service token whose tenant the `X-Tenant-ID`
/// header names; the handler checks the scopes what it is asked for needs.
pub(crate) fn tenant_bearer<H, F>(handler: H) -> Guarded
where
    H: Fn(Ctx, TenantBearer) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    guarded(Access::TenantBearer, bearer::tenant, handler)
}

/// Runs `handler` for an OAuth client that authenticated with `client_secret_basic` or
/// `client_secret_post`. The route's body is form-encoded.
pub(crate) fn client<H, F>(handler: H) -> Guarded
where
    H: Fn(Ctx, AuthenticatedClient) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    guarded(Access::Client, client::authenticate, handler)
}

/// Runs `handler` for a [`Visitor`] of a server with a sign-in (the embedder's, or the built-in
/// login): the handler checks what it must, then asks for the signed-in user, and anyone not
/// signed in gets the login step.
pub(crate) fn user<H, F>(handler: H) -> Guarded
where
    H: Fn(Ctx, Visitor) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    guarded(Access::User, user::visitor, handler)
}
