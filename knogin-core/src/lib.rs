//! The Knogin external integration contract, framework-agnostic.
//!
//! `knogin-core` owns the domain (tenants, apps, scopes, client secrets, signing keys, tokens),
//! the policies over it (plain functions you can unit-test with a [`ManualClock`] and the
//! in-memory store), and the contract's routes over [`http`] types: [`Knogin`] is a
//! `tower::Service<http::Request<B>>` for any body. It reads no system clock, opens no socket
//! and talks to no database itself: time comes from a [`Clock`], storage from the
//! [`store`] traits.
//!
//! Mount it with `knogin-axum` or `knogin-hyper`, or call [`Knogin::handle`] yourself.
//!
//! # Features
//! * `password-login` (default): the built-in login form, with argon2id password hashes.
//! * `async-graphql` (default): [`graphql::AsyncGraphQl`], the executor that runs the GraphQL
//!   gate's admitted operations on an async-graphql schema, and the demo of [`graphql::reference`](mod@graphql::reference).
//! * `test-util`: the in-memory store (`store::memory`), the store conformance suite
//!   (`store::conformance`) and fixture keys (`testing`); the facade forwards it as
//!   `knogin/test-util`.
#![forbid(unsafe_code)]

mod address;
pub mod apps;
pub mod clock;
pub mod docs;
pub mod graphql;
pub mod http;
mod id;
pub mod keys;
mod knogin;
#[cfg(feature = "password-login")]
pub mod login;
pub mod oauth;
mod random;
pub mod scope;
mod secret;
pub mod store;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod token;
pub mod validation;
pub mod webhooks;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use id::{AppId, DeliveryId, EventId, KeyId, TenantId, WebhookId};
pub use keys::SigningAlgorithm;
pub use knogin::{
    BuildError, Builder, DEFAULT_ADMIN_TOKEN_TTL, DEFAULT_BODY_LIMIT, DEFAULT_KEY_REFRESH, Keys,
    Knogin, MAX_ADMIN_TOKEN_TTL, MAX_SECRET_ROTATION_GRACE, MAX_TOKEN_LIFETIME, MintError, Tokens,
};
pub use scope::{ADMIN_SCOPE, Scope, ScopeCatalog, ScopeSet, ScopeToken};
pub use secret::{AuthorizationCode, ClientSecret, FlowToken, RefreshToken, SecretHash};
