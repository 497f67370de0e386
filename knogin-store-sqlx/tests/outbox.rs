//! Publishing inside the embedder's own transaction: the event and its deliveries commit or roll
//! back with the embedder's own write, on SQLite and PostgreSQL.

use knogin_core::store::{DeliveryStore as _, Event, TenantStore as _, WebhookStore as _};
use knogin_core::webhooks::{StoredWebhook, Webhook};
use knogin_core::{EventId, TenantId, Timestamp, WebhookId};
use knogin_store_sqlx::{SqlxStore, publish_in_postgres, publish_in_sqlite, testing};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

/// A tenant with one subscription to incident.updated, and an embedder's own table.
async fn prepare(store: &SqlxStore) -> (TenantId, WebhookId) {
    let tenant = TenantId::parse("acme").unwrap();
    store.ensure_tenant(&tenant, T0).await.unwrap();
    let webhook = StoredWebhook {
        webhook: Webhook {
            owner: None,
            id: WebhookId::generate(),
            tenant: tenant.clone(),
            url: "https://integrator.example/hooks".into(),
            events: vec!["incident.updated".into()],
            description: None,
            disabled: false,
            disabled_reason: None,
            rate_limit: None,
            created_at: T0,
            updated_at: T0,
        },
        secret: vec![1; 8],
        previous_secret: None,
        failing_since: None,
        version: 0,
    };
    store.insert_webhook(&webhook).await.unwrap();
    (tenant, webhook.webhook.id)
}

fn event(tenant: &TenantId) -> Event {
    Event {
        id: EventId::generate(),
        tenant: tenant.clone(),
        event_type: "incident.updated".into(),
        data: r#"{"id":"inc_1"}"#.into(),
        created_at: T0,
    }
}

async fn delivered(store: &SqlxStore, tenant: &TenantId, webhook: &WebhookId) -> usize {
    store
        .deliveries(tenant, webhook, None, None, 10)
        .await
        .unwrap()
        .deliveries
        .len()
}

#[tokio::test]
async fn sqlite_outbox_commits_and_rolls_back_with_the_callers_transaction() {
    let db = testing::sqlite().await;
    let (tenant, webhook) = prepare(&db).await;
    let pool = db.sqlite_pool().unwrap();
    sqlx::query("CREATE TABLE incidents (id TEXT PRIMARY KEY)")
        .execute(pool)
        .await
        .unwrap();
    for commit in [false, true] {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO incidents (id) VALUES ('inc_1')")
            .execute(&mut *tx)
            .await
            .unwrap();
        let made = publish_in_sqlite(&mut tx, &event(&tenant)).await.unwrap();
        assert_eq!(made.len(), 1);
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
        assert_eq!(delivered(&db, &tenant, &webhook).await, usize::from(commit));
    }
    let incidents: i64 = sqlx::query_scalar("SELECT count(*) FROM incidents")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(incidents, 1);
}

#[tokio::test]
async fn postgres_outbox_commits_and_rolls_back_with_the_callers_transaction() {
    let Some(db) = testing::postgres().await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let (tenant, webhook) = prepare(&db).await;
    let pool = db.postgres_pool().unwrap();
    sqlx::query("CREATE TABLE incidents (id TEXT PRIMARY KEY)")
        .execute(pool)
        .await
        .unwrap();
    for commit in [false, true] {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO incidents (id) VALUES ('inc_1')")
            .execute(&mut *tx)
            .await
            .unwrap();
        let made = publish_in_postgres(&mut tx, &event(&tenant)).await.unwrap();
        assert_eq!(made.len(), 1);
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
        assert_eq!(delivered(&db, &tenant, &webhook).await, usize::from(commit));
    }
}

/// On PostgreSQL, a publication by another process (here: another pool) wakes the workers
/// listening on the same schema, and one in another schema does not.
#[tokio::test]
async fn postgres_publications_wake_the_workers_of_other_processes_on_the_schema() {
    use std::time::Duration;

    use knogin_core::webhooks::PublicationSignal;
    use tokio::time::timeout;

    let Some(db) = testing::postgres().await else {
        return;
    };
    let Some(elsewhere) = testing::postgres().await else {
        return;
    };
    let (tenant, _) = prepare(&db).await;
    prepare(&elsewhere).await;
    let options = db
        .postgres_pool()
        .unwrap()
        .connect_options()
        .as_ref()
        .clone();
    let other_process = SqlxStore::from_postgres_pool(
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await
            .unwrap(),
    )
    .await
    .unwrap();

    let signal = PublicationSignal::default();
    let listening = signal.listen();
    db.publication_bus().unwrap().watch(signal.clone());
    timeout(Duration::from_secs(10), listening)
        .await
        .expect("the store says when it listens");

    let woken = signal.listen();
    elsewhere.publish(&event(&tenant)).await.unwrap();
    let mut woken = std::pin::pin!(woken);
    assert!(
        timeout(Duration::from_millis(300), &mut woken)
            .await
            .is_err(),
        "a publication in another schema wakes nobody here"
    );
    other_process.publish(&event(&tenant)).await.unwrap();
    timeout(Duration::from_secs(10), woken)
        .await
        .expect("a publication by another process on the schema wakes the workers");

    // An embedder that published in its own transaction announces it after the commit.
    let woken = signal.listen();
    other_process.publication_bus().unwrap().announce();
    timeout(Duration::from_secs(10), woken)
        .await
        .expect("an announcement wakes the workers");

    // A short-lived publisher, whose runtime ends as soon as it has published and flushed:
    // its announcement is not lost with it.
    let woken = signal.listen();
    let event = event(&tenant);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await
                .unwrap();
            let store = SqlxStore::from_postgres_pool(pool).await.unwrap();
            store.publish(&event).await.unwrap();
            store.publication_bus().unwrap().flush().await;
        });
    })
    .join()
    .unwrap();
    timeout(Duration::from_secs(10), woken)
        .await
        .expect("a flushed announcement outlives its publisher");
}
