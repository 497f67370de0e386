//! Embedding the Knogin contract in an axum app, next to the app's own routes.
//!
//! ```text
//! cargo run --example embed-axum
//! curl http://127.0.0.1:3000/hello
//! curl http://127.0.0.1:3000/.well-known/jwks.json
//! ```
//!
//! It keeps everything in memory and prints an admin token for the tenant `demo` on start.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use knogin::core::keys::MasterKey;
use knogin::core::webhooks::EventCatalog;
use knogin::core::{Knogin, ScopeCatalog, TenantId};
use knogin::store::SqlxStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A real deployment uses a file or PostgreSQL, and `knogin::store::load_master_key(url)`
    // (KNOGIN_MASTER_KEY, KNOGIN_MASTER_KEY_FILE, or a key file beside a SQLite database).
    let store = SqlxStore::connect("sqlite::memory:").await?;
    let knogin = Knogin::builder(
        "http://127.0.0.1:3000",
        Arc::new(store),
        MasterKey::generate(),
    )
    .scopes(ScopeCatalog::reference())
    .events(EventCatalog::reference())
    .build()
    .await?;

    let tenant = TenantId::parse("demo").ok_or("invalid tenant")?;
    let token = knogin
        .tokens()
        .mint_admin(&tenant, Duration::from_secs(3600))
        .await?;
    println!("admin token for tenant demo:\n{}", token.expose());

    let app = Router::new()
        .route("/hello", get(|| async { "hello from the embedding app" }))
        .merge(knogin::axum::router(knogin))
        .fallback(knogin::axum::not_found);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000");
    axum::serve(listener, app).await?;
    Ok(())
}
