//! The subscription operations of [`Webhooks`], lent by `Knogin::webhooks`: each checks its
//! input, seals secrets, and makes one store call, always within the caller's tenant and on
//! subscriptions the caller manages (its app's own, or with `webhooks:admin` the tenant's).

use crate::audit::AuditKind;
use crate::clock::Timestamp;
use crate::id::DeliveryId;
use crate::id::WebhookId;
use crate::keys::Purpose;
use crate::shared::Core;
use crate::store::{Cursor, DeliveryPage, DeliveryStatus, StoreError, WebhookPage};
use crate::validation::ValidationErrors;
use crate::webhooks::TEST_EVENT_TYPE;
use crate::webhooks::model::Rules;
use crate::webhooks::{
    NewWebhook, StoredWebhook, Webhook, WebhookCaller, WebhookPatch, WebhookSecret,
};

/// Why a subscription operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Fields break the rules; each is named.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No such subscription among those the caller manages.
    #[error("no such webhook")]
    NotFound,
    /// The tenant has as many subscriptions as it may.
    #[error("this tenant has {0} webhook subscriptions, the most it may have")]
    QuotaReached(u64),
    /// Another change to the subscription landed between this one's read and its write: read
    /// it again and retry.
    #[error("the webhook was changed by another request meanwhile")]
    Conflict,
    /// The subscription had as many test sends (or recoveries) as it may in the current minute.
    #[error("too many requests of this kind for this webhook; try again in {} seconds", .retry_after.as_secs())]
    RateLimited {
        /// How long until the window ends.
        retry_after: std::time::Duration,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many test sends a subscription may have per minute, across instances.
pub const TEST_SENDS_PER_MINUTE: u32 = 10;

/// How many recoveries a subscription may have per minute, across instances.
pub const RECOVERIES_PER_MINUTE: u32 = 5;

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

/// Webhook subscriptions, their deliveries, and publishing events to them, for one handle:
/// [`Knogin::webhooks`](crate::Knogin::webhooks). Every subscription method acts for a [`WebhookCaller`]: the app that
/// owns the subscription, or a `webhooks:admin` caller of its tenant.
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    pub(crate) knogin: &'a Core,
}

impl Core {
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

    /// Counts one `what` (`test` or `recover`) of subscription `id` against `per_minute`, across
    /// instances: [`WebhookError::RateLimited`] beyond it. Sends and recoveries make outbound
    /// requests, which nobody may have at will.
    async fn within_limit(
        &self,
        what: &str,
        id: &WebhookId,
        per_minute: u32,
    ) -> Result<(), WebhookError> {
        let window = std::time::Duration::from_secs(60);
        let now = self.0.clock.now();
        let used = self
            .0
            .store
            .count_use(&format!("webhook-{what}:{id}"), now, window)
            .await?;
        if used.count > per_minute {
            let ends = used.window_start.plus(window).unix() - now.unix();
            let retry_after =
                std::time::Duration::from_secs(u64::try_from(ends).unwrap_or(1).max(1));
            return Err(WebhookError::RateLimited { retry_after });
        }
        Ok(())
    }

    /// Subscription `id` as stored, if `caller` manages it.
    async fn managed(
        &self,
        caller: &WebhookCaller,
        id: &WebhookId,
    ) -> Result<StoredWebhook, WebhookError> {
        self.0
            .store
            .webhook(caller.tenant(), id)
            .await?
            .filter(|stored| caller.manages(&stored.webhook))
            .ok_or(WebhookError::NotFound)
    }
}

