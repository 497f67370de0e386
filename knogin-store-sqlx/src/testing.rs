//! Fresh, isolated databases for tests (feature `test-util`).
//!
//! Each call gets its own SQLite file in a temporary directory, or its own PostgreSQL schema, so
//! tests can run in parallel.

use std::ops::Deref;
use std::str::FromStr as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Executor as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tempfile::TempDir;

use crate::SqlxStore;

/// The environment variable naming the PostgreSQL server tests use.
pub const POSTGRES_URL_VAR: &str = "KNOGIN_TEST_POSTGRES_URL";

/// A store on a database of its own, removed (SQLite) when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    store: SqlxStore,
    _dir: Option<TempDir>,
}

impl Deref for TestDatabase {
    type Target = SqlxStore;

    fn deref(&self) -> &SqlxStore {
        &self.store
    }
}

/// A migrated SQLite store in a new temporary directory.
pub async fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("knogin.db").display());
    let store = SqlxStore::connect(&url)
        .await
        .expect("a fresh SQLite store");
    TestDatabase {
        store,
        _dir: Some(dir),
    }
}

/// A migrated PostgreSQL store in a new schema of the server named by
/// `KNOGIN_TEST_POSTGRES_URL`, or `None` when the variable is not set.
pub async fn postgres() -> Option<TestDatabase> {
    postgres_with(&[]).await
}

/// A pool on a new, empty schema of the test database (nothing migrated), with these session
/// settings on every connection; `None` when [`POSTGRES_URL_VAR`] is not set.
pub async fn empty_postgres_schema(settings: &[(&str, &str)]) -> Option<PgPool> {
    let url = std::env::var(POSTGRES_URL_VAR).ok()?;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let schema = format!(
        "knogin_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000_000
    );
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}={url} is not reachable: {e}"));
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create a test schema");
    admin.close().await;
    let options = PgConnectOptions::from_str(&url)
        .expect("a PostgreSQL URL")
        .options([("search_path", schema.as_str())])
        .options(settings.iter().copied());
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("connect to the test schema");
    Some(pool)
}

/// Like [`postgres`], with these session settings on every connection (e.g.
/// `("default_transaction_isolation", "serializable")`).
pub async fn postgres_with(settings: &[(&str, &str)]) -> Option<TestDatabase> {
    let pool = empty_postgres_schema(settings).await?;
    let store = SqlxStore::from_postgres_pool(pool)
        .await
        .expect("migrate the test schema");
    Some(TestDatabase { store, _dir: None })
}
