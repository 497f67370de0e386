//! Embedding the Knogin contract in a hyper 1 server: the contract's paths go to knogin, every
//! other request to the server's own service.
//!
//! ```text
//! cargo run --example embed-hyper
//! curl http://127.0.0.1:3001/hello
//! curl http://127.0.0.1:3001/.well-known/jwks.json
//! ```
//!
//! It keeps everything in memory and prints an admin token for the tenant `demo` on start.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use knogin::core::keys::MasterKey;
use knogin::core::webhooks::EventCatalog;
use knogin::core::{Knogin, ScopeCatalog, TenantId};
use knogin::hyper::KnoginService;
use knogin::store::SqlxStore;

/// The server's own service, for every path the contract does not serve.
async fn own_routes(
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    if request.uri().path() == "/hello" {
        return Ok(http::Response::new(Full::new(Bytes::from_static(
            b"hello from the embedding server",
        ))));
    }
    Ok(knogin::core::http::not_found())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A real deployment uses a file or PostgreSQL, and `knogin::store::load_master_key(url)`
    // (KNOGIN_MASTER_KEY, KNOGIN_MASTER_KEY_FILE, or a key file beside a SQLite database).
    let store = SqlxStore::connect("sqlite::memory:").await?;
    let knogin = Knogin::builder(
        "http://127.0.0.1:3001",
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

    let service = KnoginService::new(knogin, service_fn(own_routes));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://127.0.0.1:3001");
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = service.clone().with_client_addr(peer.ip());
        tokio::spawn(async move {
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {e}");
            }
        });
    }
}
