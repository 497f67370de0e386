//! The reference server: the whole Knogin contract on SQLite (default) or PostgreSQL.
//!
//! ```text
//! cargo run --release --example reference-server                      # serve on 127.0.0.1:8080
//! cargo run --release --example reference-server -- admin-token --tenant acme
//! ```

use std::error::Error;
use std::fs;
use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use knogin::core::keys::MasterKey;
use knogin::core::{Knogin, ScopeCatalog, TenantId};
use knogin::store::SqlxStore;
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The Knogin reference server: app registration, scopes, governance, client secrets and JWKS,
/// served over HTTP from one SQLite file (or a shared PostgreSQL database).
///
/// With no subcommand it runs `serve` with the defaults.
///
/// The key-encryption key that seals the signing keys comes from KNOGIN_MASTER_KEY (base64 of 32
/// bytes). Without it, a SQLite database gets a key file next to it (`<database>.master-key`,
/// mode 0600), created on first start; `sqlite::memory:` gets a throwaway key; PostgreSQL requires
/// the variable. Logs go to stderr (RUST_LOG sets the filter, default `info`).
#[derive(Debug, Parser)]
#[command(name = "reference-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the contract over HTTP until Ctrl-C.
    Serve(ServeArgs),
    /// Print an admin bearer token (scope `platform:admin`) for a tenant on stdout, creating the
    /// tenant if it does not exist. Use the same --database and --issuer as the server.
    AdminToken(AdminTokenArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// The database: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "KNOGIN_DATABASE_URL",
        default_value = "sqlite://knogin.db"
    )]
    database: String,
    /// The issuer URL, used verbatim as the tokens' `iss` and `aud`.
    #[arg(long, env = "KNOGIN_ISSUER", default_value = "http://127.0.0.1:8080")]
    issuer: String,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "KNOGIN_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct AdminTokenArgs {
    /// The tenant the token administers: 1 to 64 characters from A-Z a-z 0-9 . _ -
    #[arg(long)]
    tenant: String,
    /// How long the token is valid, in seconds.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    ttl: u64,
    #[command(flatten)]
    common: Common,
}

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::parse_from_defaults()));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match command {
        Command::Serve(args) => serve(args).await,
        Command::AdminToken(args) => admin_token(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Each error's message already names its cause: print it once.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

impl ServeArgs {
    /// `serve` with every flag at its default (environment variables still apply).
    fn parse_from_defaults() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Only::parse_from(["reference-server"]).args
    }
}

async fn open(common: &Common) -> Result<Knogin, BoxError> {
    let master_key = master_key(&common.database)?;
    let store = SqlxStore::connect(&common.database).await?;
    let knogin = Knogin::builder(common.issuer.clone(), Arc::new(store), master_key)
        .scopes(ScopeCatalog::reference())
        .build()
        .await?;
    Ok(knogin)
}

/// KNOGIN_MASTER_KEY, or the key file next to a SQLite database (created on first use).
fn master_key(database: &str) -> Result<MasterKey, BoxError> {
    if let Ok(text) = std::env::var("KNOGIN_MASTER_KEY") {
        return MasterKey::from_base64(&text).map_err(|e| format!("KNOGIN_MASTER_KEY: {e}").into());
    }
    if database.starts_with("sqlite::memory:") {
        // Nothing outlives the process, so neither need the key.
        return Ok(MasterKey::generate());
    }
    let Some(path) = sqlite_path(database) else {
        return Err("KNOGIN_MASTER_KEY must be set (base64 of 32 random bytes) when the database is not a SQLite file".into());
    };
    let key_path = PathBuf::from(format!("{}.master-key", path.display()));
    match fs::read_to_string(&key_path) {
        Ok(text) => {
            MasterKey::from_base64(&text).map_err(|e| format!("{}: {e}", key_path.display()).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_path)
                .map_err(|e| format!("cannot create {}: {e}", key_path.display()))?;
            writeln!(file, "{}", key.to_base64())?;
            tracing::warn!(
                path = %key_path.display(),
                "KNOGIN_MASTER_KEY is not set: created a new master key in this file (mode 0600); \
                 back it up with the database, or set KNOGIN_MASTER_KEY"
            );
            Ok(key)
        }
        Err(e) => Err(format!("cannot read {}: {e}", key_path.display()).into()),
    }
}

/// The file of a `sqlite:` URL, or `None` for another database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

async fn serve(args: ServeArgs) -> Result<(), BoxError> {
    let knogin = open(&args.common).await?;
    let app = knogin::axum::router(knogin.clone()).fallback(knogin::axum::not_found);
    // One log line per request, unless the filter leaves them out (then the layer is not paid for).
    let app = if tracing::enabled!(target: "reference_server", tracing::Level::INFO) {
        app.layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &http::Request<_>| {
                    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
                })
                .on_request(())
                .on_response(|response: &http::Response<_>, latency: Duration, _: &Span| {
                    tracing::info!(status = response.status().as_u16(), latency = ?latency, "served");
                })
                .on_failure(()),
        )
    } else {
        app
    };
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    tracing::info!(
        address = %args.bind,
        issuer = knogin.issuer(),
        database = %args.common.database,
        kid = %knogin.keys().signer().kid(),
        "serving the Knogin contract"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending().await,
            }
        } => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn admin_token(args: AdminTokenArgs) -> Result<(), BoxError> {
    let tenant = TenantId::parse(&args.tenant).ok_or_else(|| {
        format!(
            "--tenant {:?}: use 1 to 64 characters from A-Z a-z 0-9 . _ -",
            args.tenant
        )
    })?;
    let knogin = open(&args.common).await?;
    let token = knogin
        .mint_admin_token(&tenant, Duration::from_secs(args.ttl))
        .await?;
    println!("{}", token.expose());
    Ok(())
}
