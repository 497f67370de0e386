//! SQLite and PostgreSQL storage for knogin.
//!
//! One [`SqlxStore`] type serves both: SQLite is the embedded default (a file, created if
//! missing, in WAL mode), PostgreSQL lets many instances share one database. Migrations are
//! embedded and run on connect. Every uniqueness rule and sequence lives in the database, so
//! several processes can share a PostgreSQL database safely.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use knogin_core::webhooks::EventCatalog;
//! use knogin_core::{Knogin, ScopeCatalog};
//! use knogin_store_sqlx::{SqlxStore, load_master_key};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let url = "sqlite://knogin.db"; // or postgres://…?sslmode=verify-full
//! let master_key = load_master_key(url)?;
//! let store = SqlxStore::connect(url).await?;
//! let knogin = Knogin::builder("https://auth.example.com", Arc::new(store), master_key)
//!     .scopes(ScopeCatalog::reference())
//!     .events(EventCatalog::reference())
//!     .build()
//!     .await?;
//! # let _ = knogin;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod apps;
mod client_auth;
mod deliveries;

pub use self::deliveries::{publish_in_postgres, publish_in_sqlite};
mod flow;
mod grants;
mod keys;
mod master_key;
pub use self::master_key::{
    LoadKeyError, MASTER_KEY_FILE_VAR, MASTER_KEY_VAR, load_master_key, master_key_file,
    warn_if_readable_by_others,
};
mod migrations;
pub use self::migrations::MIGRATIONS_TABLE;
mod reads;
mod tenants;
#[cfg(feature = "test-util")]
pub mod testing;
mod webhooks;

use std::str::FromStr as _;
use std::time::Duration;

use knogin_core::store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is neither `sqlite:…` nor `postgres://…`/`postgresql://…` (shown with its
    /// password replaced).
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A PostgreSQL server across a network would be reached without verified TLS (no
    /// `sslmode`, or one that does not verify the server: `disable`, `allow`, `prefer`,
    /// `require`).
    #[error(
        "the database {0} is not on this host and its URL does not require verified TLS: add \
         sslmode=verify-full (sslmode=require verifies nothing, so anyone on the path could \
         pose as the server), or allow plaintext explicitly"
    )]
    Plaintext(String),
    /// The database could not be opened or reached.
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// The embedded migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// `url` with its passwords, if any, replaced by `***`: the user-info password and a
/// `password` query parameter (which sqlx honours too). Safe to log or show.
///
/// ```
/// assert_eq!(
///     knogin_store_sqlx::redact("postgres://knogin:s3cret@db.internal/knogin"),
///     "postgres://knogin:***@db.internal/knogin"
/// );
/// assert_eq!(
///     knogin_store_sqlx::redact("postgres://db.internal/knogin?user=k&password=s3cret&sslmode=verify-full"),
///     "postgres://db.internal/knogin?user=k&password=***&sslmode=verify-full"
/// );
/// ```
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // Not a URL we can take apart: show only its scheme.
        return url.split(':').next().unwrap_or("").to_owned() + ":…";
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(name, _)| name == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if name == "password" {
                    "***".into()
                } else {
                    value
                };
                (name.into_owned(), value.into_owned())
            })
            .collect();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        parsed.set_query(Some(&query));
    }
    if parsed.as_str() == url {
        return url.to_owned();
    }
    parsed.to_string()
}

/// How a PostgreSQL URL reaches its server, judged from the options sqlx will really use
/// (`PgConnectOptions`: the last of repeated parameters, `hostaddr` over `host`, a Unix socket,
/// and the `PG*` environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// Not PostgreSQL, or a server on this host (loopback or a Unix socket).
    Local,
    /// A server across a network over TLS whose certificate and host name are verified
    /// (`sslmode=verify-full`).
    Tls,
    /// A server across a network over TLS whose certificate chain is verified but not its host
    /// name (`sslmode=verify-ca`): accepted, with a warning.
    TlsWithoutHostname,
    /// A server across a network over TLS that verifies nothing (`sslmode=require`): an
    /// on-path attacker can present any certificate.
    UnverifiedTls,
    /// A server across a network that may be reached in plaintext (no `sslmode`, or
    /// `disable`, `allow`, `prefer`), or a URL sqlx cannot parse.
    Plaintext,
}

