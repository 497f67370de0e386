//! A resource server that is not the issuer: it checks knogin access tokens against the
//! issuer's JWKS (cached, refreshed on an unknown `kid`) and serves the token's tenant its
//! incidents. It uses `knogin-verifier` alone, as your resource server would
//! (`knogin-verifier = { version = "0.1", features = ["axum"] }`): no store, login or docs.
//!
//! ```text
//! cargo run --example resource-server -- --issuer http://127.0.0.1:8080
//! curl http://127.0.0.1:8081/v1/incidents -H "Authorization: Bearer <token with incidents:read>"
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use clap::Parser;
use knogin_verifier::axum::Verified;
use knogin_verifier::time::SystemClock;
use knogin_verifier::{
    CacheSettings, HttpJwksFetcher, JwksCache, ProtectedResource, RequiredScope, Verifier,
};
use serde_json::{Value, json};

/// Serves `GET /v1/incidents` (scope `incidents:read`) for knogin tokens, and its RFC 9728
/// metadata at `/.well-known/oauth-protected-resource`.
#[derive(Debug, Parser)]
#[command(name = "resource-server", version)]
struct Args {
    /// The issuer whose tokens are accepted, exactly as in their `iss`.
    #[arg(long, env = "KNOGIN_ISSUER")]
    issuer: String,
    /// The JWKS URL (default: the `jwks_uri` of the issuer's RFC 8414 metadata).
    #[arg(long)]
    jwks_url: Option<String>,
    /// The audience tokens must carry (default: the issuer, knogin's default audience).
    #[arg(long)]
    audience: Option<String>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    bind: SocketAddr,
    /// This resource's identifier in its RFC 9728 metadata (default: `http://{bind}`).
    #[arg(long)]
    resource: Option<String>,
}

struct IncidentsRead;

impl RequiredScope for IncidentsRead {
    const SCOPE: &'static str = "incidents:read";
}

async fn incidents(token: Verified<IncidentsRead>) -> Json<Value> {
    let tenant = token.0.tenant;
    Json(json!({
        "tenant": tenant,
        "incidents": [
            {"id": "inc_1", "title": format!("Phishing wave at {tenant}"), "status": "open"},
            {"id": "inc_2", "title": format!("Lost laptop at {tenant}"), "status": "closed"},
        ],
    }))
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let fetcher = match &args.jwks_url {
        Some(url) => HttpJwksFetcher::new(url)?,
        None => HttpJwksFetcher::discover(&args.issuer).await?,
    };
    let jwks_url = fetcher.url().to_string();
    let cache = JwksCache::new(
        Arc::new(fetcher),
        Arc::new(SystemClock),
        CacheSettings::default(),
    );
    if !cache.refresh().await {
        tracing::warn!(%jwks_url, "the JWKS is not reachable yet; every token is refused until it is");
    }
    let resource = args
        .resource
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.bind));
    let metadata = ProtectedResource::new(&resource, &args.issuer).scopes([IncidentsRead::SCOPE]);
    let verifier = Verifier::new(&args.issuer, Arc::new(cache))
        .audience(args.audience.clone().unwrap_or_else(|| args.issuer.clone()))
        .resource_metadata(metadata.metadata_url());
    let app = axum::Router::new()
        .route("/v1/incidents", get(incidents))
        .with_state(Arc::new(verifier))
        .merge(knogin_verifier::axum::protected_resource(metadata))
        .fallback(knogin::axum::not_found);
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    tracing::info!(address = %args.bind, issuer = %args.issuer, %jwks_url, "serving the resource");
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
