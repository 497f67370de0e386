//! The in-memory store's webhook subscriptions, events and deliveries.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;

use super::{DeliveryRow, Inner, MemoryStore, page};
use crate::clock::Timestamp;
use crate::id::{AppId, DeliveryId, TenantId, WebhookId};
use crate::store::{
    Attempt, Backlog, ClaimedDelivery, Cursor, Delivery, DeliveryPage, DeliveryStatus,
    DeliveryStore, Event, MAX_UNRECORDED_CLAIMS, NextStep, PurgeFilter, Purged, StoreError,
    UNRECORDED_BODY, WebhookPage, WebhookStore,
};
use crate::webhooks::{StoredWebhook, TEST_EVENT_TYPE, health};

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn insert_webhook(&self, webhook: &StoredWebhook) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&webhook.webhook.tenant) {
            return Err(StoreError::MissingParent);
        }
        if inner
            .webhooks
            .iter()
            .any(|(_, w, _)| w.webhook.id == webhook.webhook.id)
        {
            return Err(StoreError::Conflict);
        }
        inner.next_seq += 1;
        let seq = inner.next_seq;
        let stored = StoredWebhook {
            version: 0,
            ..webhook.clone()
        };
        inner.webhooks.push((seq, stored, None));
        Ok(())
    }

    async fn webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<Option<StoredWebhook>, StoreError> {
        Ok(self
            .lock()
            .webhooks
            .iter()
            .find(|(_, w, deleted)| {
                deleted.is_none() && w.webhook.tenant == *tenant && w.webhook.id == *id
            })
            .map(|(_, w, _)| w.clone()))
    }

    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        owner: Option<&AppId>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<WebhookPage, StoreError> {
        let inner = self.lock();
        let live = inner.webhooks.iter().filter(|(_, w, deleted)| {
            deleted.is_none()
                && w.webhook.tenant == *tenant
                && owner.is_none_or(|o| w.webhook.owner.as_ref() == Some(o))
        });
        let (webhooks, next) = page(live.map(|(seq, w, _)| (*seq, w)), after, limit);
        Ok(WebhookPage {
            webhooks: webhooks.into_iter().map(|w| w.webhook.clone()).collect(),
            next,
        })
    }

    async fn count_use(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<crate::store::AuthFailures, StoreError> {
        Ok(super::count_failure(
            &mut self.lock().rate_counters,
            key,
            now,
            window,
        ))
    }

    async fn count_webhooks(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let inner = self.lock();
        let live = inner
            .webhooks
            .iter()
            .filter(|(_, w, deleted)| deleted.is_none() && w.webhook.tenant == *tenant);
        Ok(u64::try_from(live.count()).unwrap_or(u64::MAX))
    }

    async fn replace_webhook(&self, webhook: &StoredWebhook) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let found = inner.webhooks.iter_mut().find(|(_, w, deleted)| {
            deleted.is_none()
                && w.webhook.tenant == webhook.webhook.tenant
                && w.webhook.id == webhook.webhook.id
                && w.version == webhook.version
        });
        let Some((_, w, _)) = found else {
            return Ok(false);
        };
        *w = StoredWebhook {
            version: webhook.version + 1,
            ..webhook.clone()
        };
        if !webhook.webhook.disabled {
            for (_, _, delivery, _) in &mut inner.deliveries {
                if delivery.webhook_id == webhook.webhook.id
                    && is_pending(delivery.status)
                    && delivery.next_attempt_at.is_none()
                {
                    delivery.next_attempt_at = Some(webhook.webhook.updated_at);
                }
            }
        }
        Ok(true)
    }

    async fn delete_webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let found = inner.webhooks.iter_mut().find(|(_, w, deleted)| {
            deleted.is_none() && w.webhook.tenant == *tenant && w.webhook.id == *id
        });
        let Some((_, _, deleted)) = found else {
            return Ok(false);
        };
        *deleted = Some(now);
        for (_, _, delivery, lease) in &mut inner.deliveries {
            if delivery.webhook_id == *id && is_pending(delivery.status) {
                delivery.status = DeliveryStatus::Cancelled;
                delivery.next_attempt_at = None;
                *lease = None;
            }
        }
        Ok(true)
    }
}

/// Whether a delivery in `status` is still to be attempted (due, leased or parked).
fn is_pending(status: DeliveryStatus) -> bool {
    matches!(status, DeliveryStatus::Queued | DeliveryStatus::Retrying)
}

