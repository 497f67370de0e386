//! The subscription operations on [`Knogin`]: each checks its input, seals secrets, and makes
//! one store call, always within the caller's tenant.

use crate::clock::Timestamp;
use crate::id::DeliveryId;
use crate::id::{TenantId, WebhookId};
use crate::keys::Purpose;
use crate::knogin::Knogin;
use crate::store::{Cursor, DeliveryPage, DeliveryStatus, StoreError, WebhookPage};
use crate::validation::ValidationErrors;
use crate::webhooks::TEST_EVENT_TYPE;
use crate::webhooks::model::Rules;
use crate::webhooks::{NewWebhook, StoredWebhook, Webhook, WebhookPatch, WebhookSecret};

/// Why a subscription operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Fields break the rules; each is named.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No such subscription in the caller's tenant.
    #[error("no such webhook")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The sealing context of a subscription's secret: its tenant and id, so a sealed secret moved
/// to another row does not open.
fn context(webhook: &Webhook) -> Vec<u8> {
    [
        webhook.tenant.as_str().as_bytes(),
        b"\0",
        webhook.id.as_str().as_bytes(),
    ]
    .concat()
}

impl Knogin {
    fn webhook_rules(&self) -> Rules<'_> {
        Rules {
            catalog: &self.0.webhooks.catalog,
            allow_private: self.0.webhooks.allow_private_targets,
        }
    }

    fn seal_secret(&self, webhook: &Webhook, secret: &WebhookSecret) -> Vec<u8> {
        self.0
            .master_key
            .seal(Purpose::WebhookSecret, &context(webhook), secret.bytes())
    }

    /// Creates a subscription for `tenant`. Returns it, and its secret when this call generated
    /// it (the only time it is shown); a secret the request gave is not echoed.
    pub async fn create_webhook(
        &self,
        tenant: &TenantId,
        request: NewWebhook,
    ) -> Result<(Webhook, Option<WebhookSecret>), WebhookError> {
        let generated = request.secret.is_none();
        let now = self.0.clock.now();
        let (webhook, secret) = self.webhook_rules().create(request, tenant, now)?;
        let stored = StoredWebhook {
            secret: self.seal_secret(&webhook, &secret),
            previous_secret: None,
            failing_since: None,
            webhook,
        };
        self.0.store.ensure_tenant(tenant, now).await?;
        self.0.store.insert_webhook(&stored).await?;
        Ok((stored.webhook, generated.then_some(secret)))
    }

    /// `tenant`'s subscription `id`.
    pub async fn webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<Webhook, WebhookError> {
        self.0
            .store
            .webhook(tenant, id)
            .await?
            .map(|stored| stored.webhook)
            .ok_or(WebhookError::NotFound)
    }

    /// Up to `limit` of `tenant`'s subscriptions, newest first, after `after`.
    pub async fn list_webhooks(
        &self,
        tenant: &TenantId,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<WebhookPage, WebhookError> {
        Ok(self.0.store.list_webhooks(tenant, after, limit).await?)
    }

    /// Applies `patch` to `tenant`'s subscription `id`. A new secret signs from now on, and the
    /// one it replaces keeps signing beside it for the configured overlap.
    pub async fn update_webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        patch: WebhookPatch,
    ) -> Result<Webhook, WebhookError> {
        let current = self
            .0
            .store
            .webhook(tenant, id)
            .await?
            .ok_or(WebhookError::NotFound)?;
        let now = self.0.clock.now();
        let reenabled = patch.disabled == Some(false);
        let (webhook, secret) = self.webhook_rules().apply(&current.webhook, patch, now)?;
        let current = StoredWebhook {
            failing_since: if reenabled {
                None
            } else {
                current.failing_since
            },
            ..current
        };
        let stored = match secret {
            Some(secret) => StoredWebhook {
                secret: self.seal_secret(&webhook, &secret),
                previous_secret: Some((current.secret, now.plus(self.0.webhooks.secret_overlap))),
                failing_since: current.failing_since,
                webhook,
            },
            None => StoredWebhook { webhook, ..current },
        };
        if !self.0.store.replace_webhook(&stored).await? {
            return Err(WebhookError::NotFound);
        }
        Ok(stored.webhook)
    }

    /// Deletes `tenant`'s subscription `id`: it receives nothing more; its delivery history
    /// stays readable until purged.
    pub async fn delete_webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<(), WebhookError> {
        let now = self.0.clock.now();
        if self.0.store.delete_webhook(tenant, id, now).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// Queues a synthetic `webhook.test` event to `tenant`'s subscription `id` alone (enabled
    /// or not), delivered like any other and kept in its history.
    pub async fn send_test(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<DeliveryId, WebhookError> {
        let data = format!(r#"{{"webhook_id":"{id}"}}"#);
        let event = self
            .event(tenant, TEST_EVENT_TYPE, &data)
            .map_err(|e| WebhookError::Store(StoreError::Corrupt(e.to_string())))?;
        let made = self
            .0
            .store
            .publish_to(&event, id)
            .await?
            .ok_or(WebhookError::NotFound)?;
        self.0.publications.signal.notify();
        Ok(made)
    }

    /// Up to `limit` deliveries of `tenant`'s subscription `id`, newest first, with `status`
    /// when given, after `after`. A subscription that does not exist in the tenant and has no
    /// history is [`WebhookError::NotFound`]; a deleted one's history stays readable.
    pub async fn delivery_history(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        status: Option<DeliveryStatus>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<DeliveryPage, WebhookError> {
        let page = self
            .0
            .store
            .deliveries(tenant, id, status, after, limit)
            .await?;
        if page.deliveries.is_empty() && self.0.store.webhook(tenant, id).await?.is_none() {
            return Err(WebhookError::NotFound);
        }
        Ok(page)
    }

    /// Resends delivery `delivery` of `tenant`'s subscription `id`: it is due again now,
    /// whatever its status.
    pub async fn retry_delivery(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<(), WebhookError> {
        let now = self.0.clock.now();
        if self
            .0
            .store
            .retry_delivery(tenant, id, delivery, now)
            .await?
        {
            self.0.publications.signal.notify();
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// Resends every failed delivery of `tenant`'s subscription `id` created at or after
    /// `since` (after an integrator's outage). Returns how many.
    pub async fn recover_deliveries(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        since: Timestamp,
    ) -> Result<u64, WebhookError> {
        if self.0.store.webhook(tenant, id).await?.is_none() {
            return Err(WebhookError::NotFound);
        }
        let now = self.0.clock.now();
        let resent = self
            .0
            .store
            .recover_deliveries(tenant, id, since, now)
            .await?;
        if resent > 0 {
            self.0.publications.signal.notify();
        }
        Ok(resent)
    }
}