/// How the database at `url` is reached: [`SqlxStore::connect`] refuses
/// [`Transport::UnverifiedTls`] and [`Transport::Plaintext`] unless told otherwise.
///
/// ```
/// use knogin_store_sqlx::{Transport, transport};
///
/// assert_eq!(transport("postgres://db.internal/knogin"), Transport::Plaintext);
/// assert_eq!(transport("postgres://db.internal/knogin?sslmode=verify-full"), Transport::Tls);
/// assert_eq!(transport("postgres://db.internal/knogin?sslmode=require"), Transport::UnverifiedTls);
/// assert_eq!(transport("postgres://127.0.0.1/knogin"), Transport::Local);
/// // sqlx connects to hostaddr, and applies the last of repeated parameters.
/// assert_eq!(transport("postgres://localhost/knogin?hostaddr=203.0.113.9"), Transport::Plaintext);
/// assert_eq!(transport("postgres://db.internal/knogin?hostaddr=127.0.0.1"), Transport::Local);
/// assert_eq!(
///     transport("postgres://db.internal/knogin?sslmode=verify-full&sslmode=disable"),
///     Transport::Plaintext
/// );
/// assert_eq!(transport("sqlite://knogin.db"), Transport::Local);
/// ```
pub fn transport(url: &str) -> Transport {
    use sqlx::postgres::PgSslMode;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Transport::Local;
    }
    let Ok(options) = PgConnectOptions::from_str(url) else {
        return Transport::Plaintext;
    };
    let host = options.get_host();
    let local = options.get_socket().is_some()
        || host.starts_with('/')
        || match hostaddr(url) {
            Some(address) => address.is_loopback(),
            None => {
                host.eq_ignore_ascii_case("localhost")
                    || host
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        };
    if local {
        return Transport::Local;
    }
    match options.get_ssl_mode() {
        PgSslMode::VerifyFull => Transport::Tls,
        PgSslMode::VerifyCa => Transport::TlsWithoutHostname,
        PgSslMode::Require => Transport::UnverifiedTls,
        _ => Transport::Plaintext,
    }
}

/// The address sqlx connects to over TCP in place of the host: the last `hostaddr` of `url`, or
/// else `PGHOSTADDR`. sqlx reads both but has no getter for the result, and its `get_host` is the
/// host name as written.
fn hostaddr(url: &str) -> Option<std::net::IpAddr> {
    let parsed = url::Url::parse(url).ok()?;
    let given = parsed
        .query_pairs()
        .filter(|(name, _)| name == "hostaddr")
        .last()
        .map(|(_, value)| value.into_owned())
        .or_else(|| std::env::var("PGHOSTADDR").ok())?;
    given.parse().ok()
}

/// Whether `url` (parsed as `options`) names an in-memory SQLite database: `sqlite::memory:`
/// (which sqlx names `file:sqlx-in-memory-N`), `sqlite://:memory:`, or `mode=memory`.
fn is_in_memory(url: &str, options: &SqliteConnectOptions) -> bool {
    let name = options.get_filename().to_string_lossy();
    name == ":memory:"
        || name.starts_with("file:sqlx-in-memory-")
        || url
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|p| p == "mode=memory"))
}