/// Makes a delivery due again at `now`.
fn requeue(unrecorded: &mut HashMap<DeliveryId, u32>, row: &mut DeliveryRow, now: Timestamp) {
    let (_, _, delivery, lease) = row;
    delivery.status = DeliveryStatus::Queued;
    delivery.next_attempt_at = Some(now);
    *lease = None;
    unrecorded.remove(&delivery.id);
}

impl Inner {
    /// Stores `event` and a queued delivery of it to each of `webhooks`.
    fn publish_to(&mut self, event: &Event, webhooks: &[WebhookId]) -> Vec<DeliveryId> {
        self.events.insert(event.id.clone(), event.clone());
        webhooks
            .iter()
            .map(|webhook| {
                self.next_seq += 1;
                let delivery = Delivery {
                    id: DeliveryId::generate(),
                    webhook_id: webhook.clone(),
                    event_id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    status: DeliveryStatus::Queued,
                    attempts: 0,
                    created_at: event.created_at,
                    attempted_at: None,
                    response_status: None,
                    duration_ms: None,
                    response_body: None,
                    next_attempt_at: Some(event.created_at),
                };
                let id = delivery.id.clone();
                self.deliveries
                    .push((self.next_seq, event.tenant.clone(), delivery, None));
                id
            })
            .collect()
    }

