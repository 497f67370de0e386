//! What the SQL store promises beyond the conformance suite: how it opens SQLite, and that
//! processes starting together on one database agree on one signing key.

use knogin_core::keys::{KeyRing, MasterKey};
use knogin_core::store::KeyStore as _;
use knogin_core::testing::{FIXTURE_KEY, OTHER_FIXTURE_KEY};
use knogin_core::{SigningAlgorithm, Timestamp};
use knogin_store_sqlx::{ConnectError, ConnectOptions, SqlxStore, testing};

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
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        synchronous, 2,
        "FULL: an answered write survives a power cut"
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the database holds sealed keys: owner only");
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
    let err = SqlxStore::connect("postgress://knogin:s3cret@db.example/knogin")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(err.to_string().contains("knogin:***@db.example"), "{err}");
}

#[tokio::test]
async fn a_remote_postgres_without_verified_tls_is_refused_unless_allowed() {
    let url = "postgres://knogin:s3cret@db.example.invalid/knogin";
    for refused in [
        url.to_owned(),
        format!("{url}?sslmode=require"),
        format!("{url}?sslmode=verify-full&sslmode=prefer"),
        "postgres://knogin@localhost/knogin?hostaddr=203.0.113.9".to_owned(),
    ] {
        let err = SqlxStore::connect(&refused).await.unwrap_err();
        assert!(
            matches!(err, ConnectError::Plaintext(_)),
            "{refused}: {err}"
        );
        let message = err.to_string();
        assert!(message.contains("sslmode=verify-full") && !message.contains("s3cret"));
    }
    // Allowed explicitly, it tries (and here fails to resolve the host) instead.
    let options = ConnectOptions {
        require_tls_for_remote: false,
        acquire_timeout: std::time::Duration::from_secs(2),
        ..ConnectOptions::default()
    };
    let err = SqlxStore::connect_with(url, &options).await.unwrap_err();
    assert!(matches!(err, ConnectError::Connect(_)), "{err}");
}

