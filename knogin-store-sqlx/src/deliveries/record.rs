//! Recording a worker's batch of attempts so that one attempt the database refuses cannot sink
//! the others (a receiver's answer with a NUL, which PostgreSQL refuses in text, say).

use knogin_core::store::{Attempt, StoreError};
use knogin_core::webhooks::health;
use knogin_core::{TenantId, WebhookId};

use super::writes::{BatchWrites as _, Finished};
use crate::{SqlxStore, store_error, transaction, with_pool};

impl SqlxStore {
    /// Records `attempts` in one transaction; when the database refuses the data itself, each
    /// alone (see [`SqlxStore::record_alone`]). Returns, in order, whether each was recorded.
    pub(super) async fn record_batch(
        &self,
        attempts: &[Finished],
    ) -> Result<Vec<bool>, StoreError> {
        match self.record_together(attempts).await {
            Err(e) if is_data_error(&e) => {
                tracing::warn!(error = %e, "recording delivery attempts one by one");
                let mut recorded = Vec::with_capacity(attempts.len());
                for attempt in attempts {
                    recorded.push(self.record_alone(attempt).await?);
                }
                Ok(recorded)
            }
            other => other.map_err(store_error),
        }
    }

    /// Records `attempts` and their health changes in one transaction.
    async fn record_together(&self, attempts: &[Finished]) -> Result<Vec<bool>, sqlx::Error> {
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let recorded = tx.record(attempts).await?;
            let owners: Vec<Option<(TenantId, WebhookId)>> = recorded
                .iter()
                .map(|owner| {
                    let (webhook, tenant) = owner.as_ref()?;
                    Some((TenantId::parse(tenant)?, WebhookId::parse(webhook)?))
                })
                .collect();
            let changes = health::fold(
                attempts
                    .iter()
                    .map(|(_, _, a)| a)
                    .zip(owners.iter().map(|o| o.as_ref().map(|(t, w)| (t, w)))),
            );
            tx.health(&changes).await?;
            tx.commit().await.map(|()| recorded.iter().map(Option::is_some).collect())
        }).await)
    }

    /// Records one attempt of a batch the database refused: as it is, or else with
    /// [`UNSTORABLE_BODY`] in place of the answer it could not store. When even that is refused
    /// it stays unrecorded, and its claims run out (see
    /// [`MAX_UNRECORDED_CLAIMS`](knogin_core::store::MAX_UNRECORDED_CLAIMS)).
    async fn record_alone(&self, finished: &Finished) -> Result<bool, StoreError> {
        let one = std::slice::from_ref(finished);
        match self.record_together(one).await {
            Ok(recorded) => Ok(recorded[0]),
            Err(e) if is_data_error(&e) => {
                let (id, lease, attempt) = finished;
                tracing::warn!(error = %e, delivery = %id, "a delivery attempt's answer cannot be stored");
                let plain = Attempt {
                    response_body: Some(UNSTORABLE_BODY.to_owned()),
                    ..attempt.clone()
                };
                match self
                    .record_together(&[(id.clone(), lease.clone(), plain)])
                    .await
                {
                    Ok(recorded) => Ok(recorded[0]),
                    Err(e) if is_data_error(&e) => Ok(false),
                    Err(e) => Err(store_error(e)),
                }
            }
            Err(e) => Err(store_error(e)),
        }
    }
}

/// What the history shows for an answer the database refused to store.
const UNSTORABLE_BODY: &str = "knogin: the receiver's answer could not be stored";

/// Whether the database refused the data itself (SQLSTATE class 22, a data exception such as a
/// NUL in text), rather than failing: the same statement fails the same way every time.
fn is_data_error(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("22")))
}