    fn live_webhook(&self, tenant: &TenantId, id: &WebhookId) -> Option<&StoredWebhook> {
        self.webhooks
            .iter()
            .find(|(_, w, deleted)| {
                deleted.is_none() && w.webhook.tenant == *tenant && w.webhook.id == *id
            })
            .map(|(_, w, _)| w)
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn publish(&self, event: &Event) -> Result<Vec<DeliveryId>, StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&event.tenant) {
            return Err(StoreError::MissingParent);
        }
        let targets: Vec<WebhookId> = inner
            .webhooks
            .iter()
            .filter(|(_, w, deleted)| {
                deleted.is_none()
                    && !w.webhook.disabled
                    && w.webhook.tenant == event.tenant
                    && w.webhook.events.contains(&event.event_type)
            })
            .map(|(_, w, _)| w.webhook.id.clone())
            .collect();
        Ok(inner.publish_to(event, &targets))
    }

    async fn publish_to(
        &self,
        event: &Event,
        webhook: &WebhookId,
    ) -> Result<Option<DeliveryId>, StoreError> {
        let mut inner = self.lock();
        if inner.live_webhook(&event.tenant, webhook).is_none() {
            return Ok(None);
        }
        Ok(inner.publish_to(event, std::slice::from_ref(webhook)).pop())
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let mut inner = self.lock();
        let mut due: Vec<usize> = (0..inner.deliveries.len())
            .filter(|&i| {
                let (_, _, d, held) = &inner.deliveries[i];
                d.next_attempt_at.is_some_and(|at| at <= now)
                    && held.as_ref().is_none_or(|(_, until)| *until <= now)
            })
            .collect();
        due.sort_by_key(|&i| inner.deliveries[i].2.next_attempt_at);
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut claimed = Vec::new();
        for i in due {
            let (_, tenant, delivery, _) = inner.deliveries[i].clone();
            let webhook = inner
                .webhooks
                .iter()
                .find(|(_, w, _)| w.webhook.tenant == tenant && w.webhook.id == delivery.webhook_id)
                .map(|(_, w, _)| w.clone())
                .ok_or_else(|| StoreError::Corrupt("a delivery without its webhook".into()))?;
            let unrecorded = inner.unrecorded.get(&delivery.id).copied().unwrap_or(0);
            let row = &mut inner.deliveries[i];
            if unrecorded >= MAX_UNRECORDED_CLAIMS {
                row.2.status = DeliveryStatus::Failed;
                row.2.response_body = Some(UNRECORDED_BODY.to_owned());
                row.2.next_attempt_at = None;
                row.3 = None;
                continue;
            }
            if webhook.webhook.disabled && delivery.event_type != TEST_EVENT_TYPE {
                row.2.next_attempt_at = None;
                row.3 = None;
                continue;
            }
            let token = crate::random::hex(16);
            row.3 = Some((token.clone(), now.plus(lease)));
            inner.unrecorded.insert(delivery.id.clone(), unrecorded + 1);
            let event = inner
                .events
                .get(&delivery.event_id)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt("a delivery without its event".into()))?;
            claimed.push(ClaimedDelivery {
                delivery,
                event,
                webhook,
                lease: token,
            });
        }
        Ok(claimed)
    }

    async fn record_attempt(
        &self,
        id: &DeliveryId,
        lease: &str,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let Some((_, tenant, delivery, held)) = inner
            .deliveries
            .iter_mut()
            .find(|(_, _, d, held)| d.id == *id && held.as_ref().is_some_and(|(l, _)| l == lease))
        else {
            return Ok(false);
        };
        *held = None;
        let id = delivery.id.clone();
        delivery.attempts += 1;
        delivery.attempted_at = Some(attempt.attempted_at);
        delivery.response_status = attempt.response_status;
        delivery.duration_ms = Some(attempt.duration_ms);
        delivery.response_body.clone_from(&attempt.response_body);
        (delivery.status, delivery.next_attempt_at) = match attempt.next {
            NextStep::Succeeded => (DeliveryStatus::Succeeded, None),
            NextStep::RetryAt(at) => (DeliveryStatus::Retrying, Some(at)),
            NextStep::Failed | NextStep::FailedAndDisable => (DeliveryStatus::Failed, None),
        };
        let (tenant, webhook) = (tenant.clone(), delivery.webhook_id.clone());
        inner.unrecorded.remove(&id);
        for change in health::fold([(attempt, Some((&tenant, &webhook)))]) {
            for (_, w, _) in &mut inner.webhooks {
                if w.webhook.tenant == change.tenant && w.webhook.id == change.webhook {
                    w.failing_since = change.failing_since.apply(w.failing_since);
                    if let Some(reason) = &change.disable_reason {
                        w.webhook.disabled = true;
                        w.webhook.disabled_reason = Some(reason.clone());
                    }
                }
            }
        }
        Ok(true)
    }

    async fn retry_delivery(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.live_webhook(tenant, webhook).is_none() {
            return Ok(false);
        }
        let Inner {
            deliveries,
            unrecorded,
            ..
        } = &mut *inner;
        let found = deliveries
            .iter_mut()
            .find(|(_, t, d, _)| t == tenant && d.webhook_id == *webhook && d.id == *id);
        Ok(found.map(|row| requeue(unrecorded, row, now)).is_some())
    }

    async fn recover_deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        if inner.live_webhook(tenant, webhook).is_none() {
            return Ok(0);
        }
        let mut count = 0;
        let Inner {
            deliveries,
            unrecorded,
            ..
        } = &mut *inner;
        for row in deliveries {
            let (_, t, d, _) = &*row;
            if t == tenant
                && d.webhook_id == *webhook
                && d.status == DeliveryStatus::Failed
                && d.created_at >= since
            {
                requeue(unrecorded, row, now);
                count += 1;
            }
        }
        Ok(count)
    }

    async fn take_send_slot(
        &self,
        webhook: &WebhookId,
        now: Timestamp,
        limit: u32,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let window = inner
            .send_windows
            .entry(webhook.clone())
            .or_insert((now, 0));
        if window.0 != now {
            *window = (now, 0);
        }
        window.1 += 1;
        Ok(window.1 <= limit)
    }

    async fn defer_delivery(
        &self,
        id: &DeliveryId,
        lease: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let held = inner
            .deliveries
            .iter_mut()
            .find(|(_, _, d, held)| d.id == *id && held.as_ref().is_some_and(|(l, _)| l == lease));
        let Some((_, _, delivery, held)) = held else {
            return Ok(false);
        };
        *held = None;
        delivery.next_attempt_at = Some(at);
        // The claim is given back: a deferral is not an attempt that went unrecorded.
        if let Some(n) = inner.unrecorded.get_mut(id) {
            *n = n.saturating_sub(1);
        }
        Ok(true)
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        status: Option<DeliveryStatus>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<DeliveryPage, StoreError> {
        let inner = self.lock();
        let found = inner.deliveries.iter().filter(|(_, t, d, _)| {
            t == tenant && d.webhook_id == *webhook && status.is_none_or(|s| d.status == s)
        });
        let (deliveries, next) = page(found.map(|(seq, _, d, _)| (*seq, d)), after, limit);
        Ok(DeliveryPage {
            deliveries: deliveries.into_iter().cloned().collect(),
            next,
        })
    }

    async fn backlog(&self, now: Timestamp) -> Result<Backlog, StoreError> {
        Ok(self.lock().backlog(now))
    }

    async fn purge_events(&self, filter: &PurgeFilter, limit: u32) -> Result<Purged, StoreError> {
        Ok(self.lock().purge(filter, limit))
    }
}