#[test]
fn both_databases_have_the_same_migrations() {
    let names = |dir: &str| {
        let mut names: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[tokio::test]
async fn postgres_over_tls_with_sslmode_require() {
    let Ok(url) = std::env::var(testing::POSTGRES_URL_VAR) else {
        return eprintln!("skipped: {} is not set", testing::POSTGRES_URL_VAR);
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = SqlxStore::connect(&format!("{url}{sep}sslmode=require"))
        .await
        .expect("the test server accepts TLS");
    let pool = store.postgres_pool().unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(ssl, "the connection is encrypted");
}

/// Two processes start on one empty database, one on each side of a month boundary.
async fn first_starts_agree(store: &SqlxStore) {
    let master = MasterKey::generate();
    let now = Timestamp::from_unix(1_774_346_400);
    let april = Timestamp::from_unix(1_774_346_400 + 86_400 * 10);
    let (a, b) = tokio::join!(
        KeyRing::load_or_create(
            store,
            &master,
            now,
            Some(FIXTURE_KEY),
            SigningAlgorithm::Rs256
        ),
        KeyRing::load_or_create(
            store,
            &master,
            april,
            Some(OTHER_FIXTURE_KEY),
            SigningAlgorithm::Rs256
        ),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        store.signing_keys().await.unwrap().len(),
        1,
        "one first key"
    );
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

#[tokio::test]
async fn racing_writes_commit_under_serializable_isolation() {
    let settings = [("default_transaction_isolation", "serializable")];
    let Some(db) = testing::postgres_with(&settings).await else {
        return eprintln!("skipped: {} is not set", testing::POSTGRES_URL_VAR);
    };
    let isolation: String = sqlx::query_scalar("SHOW default_transaction_isolation")
        .fetch_one(db.postgres_pool().unwrap())
        .await
        .unwrap();
    assert_eq!(isolation, "serializable");
    // Racing rotations abort one another with SQLSTATE 40001 here; the store runs them again.
    knogin_core::store::conformance::racing_rotations_leave_one_valid_secret(&*db).await;
    knogin_core::store::conformance::racing_first_keys_have_one_winner(&*db).await;
}

#[tokio::test]
async fn a_store_can_connect_without_migrating_and_migrate_later() {
    use knogin_core::store::TenantStore as _;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("later.db").display());
    let options = ConnectOptions {
        run_migrations: false,
        ..ConnectOptions::default()
    };
    let store = SqlxStore::connect_with(&url, &options).await.unwrap();
    let tenant = knogin_core::TenantId::parse("t").unwrap();
    assert!(store.tenant_exists(&tenant).await.is_err(), "no tables yet");
    store.migrate().await.unwrap();
    assert!(!store.tenant_exists(&tenant).await.unwrap());
}

#[tokio::test]
async fn in_memory_sqlite_serves_client_authentication_and_leaves_no_file() {
    use std::sync::Arc;

    let before = stray_files();
    let store = SqlxStore::connect("sqlite::memory:").await.unwrap();
    let clock = Arc::new(knogin_core::ManualClock::new(Timestamp::from_unix(
        1_800_000_000,
    )));
    let knogin = knogin_core::testing::builder(Arc::new(store), MasterKey::generate(), clock)
        .build()
        .await
        .unwrap();
    let tenant = knogin_core::TenantId::parse("demo").unwrap();
    let (app, secret) = knogin
        .apps()
        .register(&tenant, knogin_core::testing::registration())
        .await
        .unwrap();
    let secret = secret.expect("a client-credentials app has a secret");
    let found = knogin
        .apps()
        .authenticate(app.client_id.as_str(), secret.expose(), None)
        .await
        .unwrap();
    assert_eq!(found, app);
    assert_eq!(stray_files(), before, "no file for an in-memory database");
}

/// The files sqlx's in-memory names would leave in the working directory.
fn stray_files() -> Vec<String> {
    std::fs::read_dir(".")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.contains("sqlx-in-memory"))
        .collect()
}

/// An application's own sqlx migrations, as an embedder's app would have them.
fn app_migrations(count: i64) -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let all = [
        "CREATE TABLE incidents (id TEXT PRIMARY KEY, status TEXT NOT NULL)",
        "ALTER TABLE incidents ADD COLUMN title TEXT",
    ];
    let migrations = (1..=count)
        .map(|version| {
            let sql = all[usize::try_from(version - 1).unwrap()];
            Migration::new(
                version,
                format!("app {version}").into(),
                MigrationType::Simple,
                sqlx::SqlStr::from_static(sql),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[tokio::test]
async fn knogins_migrations_and_an_apps_share_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(
            url.parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true),
        )
        .await
        .unwrap();
    // The app migrates first, knogin next, then the app's next migration.
    app_migrations(1).run(&pool).await.unwrap();
    let store = SqlxStore::connect(&url).await.unwrap();
    app_migrations(2).run(&pool).await.unwrap();
    store.migrate().await.unwrap();
    let app_versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(app_versions, [1, 2]);
    let ours: i64 = sqlx::query_scalar("SELECT count(*) FROM _knogin_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(ours >= 11, "{ours}");
}

#[tokio::test]
async fn knogins_migrations_and_an_apps_share_a_postgres_schema_and_old_history_moves() {
    for legacy in [false, true] {
        let Some(pool) = testing::empty_postgres_schema(&[]).await else {
            return eprintln!("skipped: {} is not set", testing::POSTGRES_URL_VAR);
        };
        if legacy {
            // An earlier knogin recorded its migrations in sqlx's default table (so no app's
            // migrations could run beside it).
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .unwrap();
        } else {
            app_migrations(1).run(&pool).await.unwrap();
        }
        let store = SqlxStore::from_postgres_pool(pool.clone()).await.unwrap();
        app_migrations(2).run(&pool).await.unwrap();
        store.migrate().await.unwrap();
        let app_versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(app_versions, [1, 2], "legacy: {legacy}");
        let ours: i64 = sqlx::query_scalar("SELECT count(*) FROM _knogin_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(ours >= 11, "{ours}");
    }
}
