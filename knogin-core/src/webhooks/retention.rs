//! How long webhook data is kept, and its erasure: finished events go with their deliveries
//! (payloads and receivers' answers included) after the retention period, or at once for a
//! tenant that asks.

use std::time::Duration;

use super::Webhooks;
use crate::clock::Timestamp;
use crate::id::TenantId;
use crate::shared::Core;
use crate::store::{PurgeFilter, Purged, StoreError};

/// The default [`WebhookSettings::retention`](super::WebhookSettings::retention): 30 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// How many events one purge transaction deletes at most: each is short, and locks no more.
pub const PURGE_BATCH: u32 = 500;

/// What an erasure does with events that still have deliveries to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pending {
    /// Keep them whole: they are delivered, and go at a later erasure or with the retention.
    Keep,
    /// Delete them too, their deliveries unsent.
    Delete,
}

impl Core {
    /// Deletes the events `filter` selects, batch by batch, until none is left (or `go_on`
    /// says stop between batches).
    pub(crate) async fn purge(
        &self,
        filter: &PurgeFilter,
        go_on: impl Fn() -> bool,
    ) -> Result<Purged, StoreError> {
        let mut purged = Purged::default();
        loop {
            let batch = self.0.store.purge_events(filter, PURGE_BATCH).await?;
            purged += batch;
            if batch.events < u64::from(PURGE_BATCH) || !go_on() {
                return Ok(purged);
            }
        }
    }

    /// Deletes every tenant's finished events older than the retention period.
    pub(crate) async fn purge_expired(
        &self,
        go_on: impl Fn() -> bool,
    ) -> Result<Purged, StoreError> {
        let Some(before) = self.webhooks().history_since() else {
            return Ok(Purged::default());
        };
        let filter = PurgeFilter {
            tenant: None,
            before: Some(before),
            include_pending: false,
        };
        let purged = self.purge(&filter, go_on).await?;
        if purged.events > 0 {
            tracing::info!(
                "webhook retention: deleted {} events and {} deliveries published before {before}",
                purged.events,
                purged.deliveries,
            );
        }
        Ok(purged)
    }
}

impl Webhooks<'_> {
    /// Erases `tenant`'s events published before `before` (all of them without), each with its
    /// deliveries: the payloads and the receivers' answers go, and the delivery history no
    /// longer lists them. Events with deliveries still to make stay unless `pending` is
    /// [`Pending::Delete`]. Other tenants are untouched. Runs in short transactions of
    /// [`PURGE_BATCH`] events; returns how many events and deliveries went.
    ///
    /// ```no_run
    /// # async fn example(knogin: knogin_core::Knogin) -> Result<(), knogin_core::store::StoreError> {
    /// use knogin_core::webhooks::Pending;
    /// let tenant = knogin_core::TenantId::parse("acme").unwrap();
    /// let purged = knogin.webhooks().purge_events(&tenant, None, Pending::Keep).await?;
    /// println!("{} events, {} deliveries", purged.events, purged.deliveries);
    /// # Ok(()) }
    /// ```
    pub async fn purge_events(
        &self,
        tenant: &TenantId,
        before: Option<Timestamp>,
        pending: Pending,
    ) -> Result<Purged, StoreError> {
        let filter = PurgeFilter {
            tenant: Some(tenant.clone()),
            before,
            include_pending: pending == Pending::Delete,
        };
        let purged = self.knogin.purge(&filter, || true).await?;
        tracing::info!(
            tenant = %tenant,
            "erased {} webhook events and {} deliveries",
            purged.events,
            purged.deliveries
        );
        Ok(purged)
    }

    /// How far back the delivery history goes: events published before this time are deleted
    /// once finished (`None`: kept forever).
    pub fn history_since(&self) -> Option<Timestamp> {
        let retention = self.knogin.0.webhooks.retention?;
        Some(crate::clock::before(self.knogin.0.clock.now(), retention))
    }
}
