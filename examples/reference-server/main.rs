//! The reference server: the whole Knogin contract on SQLite (default) or PostgreSQL.
//!
//! ```text
//! cargo run --release --example reference-server                      # serve on 127.0.0.1:8080
//! cargo run --release --example reference-server -- admin-token --tenant acme
//! cargo run --release --example reference-server -- rotate-keys --signing-alg ES256
//! ```

mod audit_log;
mod head_deadline;
mod log;
mod log_line;
mod ops;
mod publish;
mod purge;
mod revoke;
mod serve;
mod timeout;

use std::error::Error;
use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use knogin::core::graphql::{self, Bundles, GraphQlGate};
use knogin::core::http::TrustedProxies;
use knogin::core::keys::SigningKeySettings;
use knogin::core::login::PasswordUsers;
use knogin::core::webhooks::{EventCatalog, RetryPolicy, WebhookSettings};
use knogin::core::{Builder, Knogin, ScopeCatalog, SigningAlgorithm, TenantId};
use knogin::hyper::HttpTransport;
use knogin::store::{ConnectOptions, SqlxStore};

/// The Knogin reference server: app registration, scopes, governance, client secrets, JWKS,
/// OAuth, webhooks and the GraphQL gate (with a demo schema), served over HTTP from one SQLite
/// file (or a shared PostgreSQL database).
///
/// With no subcommand it runs `serve` with the defaults.
///
/// The key-encryption key that seals the signing keys comes from KNOGIN_MASTER_KEY (base64 of 32
/// bytes) or the file KNOGIN_MASTER_KEY_FILE names. Without either, a SQLite database gets a key
/// file next to it (`<database>.master-key`, mode 0600), created on first start; `sqlite::memory:`
/// gets a throwaway key; PostgreSQL requires one of the two. Logs go to stderr (RUST_LOG sets the
/// filter, default `info`: one line per request).
#[derive(Debug, Parser)]
#[command(name = "reference-server", version)]
struct Cli {
    /// How log lines are written to stderr: `text`, or `json` (one JSON object a line, with
    /// the request line's method, path, route, status, micros and correlation_id as fields).
    #[arg(long, global = true, env = "KNOGIN_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the contract over HTTP until Ctrl-C.
    Serve(ServeArgs),
    /// Print an admin token for a tenant on stdout, creating the tenant if it does not exist. It
    /// is valid on the platform routes only. Use the same --database and --issuer as the server.
    AdminToken(AdminTokenArgs),
    /// Run the database migrations that have not run yet, then exit: for deployments whose
    /// server role has no DDL rights (serve with --skip-migrations).
    Migrate(Database),
    /// Add a signing key and print its kid. It is published in the JWKS now and signs once every
    /// verifier has had time to fetch it (the JWKS max-age plus the key-refresh interval); the
    /// keys it replaces stay published until every token they signed has expired. Running
    /// servers on the same database follow without a restart.
    RotateKeys(RotateKeysArgs),
    /// Withdraw a signing key at once, after a leak: it leaves the JWKS and no token it signed
    /// verifies any more (running servers follow within their --key-refresh). If it was
    /// signing, a new key replaces it and signs immediately. Prints the kid that signs now.
    WithdrawKey(revoke::WithdrawKeyArgs),
    /// Revoke tokens at once: one by its jti (admin tokens included, --jti), or every token
    /// issued so far to an app (--app CLIENT_ID) or in a tenant (--tenant ID). Running servers
    /// follow within their --key-refresh.
    RevokeToken(revoke::RevokeTokenArgs),
    /// Erase a tenant's webhook events with their deliveries (payloads and receivers' answers
    /// included), e.g. on a GDPR request: the delivery history no longer lists them. Events
    /// with deliveries still to make stay unless --include-pending. Prints how many events and
    /// deliveries went.
    PurgeEvents(purge::PurgeEventsArgs),
    /// Publish webhook events for a tenant into the database: every enabled subscription of the
    /// tenant naming the type gets a delivery, which a running `serve` on the same database
    /// delivers. Prints each event's id.
    Publish(publish::PublishArgs),
}

