//! What the SQL store promises beyond the conformance suite: how it opens SQLite, and that
//! processes starting together on one database agree on one signing key.

use knogin_core::Timestamp;
use knogin_core::keys::{KeyRing, MasterKey};
use knogin_core::testing::{FIXTURE_KEY, OTHER_FIXTURE_KEY};
use knogin_store_sqlx::{ConnectError, SqlxStore, testing};

#[tokio::test]
async fn sqlite_files_are_created_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = SqlxStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(path.exists());
    let pool = store.sqlite_pool().unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    store.close().await;

    // Opening it again runs no migration twice.
    SqlxStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_calls() {
    use knogin_core::store::TenantStore as _;
    let store = SqlxStore::connect("sqlite::memory:").await.unwrap();
    let tenant = knogin_core::TenantId::parse("t").unwrap();
    assert!(
        store
            .ensure_tenant(&tenant, Timestamp::from_unix(0))
            .await
            .unwrap()
    );
    assert!(store.tenant_exists(&tenant).await.unwrap());
}

#[tokio::test]
async fn other_urls_are_refused_clearly() {
    let err = SqlxStore::connect("mysql://localhost/db")
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::UnsupportedUrl(_)));
    assert!(
        err.to_string().contains("use sqlite://PATH or postgres://"),
        "{err}"
    );
}

async fn first_starts_agree(store: &SqlxStore) {
    let master = MasterKey::generate();
    let now = Timestamp::from_unix(1_774_346_400);
    let (a, b) = tokio::join!(
        KeyRing::load_or_create(store, &master, now, Some(FIXTURE_KEY)),
        KeyRing::load_or_create(store, &master, now, Some(OTHER_FIXTURE_KEY)),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.signer().kid().as_str(), "2026-03-signing-key");
    assert_eq!(a.jwks(), b.jwks(), "both processes serve the key that won");
}

#[tokio::test]
async fn first_starts_on_one_sqlite_file_agree_on_one_key() {
    first_starts_agree(&*testing::sqlite().await).await;
}

#[tokio::test]
async fn first_starts_on_one_postgres_database_agree_on_one_key() {
    match testing::postgres().await {
        Some(db) => first_starts_agree(&db).await,
        None => eprintln!("skipped: {} is not set", testing::POSTGRES_URL_VAR),
    }
}
