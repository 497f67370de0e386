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
//! # Example
//!
//! A handle on any store, its capabilities through [`Knogin::apps`], [`Knogin::tokens`],
//! [`Knogin::keys`] and [`Knogin::webhooks`], and a request answered with no server at all:
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use knogin_core::keys::MasterKey;
//! use knogin_core::store::Store;
//! use knogin_core::webhooks::EventCatalog;
//! use knogin_core::{Knogin, ScopeCatalog, TenantId};
//!
//! # async fn example(store: Arc<dyn Store>) -> Result<(), Box<dyn std::error::Error>> {
//! let knogin = Knogin::builder("https://auth.example.com", store, MasterKey::generate())
//!     .scopes(ScopeCatalog::reference())
//!     .events(EventCatalog::reference())
//!     .build()
//!     .await?;
//!
//! let acme = TenantId::parse("acme").ok_or("not a tenant id")?;
//! let admin = knogin.tokens().mint_admin(&acme, Duration::from_secs(600)).await?;
//! let (_signing_kid, algorithm) = knogin.keys().signing_key();
//! println!("{algorithm} keys: {}", String::from_utf8_lossy(&knogin.keys().jwks()));
//!
//! let request = http::Request::get("/v1/platform/scopes")
//!     .header("authorization", format!("Bearer {}", admin.expose()))
//!     .body(http_body_util::Empty::<bytes::Bytes>::new())?;
//! let response = knogin.handle(request).await;
//! assert_eq!(response.status(), http::StatusCode::OK);
//! # Ok(()) }
//! ```
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
pub mod audit;
pub mod clock;
mod error;
pub mod graphql;
mod hex;
pub mod http;
mod id;
mod json;
pub mod keys;
mod knogin;
#[cfg(feature = "password-login")]
pub mod login;
pub mod metrics;
pub mod oauth;
mod random;
pub mod scope;
mod secret;
mod shared;
pub mod store;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod token;
pub mod validation;
pub mod webhooks;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::BoxError;
pub use id::{AppId, DeliveryId, EventId, KeyId, TenantId, WebhookId};
pub use keys::SigningAlgorithm;
pub use knogin::{
    BuildError, Builder, DEFAULT_BODY_LIMIT, DEFAULT_KEY_REFRESH, Knogin,
    MAX_SECRET_ROTATION_GRACE, MAX_TOKEN_LIFETIME,
};
pub use scope::{ADMIN_SCOPE, Scope, ScopeCatalog, ScopeSet, ScopeToken};
pub use secret::{AuthorizationCode, ClientSecret, FlowToken, RefreshToken, SecretHash};
pub use shared::{DEFAULT_ADMIN_TOKEN_TTL, Keys, MAX_ADMIN_TOKEN_TTL, MintError, Tokens};