/// Where the data lives; `migrate` takes only this.
#[derive(Debug, Args)]
struct Database {
    /// The database: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "KNOGIN_DATABASE_URL",
        default_value = "sqlite://knogin.db"
    )]
    database: String,
    /// Allow a PostgreSQL server on another host without verified TLS in its URL. Without
    /// this, such a URL is refused: add `sslmode=verify-full` to it instead (`require`
    /// encrypts but verifies nothing; `verify-ca` is accepted with a warning).
    #[arg(long, env = "KNOGIN_ALLOW_PLAINTEXT_DATABASE")]
    allow_plaintext_database: bool,
}

impl Database {
    /// Opens the store, migrating it unless told not to.
    async fn connect(&self, run_migrations: bool) -> Result<SqlxStore, BoxError> {
        let options = ConnectOptions {
            require_tls_for_remote: !self.allow_plaintext_database,
            run_migrations,
            ..ConnectOptions::default()
        };
        Ok(SqlxStore::connect_with(&self.database, &options).await?)
    }
}

#[derive(Debug, Args)]
pub(crate) struct Common {
    #[command(flatten)]
    db: Database,
    /// The issuer URL, used verbatim as the tokens' `iss` and `aud`: https, or http to a
    /// loopback host.
    #[arg(long, env = "KNOGIN_ISSUER", default_value = "http://127.0.0.1:8080")]
    issuer: String,
    /// Do not run the database migrations on start (run `migrate` when deploying instead), so
    /// the database role needs no DDL rights.
    #[arg(long, env = "KNOGIN_SKIP_MIGRATIONS")]
    skip_migrations: bool,
    /// The algorithm of the signing key created on a new database: RS256, ES256 or EdDSA. A
    /// database that has keys keeps them: use `rotate-keys --signing-alg` to switch.
    #[arg(long, env = "KNOGIN_SIGNING_ALG", default_value = "RS256")]
    signing_alg: SigningAlgorithm,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "KNOGIN_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// How often to reload signing keys and revoked tokens from the database, in seconds, so
    /// every instance sharing it agrees.
    #[arg(long, env = "KNOGIN_KEY_REFRESH", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    key_refresh: u64,
    /// How long to hold a client authenticated with a secret, in seconds, so a busy client's
    /// token requests do not each read the database. A secret revoked or governance changed
    /// through another instance takes effect here within this time; 0 reads every time.
    #[arg(long, env = "KNOGIN_CLIENT_CACHE", default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=60))]
    client_cache: u64,
    /// A user of the built-in login page of the authorization endpoint, as
    /// TENANT/NAME:PASSWORD: NAME signs in only to apps of TENANT (repeatable; give the same
    /// name for several tenants, with one password, to make it a member of each). The password
    /// is hashed with argon2id at start and never stored; the name is the `sub` of the tokens
    /// issued for the user. Without any user, the authorization endpoint refuses everyone.
    /// Anyone who can list this machine's processes can read the password: use --users-file
    /// beyond demos and tests.
    #[arg(long = "user", value_name = "TENANT/NAME:PASSWORD", value_parser = parse_user)]
    users: Vec<String>,
    /// A file of users for the built-in login, one TENANT/NAME:PASSWORD a line (empty lines
    /// and lines starting with # are skipped), read at start along with any --user. Keep it
    /// readable by the server's user only.
    #[arg(long, env = "KNOGIN_USERS_FILE", value_name = "PATH")]
    users_file: Option<std::path::PathBuf>,
    /// Let webhook targets and apps' `jwks_uri`s be plain http and loopback or private
    /// addresses, for local testing. Without it they are refused.
    #[arg(long, env = "KNOGIN_ALLOW_PRIVATE_WEBHOOK_TARGETS")]
    allow_private_webhook_targets: bool,
    /// The delays between webhook delivery attempts, e.g. `5s,5m,30m,2h,5h,10h` (the default)
    /// or `200ms,500ms,1s` for tests; after the last, a delivery fails.
    #[arg(long, value_name = "DELAYS", value_parser = RetryPolicy::parse_delays)]
    webhook_retry_delays: Option<std::vec::Vec<Duration>>,
    /// How long one webhook delivery attempt may take, in seconds. A delivery claimed by a
    /// process that dies is delivered again after four times this.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=300))]
    webhook_timeout: u64,
    /// A resource server access tokens may be issued for (RFC 8707 `resource`), repeatable:
    /// each token carries the one audience it was asked for, so a token for one resource
    /// server is refused by another. The first is the default audience and this server's own
    /// (its routes accept only tokens for it). Without any, the issuer is the only audience.
    #[arg(long = "audience", value_name = "URL")]
    audiences: Vec<String>,
    /// A reverse proxy in front of the server (an address or ADDRESS/PREFIX, repeatable):
    /// behind it, requests count under the client address its X-Forwarded-For names for the
    /// per-address limits, not the proxy's. Name only proxies that set the header themselves.
    #[arg(
        long = "trusted-proxy",
        value_name = "CIDR",
        env = "KNOGIN_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
    /// Serve `GET /metrics` (Prometheus text format), `GET /healthz` and `GET /readyz` on this
    /// address, apart from the public listener (off by default). Keep it private.
    #[arg(long, env = "KNOGIN_OPS_BIND", value_name = "ADDR")]
    ops_bind: Option<SocketAddr>,
    /// Append the audit events (registrations, secret rotations, tokens issued and revoked,
    /// failed client authentications, sign-ins, consents, key changes, webhook changes) to
    /// this file as JSON lines. Without it they go to the log, on the target knogin::audit.
    #[arg(long, env = "KNOGIN_AUDIT_LOG", value_name = "PATH")]
    audit_log: Option<std::path::PathBuf>,
    /// On SIGTERM or Ctrl-C, how long requests and webhook deliveries in flight get to finish
    /// (seconds, or a duration like `30s` or `2m`); deliveries not sent by then are given back
    /// at once to the other instances on the database.
    #[arg(long, env = "KNOGIN_SHUTDOWN_GRACE", default_value = "30", value_name = "DURATION", value_parser = parse_grace)]
    shutdown_grace: Duration,
    /// How long finished webhook events (every delivery succeeded, failed, or cancelled) are
    /// kept with their deliveries before the delivery worker deletes them: a duration like
    /// `30d` (the default) or `12h`, or `0` to keep them forever.
    #[arg(long, env = "KNOGIN_WEBHOOK_RETENTION", default_value = "30d", value_name = "DURATION", value_parser = knogin::core::webhooks::parse_duration)]
    webhook_retention: Duration,
    /// The GraphQL operation bundles to admit, from a JSON manifest (see docs/graphql.md), in
    /// place of the demo `incident-sync` bundle. The demo schema answers them.
    #[arg(long, env = "KNOGIN_GRAPHQL_BUNDLES", value_name = "PATH")]
    graphql_bundles: Option<std::path::PathBuf>,
    /// Require DPoP proofs to carry a nonce this server gave (RFC 9449 §8, §9): a proof without
    /// a current one is answered use_dpop_nonce with a DPoP-Nonce to retry with. Instances
    /// sharing the master key accept each other's nonces.
    #[arg(long, env = "KNOGIN_DPOP_NONCES")]
    dpop_nonces: bool,
    #[command(flatten)]
    common: Common,
}