/// Settings for [`SqlxStore::connect_with`].
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Most connections in the pool (default: 8 for SQLite files, 16 for PostgreSQL).
    pub max_connections: Option<u32>,
    /// How long a request waits for a free connection before failing (default: 5 s), so an
    /// outage answers quickly instead of hanging.
    pub acquire_timeout: Duration,
    /// Whether to refuse a PostgreSQL server across a network without verified TLS
    /// (`sslmode=verify-full`, or `verify-ca` with a warning) (default: `true`).
    pub require_tls_for_remote: bool,
    /// Whether to run the embedded migrations on connect (default: `true`). Turn it off to run
    /// the server with a role that has no DDL rights, and migrate with [`SqlxStore::migrate`] (as
    /// a role that has them) when deploying.
    pub run_migrations: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(5),
            require_tls_for_remote: true,
            run_migrations: true,
        }
    }
}

/// A knogin store on SQLite or PostgreSQL. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqlxStore {
    backend: Backend,
    /// In-thread reads for the token endpoint's path, on a SQLite file (see `reads.rs`).
    reads: Option<std::sync::Arc<reads::Reader>>,
    /// Tells other processes' delivery workers about publications (PostgreSQL).
    announcer: std::sync::Arc<deliveries::Announcer>,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store has. The SQL is written once in
/// the dialect both databases accept (`$1` placeholders, `ON CONFLICT`, `RETURNING`).
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl SqlxStore {
    /// Opens the database at `url` with the default [`ConnectOptions`] and migrates it.
    ///
    /// * `sqlite://PATH` (or `sqlite:PATH`): a file, created if missing (mode 0600), in WAL mode
    ///   with `synchronous=FULL` (an answered write survives a power cut) and foreign keys on;
    ///   `sqlite::memory:` for a database that lives as long as the store.
    /// * `postgres://…` or `postgresql://…`, over TLS when the URL asks for it
    ///   (`sslmode=verify-full`; rustls with the system's web PKI roots, or
    ///   `sslrootcert=PATH`). A server across a network must be reached with verified TLS
    ///   (see [`transport`]).
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Like [`SqlxStore::connect`], with `options`.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Self, ConnectError> {
        if url.starts_with("sqlite:") {
            let sqlite = SqliteConnectOptions::from_str(url).map_err(ConnectError::Connect)?;
            let in_memory = is_in_memory(url, &sqlite);
            let reads = (!in_memory)
                .then(|| std::sync::Arc::new(reads::Reader::new(sqlite.get_filename())));
            let sqlite = sqlite
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // An in-memory database lives as long as a connection to it: keep exactly one, for
            // the pool's whole life (and create no file for it).
            let pool_options = if in_memory {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                create_private(sqlite.get_filename());
                SqlitePoolOptions::new().max_connections(options_max(options, 8))
            }
            .acquire_timeout(options.acquire_timeout);
            let pool = pool_options
                .connect_with(sqlite)
                .await
                .map_err(ConnectError::Connect)?;
            let mut store =
                Self::with_backend(Backend::Sqlite(pool), options.run_migrations).await?;
            store.reads = reads;
            Ok(store)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            match transport(url) {
                Transport::Plaintext | Transport::UnverifiedTls
                    if options.require_tls_for_remote =>
                {
                    return Err(ConnectError::Plaintext(redact(url)));
                }
                Transport::TlsWithoutHostname => tracing::warn!(
                    database = %redact(url),
                    "sslmode=verify-ca checks the server's certificate chain but not its name: \
                     prefer sslmode=verify-full"
                ),
                _ => {}
            }
            let pool = PgPoolOptions::new()
                .max_connections(options_max(options, 16))
                .acquire_timeout(options.acquire_timeout)
                .connect(url)
                .await
                .map_err(ConnectError::Connect)?;
            Self::with_backend(Backend::Postgres(pool), options.run_migrations).await
        } else {
            Err(ConnectError::UnsupportedUrl(redact(url)))
        }
    }

    /// A store on a SQLite pool you configured, after running the migrations. Turn foreign keys
    /// on in its options.
    pub async fn from_sqlite_pool(pool: SqlitePool) -> Result<Self, ConnectError> {
        Self::with_backend(Backend::Sqlite(pool), true).await
    }

    /// A store on a PostgreSQL pool you configured (e.g. with a `search_path`), after running the
    /// migrations. Concurrent starts are safe: the migrator takes an advisory lock.
    pub async fn from_postgres_pool(pool: PgPool) -> Result<Self, ConnectError> {
        Self::with_backend(Backend::Postgres(pool), true).await
    }

    async fn with_backend(backend: Backend, migrate: bool) -> Result<Self, ConnectError> {
        let store = Self {
            backend,
            reads: None,
            announcer: std::sync::Arc::default(),
        };
        if migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Runs the embedded migrations that have not run yet (the PostgreSQL migrator takes an
    /// advisory lock, so instances may do it at once). knogin records them in its own table,
    /// [`MIGRATIONS_TABLE`], so they never mix with your application's sqlx migrations on a
    /// shared database; a database migrated by an earlier version, which used sqlx's default
    /// `_sqlx_migrations`, has knogin's rows moved over first.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        match &self.backend {
            Backend::Sqlite(pool) => migrations::run_sqlite(pool).await,
            Backend::Postgres(pool) => migrations::run_postgres(pool).await,
        }
        .map_err(ConnectError::Migrate)
    }

    /// The SQLite pool, when the store is on SQLite: to run your own queries on the same database.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.backend {
            Backend::Sqlite(pool) => Some(pool),
            Backend::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, when the store is on PostgreSQL.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Postgres(pool) => Some(pool),
            Backend::Sqlite(_) => None,
        }
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}

