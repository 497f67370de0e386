//! [`Knogin`]: the handle an embedder builds once and clones into every adapter.
//!
//! It stands above everything else: the shared core the capability handles borrow, and the
//! HTTP layer's own state. Nothing below imports it.

mod builder;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;

pub use self::builder::{
    BuildError, Builder, DEFAULT_BODY_LIMIT, DEFAULT_KEY_REFRESH, MAX_SECRET_ROTATION_GRACE,
    MAX_TOKEN_LIFETIME,
};
use crate::apps::Apps;
use crate::error::BoxError;
use crate::graphql::{BundleError, Bundles, GraphQlGate};
use crate::http::{ResponseBody, Route, Surfaces};
use crate::keys::MasterKey;
use crate::scope::ScopeCatalog;
use crate::shared::{Core, Keys, Tokens};
use crate::store::Store;
use crate::webhooks::Webhooks;

/// The contract, ready to serve: its store, clock, keys and settings.
///
/// Cheap to clone (two `Arc`s). Its capabilities are small borrowed handles:
/// [`apps`](Knogin::apps), [`tokens`](Knogin::tokens), [`keys`](Knogin::keys),
/// [`webhooks`](Knogin::webhooks) and [`graphql`](Knogin::graphql). It is a
/// `tower::Service` over `http::Request<B>` for any body `B` (see [`crate::http`]); the adapters
/// `knogin-axum` and `knogin-hyper` only mount it.
#[derive(Clone)]
pub struct Knogin {
    core: Core,
    http: Arc<crate::http::State>,
}

impl fmt::Debug for Knogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Knogin")
            .field("issuer", &self.core.issuer())
            .field("audiences", &self.core.audiences())
            .finish_non_exhaustive()
    }
}

impl Knogin {
    /// Starts building a handle for `issuer` (used verbatim as the tokens' `iss`), keeping its
    /// data in `store` and sealing private keys with `master_key`.
    ///
    /// ```no_run
    /// # async fn example(store: std::sync::Arc<dyn knogin_core::store::Store>) -> Result<(), knogin_core::BuildError> {
    /// use knogin_core::{Knogin, ScopeCatalog, keys::MasterKey};
    ///
    /// let knogin = Knogin::builder("https://auth.example", store, MasterKey::generate())
    ///     .scopes(ScopeCatalog::reference())
    ///     .build()
    ///     .await?;
    /// assert_eq!(knogin.issuer(), "https://auth.example");
    /// # Ok(()) }
    /// ```
    pub fn builder(
        issuer: impl Into<String>,
        store: Arc<dyn Store>,
        master_key: MasterKey,
    ) -> Builder {
        Builder::new(issuer.into(), store, master_key)
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        self.core.issuer()
    }

    /// The audiences access tokens may be issued for (RFC 8707 `resource`); the first is the
    /// default and this server's own.
    pub fn audiences(&self) -> &[String] {
        self.core.audiences()
    }

    /// Whether webhook targets may be plain http and non-public addresses (local testing).
    pub fn allows_private_webhook_targets(&self) -> bool {
        self.core.0.webhooks.allow_private_targets
    }

    /// The scope catalog.
    pub fn scopes(&self) -> &ScopeCatalog {
        self.core.scopes()
    }

    /// Registering and governing apps, and their client secrets.
    pub fn apps(&self) -> Apps<'_> {
        self.core.apps()
    }

    /// Minting, verifying and revoking tokens, and checking a request's bearer token.
    pub fn tokens(&self) -> Tokens<'_> {
        self.core.tokens()
    }

    /// The signing keys: the published JWKS, rotation, withdrawal and reloading.
    pub fn keys(&self) -> Keys<'_> {
        self.core.keys()
    }

    /// Webhook subscriptions, their deliveries, publishing events, and the delivery worker.
    pub fn webhooks(&self) -> Webhooks<'_> {
        self.core.webhooks()
    }

    /// Whether this handle can serve, for a readiness probe: it reloads the signing keys and
    /// revocations from the store now, so it fails when the store does not answer or the keys
    /// cannot be opened. Keep it off the public listener: it costs a few store reads.
    ///
    /// ```no_run
    /// # async fn example(knogin: knogin_core::Knogin) {
    /// match knogin.readiness().await {
    ///     Ok(()) => println!("ready"),
    ///     Err(why) => println!("not ready: {why}"),
    /// }
    /// # }
    /// ```
    pub async fn readiness(&self) -> Result<(), crate::keys::KeyRingError> {
        self.keys().reload().await
    }

    /// The GraphQL gate, if the embedder configured one ([`Builder::graphql`]).
    pub fn graphql(&self) -> Option<&GraphQlGate> {
        self.core.graphql()
    }

    /// Puts new GraphQL bundles in force on this handle (and its clones) at once, after the
    /// same checks as at build: scopes in the catalog, documents within the gate's limits.
    /// Requests already admitted finish on the old set.
    pub fn replace_graphql_bundles(&self, bundles: Bundles) -> Result<(), BundleError> {
        let gate = self.graphql().ok_or(BundleError::NoGate)?;
        gate.replace(bundles, self.core.scopes())
    }

    /// The routes this handle serves, in table order: every route but those of capabilities
    /// it was built without (`POST /graphql` needs [`Builder::graphql`]).
    pub fn routes(&self) -> impl Iterator<Item = &'static Route> + '_ {
        crate::http::served(&self.core)
    }

    /// Whether this handle serves any route of `surfaces` with this path, whatever the
    /// method: the hyper adapter uses it to decide between the contract and the embedder's own
    /// service.
    pub fn serves_path(&self, path: &str, surfaces: Surfaces) -> bool {
        crate::http::serves_path(&self.core, path, surfaces)
    }

    /// Answers one request. Never fails: every error is an HTTP answer in the route's format.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        crate::http::dispatch(&self.core, &self.http, request).await
    }

    /// The shared core, for the crate's own tests and test helpers.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// The HTTP layer's state, for its own tests.
    #[cfg(test)]
    pub(crate) fn http_state(&self) -> &Arc<crate::http::State> {
        &self.http
    }
}

impl<B> tower::Service<Request<B>> for Knogin
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let knogin = self.clone();
        Box::pin(async move { Ok(knogin.handle(request).await) })
    }
}