/// `TENANT/NAME:PASSWORD`, checked for its shape (the password may contain colons and
/// slashes); the old `NAME:PASSWORD` form is refused with the new one shown.
fn parse_user(spec: &str) -> Result<String, String> {
    let Some((user, password)) = spec.split_once(':') else {
        return Err("expected TENANT/NAME:PASSWORD, e.g. acme/alice:wonderland".to_owned());
    };
    match user.split_once('/') {
        Some((tenant, name)) if !tenant.is_empty() && !name.is_empty() && !password.is_empty() => {
            Ok(spec.to_owned())
        }
        Some(_) => Err("expected TENANT/NAME:PASSWORD, none of them empty".to_owned()),
        None => Err(format!(
            "users belong to tenants now: write TENANT/NAME:PASSWORD, e.g. --user acme/{user}:…"
        )),
    }
}

#[derive(Debug, Args)]
struct AdminTokenArgs {
    /// The tenant the token administers: 1 to 64 characters from A-Z a-z 0-9 . _ -
    #[arg(long)]
    tenant: String,
    /// How long the token is valid, in seconds (at most 86400, one day).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    ttl: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct RotateKeysArgs {
    /// The new key's algorithm: RS256, ES256 or EdDSA (default: that of the key signing now).
    #[arg(long)]
    signing_alg: Option<SigningAlgorithm>,
    #[command(flatten)]
    db: Database,
}

/// `--shutdown-grace`: seconds, or a duration with its unit.
fn parse_grace(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => knogin::core::webhooks::parse_duration(text),
    }
}

type BoxError = Box<dyn Error + Send + Sync>;