impl Webhooks<'_> {
    /// Creates a subscription owned by `caller`'s app. Returns it, and its secret when this call
    /// generated it (the only time it is shown); a secret the request gave is not echoed.
    pub async fn create(
        &self,
        caller: &WebhookCaller,
        request: NewWebhook,
    ) -> Result<(Webhook, Option<WebhookSecret>), WebhookError> {
        let tenant = caller.tenant();
        let generated = request.secret.is_none();
        let now = self.knogin.0.clock.now();
        let (webhook, secret) =
            self.knogin
                .webhook_rules()
                .create(request, tenant, caller.owner(), now)?;
        let quota = self.knogin.0.webhooks.max_subscriptions;
        if self.knogin.0.store.count_webhooks(tenant).await? >= quota {
            return Err(WebhookError::QuotaReached(quota));
        }
        let stored = StoredWebhook {
            secret: self.knogin.seal_secret(&webhook, &secret),
            previous_secret: None,
            failing_since: None,
            version: 0,
            webhook,
        };
        self.knogin.0.store.ensure_tenant(tenant, now).await?;
        self.knogin.0.store.insert_webhook(&stored).await?;
        self.knogin
            .audit(AuditKind::WebhookCreated, caller.actor())
            .tenant(tenant)
            .client(caller.owner().as_str())
            .detail("webhook_id", stored.webhook.id.as_str())
            .detail("url", stored.webhook.url.as_str())
            .record();
        Ok((stored.webhook, generated.then_some(secret)))
    }

    /// Subscription `id`, if `caller` manages it.
    pub async fn get(
        &self,
        caller: &WebhookCaller,
        id: &WebhookId,
    ) -> Result<Webhook, WebhookError> {
        Ok(self.knogin.managed(caller, id).await?.webhook)
    }

    /// Up to `limit` of the subscriptions `caller` manages, newest first, after `after`.
    pub async fn list(
        &self,
        caller: &WebhookCaller,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<WebhookPage, WebhookError> {
        Ok(self
            .knogin
            .0
            .store
            .list_webhooks(caller.tenant(), caller.listing_owner(), after, limit)
            .await?)
    }

    /// Applies `patch` to subscription `id`, which `caller` manages. A new secret signs from
    /// now on, and the one it replaces keeps signing beside it for the configured overlap. When
    /// another change lands between this one's read and its write, nothing is written:
    /// [`WebhookError::Conflict`].
    pub async fn update(
        &self,
        caller: &WebhookCaller,
        id: &WebhookId,
        patch: WebhookPatch,
    ) -> Result<Webhook, WebhookError> {
        let current = self.knogin.managed(caller, id).await?;
        let now = self.knogin.0.clock.now();
        let reenabled = patch.disabled == Some(false);
        let (webhook, secret) = self
            .knogin
            .webhook_rules()
            .apply(&current.webhook, patch, now)?;
        let current = StoredWebhook {
            failing_since: if reenabled {
                None
            } else {
                current.failing_since
            },
            ..current
        };
        let secret_rotated = secret.is_some();
        let stored = match secret {
            Some(secret) => StoredWebhook {
                secret: self.knogin.seal_secret(&webhook, &secret),
                previous_secret: Some((
                    current.secret,
                    now.plus(self.knogin.0.webhooks.secret_overlap),
                )),
                failing_since: current.failing_since,
                version: current.version,
                webhook,
            },
            None => StoredWebhook { webhook, ..current },
        };
        if !self.knogin.0.store.replace_webhook(&stored).await? {
            // Gone meanwhile, or changed by someone else first.
            return match self.knogin.0.store.webhook(caller.tenant(), id).await? {
                Some(_) => Err(WebhookError::Conflict),
                None => Err(WebhookError::NotFound),
            };
        }
        self.knogin
            .audit(AuditKind::WebhookUpdated, caller.actor())
            .tenant(caller.tenant())
            .owner(stored.webhook.owner.as_ref())
            .detail("webhook_id", id.as_str())
            .detail("disabled", stored.webhook.disabled.to_string())
            .detail("secret_rotated", secret_rotated.to_string())
            .record();
        Ok(stored.webhook)
    }

    /// Deletes subscription `id`, which `caller` manages: it receives nothing more; its
    /// delivery history stays readable (to `webhooks:admin` tokens) until purged.
    pub async fn delete(&self, caller: &WebhookCaller, id: &WebhookId) -> Result<(), WebhookError> {
        let current = self.knogin.managed(caller, id).await?;
        let now = self.knogin.0.clock.now();
        if self
            .knogin
            .0
            .store
            .delete_webhook(caller.tenant(), id, now)
            .await?
        {
            self.knogin
                .audit(AuditKind::WebhookDeleted, caller.actor())
                .tenant(caller.tenant())
                .owner(current.webhook.owner.as_ref())
                .detail("webhook_id", id.as_str())
                .record();
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// Queues a synthetic `webhook.test` event to subscription `id` alone (enabled or not),
    /// which `caller` manages: delivered once (never retried) and kept in its history.
    pub async fn send_test(
        &self,
        caller: &WebhookCaller,
        id: &WebhookId,
    ) -> Result<DeliveryId, WebhookError> {
        self.knogin.managed(caller, id).await?;
        self.knogin
            .within_limit("test", id, TEST_SENDS_PER_MINUTE)
            .await?;
        let tenant = caller.tenant();
        let data = serde_json::json!({ "webhook_id": id.as_str() });
        let event = self
            .knogin
            .webhooks()
            .event(tenant, TEST_EVENT_TYPE, &data)
            .map_err(|e| WebhookError::Store(StoreError::Corrupt(e.to_string())))?;
        let made = self
            .knogin
            .0
            .store
            .publish_to(&event, id)
            .await?
            .ok_or(WebhookError::NotFound)?;
        self.knogin.0.publications.signal.notify();
        Ok(made)
    }

    /// Up to `limit` deliveries of subscription `id`, which `caller` manages, newest first,
    /// with `status` when given, after `after`. A deleted subscription's history stays readable
    /// to `webhooks:admin` tokens (its owner no longer sees it).
    pub async fn deliveries(
        &self,
        caller: &WebhookCaller,
        id: &WebhookId,
        status: Option<DeliveryStatus>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<DeliveryPage, WebhookError> {
        let tenant = caller.tenant();
        let live = match self.knogin.managed(caller, id).await {
            Ok(_) => true,
            Err(WebhookError::NotFound) if caller.is_admin() => false,
            Err(e) => return Err(e),
        };
        let page = self
            .knogin
            .0
            .store
            .deliveries(tenant, id, status, after, limit)
            .await?;
        if !live && page.deliveries.is_empty() {
            return Err(WebhookError::NotFound);
        }
        Ok(page)
    }

    /// Resends delivery `delivery` of subscription `id`, which `caller` manages: it is due
    /// again now, whatever its status.
    pub async fn retry(
        &self,
        caller: &WebhookCaller,
        id: &WebhookId,
        delivery: &DeliveryId,
    ) -> Result<(), WebhookError> {
        self.knogin.managed(caller, id).await?;
        let tenant = caller.tenant();
        let now = self.knogin.0.clock.now();
        if self
            .knogin
            .0
            .store
            .retry_delivery(tenant, id, delivery, now)
            .await?
        {
            self.knogin.0.publications.signal.notify();
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// Resends every failed delivery of subscription `id`, which `caller` manages, created at
    /// or after `since` (after an integrator's outage). Returns how many.
    pub async fn recover(
        &self,
        caller: &WebhookCaller,
        id: &WebhookId,
        since: Timestamp,
    ) -> Result<u64, WebhookError> {
        self.knogin.managed(caller, id).await?;
        self.knogin
            .within_limit("recover", id, RECOVERIES_PER_MINUTE)
            .await?;
        let tenant = caller.tenant();
        let now = self.knogin.0.clock.now();
        let resent = self
            .knogin
            .0
            .store
            .recover_deliveries(tenant, id, since, now)
            .await?;
        if resent > 0 {
            self.knogin.0.publications.signal.notify();
        }
        Ok(resent)
    }
}
