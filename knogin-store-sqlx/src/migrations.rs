//! knogin's migrations, kept apart from the embedding application's: knogin often shares a
//! database with the app's own sqlx migrations (the transactional outbox needs exactly that),
//! so its history lives in its own table, [`MIGRATIONS_TABLE`], never in sqlx's default
//! `_sqlx_migrations`. A database migrated by an earlier knogin, which used the default table,
//! has knogin's rows moved over on the first run (matched by version and checksum, so the
//! app's own rows stay where they are).

use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::{Connection, Executor};

/// The table knogin records its applied migrations in.
pub const MIGRATIONS_TABLE: &str = "_knogin_migrations";

/// sqlx's default migrations table, where knogin kept its history before.
const LEGACY_TABLE: &str = "_sqlx_migrations";

/// The SQLite migrations, recording into [`MIGRATIONS_TABLE`].
fn sqlite() -> Migrator {
    own_table(sqlx::migrate!("./migrations/sqlite"))
}

/// The PostgreSQL migrations, recording into [`MIGRATIONS_TABLE`].
fn postgres() -> Migrator {
    own_table(sqlx::migrate!("./migrations/postgres"))
}

fn own_table(mut migrator: Migrator) -> Migrator {
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// Moves knogin's applied migrations from `_sqlx_migrations` to [`MIGRATIONS_TABLE`] on
/// `$conn` when the latter is still empty, in one transaction (see the module docs).
macro_rules! adopt_legacy_history {
    ($migrator:expr, $conn:expr) => {{
        let migrator: &Migrator = $migrator;
        let conn = $conn;
        conn.ensure_migrations_table(MIGRATIONS_TABLE).await?;
        if conn
            .list_applied_migrations(MIGRATIONS_TABLE)
            .await?
            .is_empty()
        {
            let read = format!("SELECT version, checksum FROM {LEGACY_TABLE}");
            // Without a legacy table there is nothing to adopt.
            let legacy: Vec<(i64, Vec<u8>)> = match sqlx::query_as(sqlx::AssertSqlSafe(read))
                .fetch_all(&mut *conn)
                .await
            {
                Ok(rows) => rows,
                Err(sqlx::Error::Database(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            let ours = knogin_versions(migrator, &legacy);
            if !ours.is_empty() {
                let mut tx = conn.begin().await?;
                tx.execute(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {MIGRATIONS_TABLE} (version, description, installed_on, \
                     success, checksum, execution_time) SELECT version, description, \
                     installed_on, success, checksum, execution_time FROM {LEGACY_TABLE} \
                     WHERE version IN ({ours})"
                )))
                .await?;
                tx.execute(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {LEGACY_TABLE} WHERE version IN ({ours})"
                )))
                .await?;
                tx.commit().await?;
                tracing::info!(
                    "moved knogin's applied migrations from {LEGACY_TABLE} to {MIGRATIONS_TABLE}"
                );
            }
        }
    }};
}

/// The versions among `applied` (version, checksum) that are knogin's own migrations, as a
/// comma-separated list; empty when there are none.
fn knogin_versions(migrator: &Migrator, applied: &[(i64, Vec<u8>)]) -> String {
    applied
        .iter()
        .filter(|(version, checksum)| {
            migrator
                .iter()
                .any(|m| m.version == *version && *m.checksum == **checksum)
        })
        .map(|(version, _)| version.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the SQLite migrations on one connection of `pool` (see the module docs).
pub(crate) async fn run_sqlite(pool: &sqlx::SqlitePool) -> Result<(), MigrateError> {
    let migrator = sqlite();
    let mut conn = pool.acquire().await?;
    adopt_legacy_history!(&migrator, &mut *conn);
    migrator.run(&mut *conn).await
}

/// Runs the PostgreSQL migrations on one connection of `pool` (see the module docs), and
/// hands it back before returning: dropped, it would go back from a task of its own, too late
/// for the caller's next acquire, which would then open a second connection (about 100 ms of
/// a `publish`'s start-up on a busy 2-core machine).
pub(crate) async fn run_postgres(pool: &sqlx::PgPool) -> Result<(), MigrateError> {
    let migrator = postgres();
    let mut conn = pool.acquire().await?;
    adopt_legacy_history!(&migrator, &mut *conn);
    migrator.run(&mut *conn).await?;
    conn.return_to_pool().await;
    Ok(())
}
