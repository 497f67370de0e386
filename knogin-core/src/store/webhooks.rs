//! What webhook subscriptions store.

use async_trait::async_trait;

use super::{Cursor, StoreError};
use crate::clock::Timestamp;
use crate::id::{AppId, TenantId, WebhookId};
use crate::webhooks::{StoredWebhook, Webhook};

/// One page of subscriptions, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPage {
    /// Up to `limit` subscriptions.
    pub webhooks: Vec<Webhook>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// Webhook subscriptions. Every call names the tenant: another tenant's subscription is the
/// same as none. Deleted subscriptions are kept (their history stays readable) but never
/// returned.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new subscription. The tenant must exist.
    async fn insert_webhook(&self, webhook: &StoredWebhook) -> Result<(), StoreError>;

    /// `tenant`'s subscription `id`, unless deleted.
    async fn webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<Option<StoredWebhook>, StoreError>;

    /// Up to `limit` of `tenant`'s subscriptions (only those `owner` created, when given),
    /// newest first, starting after `after`.
    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        owner: Option<&AppId>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<WebhookPage, StoreError>;

    /// Counts one use under `key` (a rate limit's, as the core spells it) in a fixed window of
    /// `window`: a new window starting at `now` when there is none or it began `window` or
    /// longer ago, else one more in the current one. Returns the window and its count.
    async fn count_use(
        &self,
        key: &str,
        now: Timestamp,
        window: std::time::Duration,
    ) -> Result<super::AuthFailures, StoreError>;

    /// How many live subscriptions `tenant` has (for its quota).
    async fn count_webhooks(&self, tenant: &TenantId) -> Result<u64, StoreError>;

    /// Replaces the subscription with `webhook`'s tenant and id by `webhook`, if it is still at
    /// `webhook.version` (what the caller read), and counts one more version. Returns `false`
    /// when there is none (or it was deleted) or another change came first. When it is enabled, the deliveries a claim
    /// parked while it was disabled (queued or retrying, with no due time) are due again at its
    /// `updated_at`, in the same transaction.
    async fn replace_webhook(&self, webhook: &StoredWebhook) -> Result<bool, StoreError>;

    /// Marks `tenant`'s subscription `id` deleted at `now` and cancels its deliveries not yet
    /// made, in one transaction. Returns `false` when there is none.
    async fn delete_webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}
