//! SQLite and PostgreSQL storage for knogin.
//!
//! One [`SqlxStore`] type serves both: SQLite is the embedded default (a file, created if
//! missing, in WAL mode), PostgreSQL lets many instances share one database. Migrations are
//! embedded and run on connect. Every uniqueness rule and sequence lives in the database, so
//! several processes can share a PostgreSQL database safely.
//!
//! ```no_run
//! # async fn example() -> Result<(), knogin_store_sqlx::ConnectError> {
//! let store = knogin_store_sqlx::SqlxStore::connect("sqlite://knogin.db").await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod apps;
mod keys;
mod tenants;
#[cfg(feature = "test-util")]
pub mod testing;

use std::str::FromStr as _;
use std::time::Duration;

use knogin_core::store::StoreError;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is neither `sqlite:…` nor `postgres://…`/`postgresql://…`.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The database could not be opened or reached.
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// The embedded migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// A knogin store on SQLite or PostgreSQL. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqlxStore {
    backend: Backend,
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
    /// Opens the database at `url` and migrates it.
    ///
    /// * `sqlite://PATH` (or `sqlite:PATH`): a file, created if missing, in WAL mode with foreign
    ///   keys on; `sqlite::memory:` for a database that lives as long as the store.
    /// * `postgres://…` or `postgresql://…`.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(ConnectError::Connect)?;
            let in_memory = options.get_filename().to_str() == Some(":memory:");
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // An in-memory database exists once per connection: keep exactly one, forever.
            let pool_options = if in_memory {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                SqlitePoolOptions::new().max_connections(8)
            };
            let pool = pool_options
                .connect_with(options)
                .await
                .map_err(ConnectError::Connect)?;
            Self::from_sqlite_pool(pool).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await
                .map_err(ConnectError::Connect)?;
            Self::from_postgres_pool(pool).await
        } else {
            Err(ConnectError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// A store on a SQLite pool you configured, after running the migrations. Turn foreign keys
    /// on in its options.
    pub async fn from_sqlite_pool(pool: SqlitePool) -> Result<Self, ConnectError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(ConnectError::Migrate)?;
        Ok(Self {
            backend: Backend::Sqlite(pool),
        })
    }

    /// A store on a PostgreSQL pool you configured (e.g. with a `search_path`), after running the
    /// migrations. Concurrent starts are safe: the migrator takes an advisory lock.
    pub async fn from_postgres_pool(pool: PgPool) -> Result<Self, ConnectError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(ConnectError::Migrate)?;
        Ok(Self {
            backend: Backend::Postgres(pool),
        })
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

/// A sqlx error as a store error: unique violations are conflicts, the rest backend failures.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::backend(e),
    }
}