/// mimalloc: a token's 80-odd allocations cost less than with glibc's malloc. Built with
/// `no_thp`, so its arenas are not advised into 2 MiB transparent huge pages, which cost
/// about 20 MB of idle memory for no measurable speed (`docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = cli.log_format;
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::parse_from_defaults()));
    let stderr = log::BufferedStderr::new();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_writer(stderr.clone())
        .with_env_filter(filter);
    match cli.log_format {
        LogFormat::Text => logs
            .with_ansi(std::io::stderr().is_terminal())
            .event_format(log_line::TextLine::default())
            .init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    stderr.spawn_flusher();
    let result = match command {
        Command::Serve(args) => serve(args, log_format, stderr.clone()).await,
        Command::AdminToken(args) => admin_token(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::RotateKeys(args) => rotate_keys(args).await,
        Command::Publish(args) => publish::publish(args).await,
        Command::PurgeEvents(args) => purge::purge_events(args).await,
        Command::WithdrawKey(args) => revoke::withdraw_key(args).await,
        Command::RevokeToken(args) => revoke::revoke_token(args).await,
    };
    stderr.flush();
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

/// The handle's settings on the database `common` names: the reference scope and event
/// catalogs, `key_refresh`, the signing algorithm.
async fn builder(common: &Common, key_refresh: Duration) -> Result<Builder, BoxError> {
    let master_key = knogin::store::load_master_key(&common.db.database)?;
    let store = common.db.connect(!common.skip_migrations).await?;
    Ok(
        Knogin::builder(common.issuer.clone(), Arc::new(store), master_key)
            .scopes(ScopeCatalog::reference())
            .events(EventCatalog::reference())
            .signing_keys(
                SigningKeySettings::default()
                    .refresh(key_refresh)
                    .algorithm(common.signing_alg),
            ),
    )
}

pub(crate) async fn open(common: &Common, key_refresh: Duration) -> Result<Knogin, BoxError> {
    Ok(builder(common, key_refresh).await?.build().await?)
}

/// The users of `--user` and `--users-file`, their passwords hashed now (argon2id: tens of
/// milliseconds each).
fn password_users(args: &ServeArgs) -> Result<Option<PasswordUsers>, BoxError> {
    let mut lines: Vec<(String, String)> = args
        .users
        .iter()
        .map(|spec| {
            (
                format!("--user {}", spec.split(':').next().unwrap_or("")),
                spec.clone(),
            )
        })
        .collect();
    if let Some(path) = &args.users_file {
        let shown = path.display();
        knogin::store::warn_if_readable_by_others(path, "--users-file");
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("--users-file {shown}: {e}"))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            lines.push((
                format!("--users-file {shown}, line {}", n + 1),
                line.to_owned(),
            ));
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    tracing::info!("hashing the passwords of {} users", lines.len());
    let mut users = PasswordUsers::new();
    for (place, line) in &lines {
        users.add_line(line).map_err(|e| format!("{place}: {e}"))?;
    }
    Ok(Some(users))
}

async fn serve(
    args: ServeArgs,
    log_format: LogFormat,
    stderr: log::BufferedStderr,
) -> Result<(), BoxError> {
    // Installed before the handle is built, so the metrics of its first key load count.
    let ops_metrics = args
        .ops_bind
        .map(|addr| ops::install_metrics().map(|metrics| (addr, metrics)))
        .transpose()?;
    let users = password_users(&args)?;
    let user_count = users.as_ref().map_or(0, PasswordUsers::len);
    let mut webhooks = WebhookSettings::default()
        .retention(args.webhook_retention)
        .allow_private_targets(args.allow_private_webhook_targets)
        .attempt_timeout(Duration::from_secs(args.webhook_timeout));
    if let Some(delays) = args.webhook_retry_delays.clone() {
        webhooks = webhooks.retry(RetryPolicy {
            delays,
            ..RetryPolicy::default()
        });
    }
    let mut builder = builder(&args.common, Duration::from_secs(args.key_refresh))
        .await?
        .webhooks(webhooks)
        .dpop_nonces(args.dpop_nonces)
        .client_cache(Duration::from_secs(args.client_cache))
        .client_jwks_transport(HttpTransport::new(args.allow_private_webhook_targets));
    if let Some(users) = users {
        builder = builder.password_login(users);
    }
    let audit_log = args
        .audit_log
        .as_deref()
        .map(audit_log::AuditLog::open)
        .transpose()?;
    if let Some(audit_log) = &audit_log {
        builder = builder.audit(audit_log.clone());
    }
    if !args.audiences.is_empty() {
        builder = builder.audiences(args.audiences.clone());
    }
    let proxies = TrustedProxies::parse(&args.trusted_proxies)
        .map_err(|e| format!("--trusted-proxy: {e}"))?;
    builder = builder.trusted_proxies(proxies);
    let bundles = match &args.graphql_bundles {
        Some(path) => Bundles::load(path).map_err(|e| format!("--graphql-bundles: {e}"))?,
        None => graphql::reference::bundles(),
    };
    let bundle_names: Vec<String> = bundles
        .bundles()
        .iter()
        .map(|b| b.name().to_owned())
        .collect();
    let knogin = builder
        .graphql(GraphQlGate::new(graphql::reference::executor()).bundles(bundles))
        .build()
        .await?;
    let listener = serve::bind(args.bind).await?;
    let ops = match ops_metrics {
        Some((addr, metrics)) => Some((serve::bind(addr).await?, metrics)),
        None => None,
    };
    let kids: Vec<String> = knogin
        .keys()
        .kids()
        .iter()
        .map(ToString::to_string)
        .collect();
    let signing = knogin.keys().signing_key().1;
    if signing != args.common.signing_alg {
        tracing::warn!(
            "--signing-alg is {} but the database's key signs with {signing}: run `rotate-keys --signing-alg {}` to switch",
            args.common.signing_alg,
            args.common.signing_alg,
        );
    }
    tracing::info!(
        address = %args.bind,
        issuer = knogin.issuer(),
        database = %knogin::store::redact(&args.common.db.database),
        keys = %kids.join(" "),
        users = user_count,
        graphql_bundles = %bundle_names.join(" "),
        "serving the Knogin contract"
    );
    if let Some(addr) = args.ops_bind {
        tracing::info!("operations listener on http://{addr}: /metrics, /healthz, /readyz");
    }
    let request_log = request_log(log_format, stderr);
    let options = serve::Options {
        request_log,
        shutdown_grace: args.shutdown_grace,
        ops,
    };
    let served = serve::serve(listener, knogin, options).await;
    if let Some(audit_log) = audit_log {
        audit_log.flush();
    }
    served
}

/// How the request log line is written: not at all when the filter leaves it out, else in the
/// log's format.
fn request_log(format: LogFormat, stderr: log::BufferedStderr) -> Option<serve::RequestLog> {
    if !serve::RequestLog::wanted() {
        return None;
    }
    Some(match format {
        LogFormat::Text if std::io::stderr().is_terminal() => serve::RequestLog::Message,
        LogFormat::Text => serve::RequestLog::Text(stderr),
        LogFormat::Json => serve::RequestLog::Json,
    })
}

async fn migrate(db: Database) -> Result<(), BoxError> {
    db.connect(true).await?;
    tracing::info!(database = %knogin::store::redact(&db.database), "the database is migrated");
    Ok(())
}

async fn rotate_keys(args: RotateKeysArgs) -> Result<(), BoxError> {
    let common = Common {
        db: args.db,
        issuer: "http://127.0.0.1".to_owned(),
        skip_migrations: false,
        // The first key, if the database has none yet.
        signing_alg: args.signing_alg.unwrap_or_default(),
    };
    let knogin = open(&common, knogin::core::DEFAULT_KEY_REFRESH).await?;
    let algorithm = args
        .signing_alg
        .unwrap_or_else(|| knogin.keys().signing_key().1);
    let kid = knogin.keys().rotate_to(algorithm).await?;
    println!("{kid}");
    Ok(())
}

async fn admin_token(args: AdminTokenArgs) -> Result<(), BoxError> {
    let tenant = TenantId::parse(&args.tenant).ok_or_else(|| {
        format!(
            "--tenant {:?}: use 1 to 64 characters from A-Z a-z 0-9 . _ -",
            args.tenant
        )
    })?;
    let knogin = open(&args.common, knogin::core::DEFAULT_KEY_REFRESH).await?;
    let token = knogin
        .tokens()
        .mint_admin(&tenant, Duration::from_secs(args.ttl))
        .await?;
    println!("{}", token.expose());
    Ok(())
}
