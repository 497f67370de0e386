//! Embed the Knogin external integration contract (app registration, scopes, governance,
//! write-once client secrets, JWKS and bearer tokens) in your own axum or hyper server.
//!
//! This facade re-exports the workspace:
//!
//! * [`core`] (`knogin-core`): the domain, policies and routes over `http` types;
//! * [`store`] (`knogin-store-sqlx`): SQLite (embedded default) and PostgreSQL storage;
//! * [`axum`] (`knogin-axum`) and [`hyper`] (`knogin-hyper`): the adapters;
//! * [`verifier`] (`knogin-verifier`): token and webhook verification for the integrator's side.
//!   A resource server that needs only this should depend on `knogin-verifier` alone: it brings
//!   no store, login, GraphQL or docs;
//! * [`time`] (`knogin-time`): the injected clock both sides share.
//!
//! Mount the contract next to your own routes:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use knogin::core::webhooks::EventCatalog;
//! use knogin::core::{Knogin, ScopeCatalog};
//! use knogin::store::{SqlxStore, load_master_key};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let url = "sqlite://knogin.db";
//! // KNOGIN_MASTER_KEY, else KNOGIN_MASTER_KEY_FILE, else knogin.db.master-key (made once).
//! let master_key = load_master_key(url)?;
//! let store = SqlxStore::connect(url).await?;
//! let knogin = Knogin::builder("https://auth.example.com", Arc::new(store), master_key)
//!     .scopes(ScopeCatalog::reference())
//!     .events(EventCatalog::reference())
//!     .build()
//!     .await?;
//! // Webhook deliveries, in the background, until the process ends.
//! tokio::spawn(knogin::hyper::delivery_worker(knogin.clone()).run(std::future::pending()));
//!
//! let app = ::axum::Router::new()
//!     .route("/healthz", ::axum::routing::get(|| async { "ok" }))
//!     .merge(knogin::axum::router(knogin))
//!     .fallback(knogin::axum::not_found);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! ::axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub use knogin_axum as axum;
pub use knogin_core as core;
pub use knogin_hyper as hyper;
pub use knogin_store_sqlx as store;
pub use knogin_time as time;
pub use knogin_verifier as verifier;