fn options_max(options: &ConnectOptions, default: u32) -> u32 {
    options.max_connections.unwrap_or(default)
}

/// Creates the SQLite file `path` readable by its owner only, unless it exists: it holds sealed
/// keys and secret hashes.
fn create_private(path: &std::path::Path) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
}

/// How many times a transaction is tried when the database aborts it as a serialization failure.
const TRANSACTION_ATTEMPTS: u32 = 5;

/// Whether `e` is PostgreSQL aborting a transaction that raced another (SQLSTATE 40001 under
/// REPEATABLE READ or SERIALIZABLE, or 40P01, a deadlock): running it again is the remedy.
fn is_serialization_failure(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// Runs the transaction `attempt` until it commits or fails otherwise than by a serialization
/// failure (at most [`TRANSACTION_ATTEMPTS`] times), so a server whose default isolation is
/// stricter than READ COMMITTED answers racing writes instead of failing them.
pub(crate) async fn transaction<T, F, Fut>(mut attempt: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if is_serialization_failure(&e) && tries < TRANSACTION_ATTEMPTS => {
                tracing::debug!(error = %e, tries, "retrying a transaction");
                tries += 1;
            }
            other => return other,
        }
    }
}

/// A page of `rows` read with `LIMIT limit + 1`, newest first: the first `limit` rows converted
/// by `convert`, and the cursor after the last of them when there was one more.
///
/// The statements write their limit as `LIMIT CAST($n AS BIGINT)`, not `LIMIT $n`: SQLite
/// (3.46 and later) plans a bare parameter in `LIMIT` for its bound value, so it prepared such
/// a statement again on every execution (a fifth of a 20-app page's instructions).
pub(crate) fn page_of<R, T>(
    mut rows: Vec<R>,
    limit: u32,
    seq: impl Fn(&R) -> i64,
    convert: impl Fn(R) -> Result<T, StoreError>,
) -> Result<(Vec<T>, Option<knogin_core::store::Cursor>), StoreError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more
        .then(|| rows.last().map(|r| knogin_core::store::Cursor(seq(r))))
        .flatten();
    let items = rows.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((items, next))
}

/// A sqlx error as a store error: unique violations are conflicts, foreign-key violations a
/// missing parent, the rest backend failures.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::MissingParent,
        _ => StoreError::backend(e),
    }
}
