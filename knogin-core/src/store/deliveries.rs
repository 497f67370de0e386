//! What event delivery stores: published events, one delivery per event and subscription (a
//! transactional outbox: both are written before `publish` returns), the leases workers hold
//! while sending, and each delivery's latest attempt.
//!
//! Workers find work by due time and lease, never by a sequence number: on PostgreSQL an
//! identity column does not follow commit order, so "everything after the last id seen" would
//! skip rows that commit late.

use std::time::Duration;

use async_trait::async_trait;

use super::{Cursor, StoreError};
use crate::clock::Timestamp;
use crate::id::{DeliveryId, EventId, TenantId, WebhookId};
use crate::webhooks::{PublicationSignal, StoredWebhook};

/// How many times in a row a delivery may be claimed without an attempt being recorded: at its
/// next claim it fails instead (its history says why). Whatever keeps its attempts from being
/// recorded, it is then not sent again forever.
pub const MAX_UNRECORDED_CLAIMS: u32 = 5;

/// The body a delivery failed for [`MAX_UNRECORDED_CLAIMS`] shows in its history.
pub const UNRECORDED_BODY: &str = "knogin: this delivery was sent several times but its attempts could not be recorded, so it \
     was given up";

/// An event as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `evt_…`.
    pub id: EventId,
    /// The tenant it belongs to; only its subscriptions receive it.
    pub tenant: TenantId,
    /// Its type, from the catalog (e.g. `incident.updated`).
    pub event_type: String,
    /// Its `data`, as JSON text.
    pub data: String,
    /// When it was published.
    pub created_at: Timestamp,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Not attempted yet.
    Queued,
    /// Attempted and failed; another attempt is due at `next_attempt_at`.
    Retrying,
    /// The receiver answered 2xx.
    Succeeded,
    /// Given up (the schedule ran out, or the endpoint is gone).
    Failed,
    /// Its subscription was deleted before it was delivered.
    Cancelled,
}

impl DeliveryStatus {
    /// The status as the API and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status spelled `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "retrying" => Self::Retrying,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }
}

/// A delivery and its latest attempt, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `dlv_…`, the `webhook-id` of every attempt.
    pub id: DeliveryId,
    /// The subscription it goes to.
    pub webhook_id: WebhookId,
    /// The event it carries.
    pub event_id: EventId,
    /// The event's type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// How many attempts were made.
    pub attempts: u32,
    /// When it was created (the event published).
    pub created_at: Timestamp,
    /// When the latest attempt was made.
    pub attempted_at: Option<Timestamp>,
    /// The latest attempt's HTTP status, if the receiver answered.
    pub response_status: Option<u16>,
    /// How long the latest attempt took.
    pub duration_ms: Option<u32>,
    /// The first KiB of the latest answer's body.
    pub response_body: Option<String>,
    /// When the next attempt is due, while one is.
    pub next_attempt_at: Option<Timestamp>,
}

/// A delivery a worker claimed: everything it needs to send it, and its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// The delivery.
    pub delivery: Delivery,
    /// The event.
    pub event: Event,
    /// The subscription, with its sealed secrets.
    pub webhook: StoredWebhook,
    /// The lease: recording the attempt needs it, so a worker whose lease ran out (and whose
    /// delivery another worker took) cannot overwrite the other's record.
    pub lease: String,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextStep {
    /// Delivered.
    Succeeded,
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Give up.
    Failed,
    /// Give up, and disable the subscription (its endpoint answered `410 Gone`).
    FailedAndDisable,
}

/// One attempt's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made.
    pub attempted_at: Timestamp,
    /// The receiver's status, if it answered.
    pub response_status: Option<u16>,
    /// How long it took.
    pub duration_ms: u32,
    /// The first KiB of the answer's body.
    pub response_body: Option<String>,
    /// What follows.
    pub next: NextStep,
    /// When set, the subscription is disabled, with this reason for its owner.
    pub disable_reason: Option<String>,
}

/// One page of a subscription's deliveries, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPage {
    /// Up to `limit` deliveries.
    pub deliveries: Vec<Delivery>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// The deliveries due and not yet delivered, as a worker sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// How many deliveries are due (queued or retrying, their next attempt's time passed),
    /// those being attempted included.
    pub due: u64,
    /// When the one due the longest came due.
    pub oldest_due_at: Option<Timestamp>,
}

/// What a purge deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    /// Events deleted.
    pub events: u64,
    /// Their deliveries deleted with them.
    pub deliveries: u64,
}

impl std::ops::AddAssign for Purged {
    fn add_assign(&mut self, other: Self) {
        self.events += other.events;
        self.deliveries += other.deliveries;
    }
}

/// Which of a tenant's events [`DeliveryStore::purge_events`] deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeFilter {
    /// Only this tenant's events; `None` for every tenant.
    pub tenant: Option<TenantId>,
    /// Only events published before this time; `None` for all of them.
    pub before: Option<Timestamp>,
    /// Events with a delivery still queued or retrying too (those deliveries are deleted
    /// unsent). Without it, such events are kept whole.
    pub include_pending: bool,
}

/// Events and their deliveries.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Stores `event` and, in the same transaction, one queued delivery, due at once, for each
    /// of its tenant's enabled subscriptions that names its type. Returns the deliveries made.
    async fn publish(&self, event: &Event) -> Result<Vec<DeliveryId>, StoreError>;

    /// Publishes several events in one transaction, as [`DeliveryStore::publish`] does each:
    /// all are stored, or none. Returns each event's deliveries, in order.
    async fn publish_many(&self, events: &[Event]) -> Result<Vec<Vec<DeliveryId>>, StoreError> {
        let mut made = Vec::with_capacity(events.len());
        for event in events {
            made.push(self.publish(event).await?);
        }
        Ok(made)
    }

    /// Stores `event` and one queued delivery of it to `webhook` alone (a test send), if that is
    /// a live subscription of the event's tenant.
    async fn publish_to(
        &self,
        event: &Event,
        webhook: &WebhookId,
    ) -> Result<Option<DeliveryId>, StoreError>;

    /// Claims up to `limit` deliveries due at `now` (queued or retrying, `next_attempt_at` passed,
    /// no lease or an expired one) for `lease` from now, oldest due first. Of workers claiming at
    /// once, each delivery goes to one.
    ///
    /// Among the due deliveries it looks at, it also:
    /// - parks those of a disabled subscription (test sends excepted): they stay queued or
    ///   retrying with no `next_attempt_at` until
    ///   [`WebhookStore::replace_webhook`](crate::store::WebhookStore::replace_webhook) enables
    ///   the subscription again;
    /// - fails those already claimed [`MAX_UNRECORDED_CLAIMS`] times in a row without a recorded
    ///   attempt, with [`UNRECORDED_BODY`] as their answer.
    ///
    /// Neither is returned; every other delivery returned counts one more unrecorded claim until
    /// its attempt is recorded or it is deferred.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Records an attempt of delivery `id` under `lease` and releases it, and on its
    /// subscription: a success clears `failing_since`, a failure sets it if unset, and a
    /// `disable_reason` disables it. Returns `false` (and changes nothing) when the lease is no
    /// longer held.
    async fn record_attempt(
        &self,
        id: &DeliveryId,
        lease: &str,
        attempt: &Attempt,
    ) -> Result<bool, StoreError>;

    /// Records several attempts, each under its lease, as [`DeliveryStore::record_attempt`]
    /// does one; a store should do it in one transaction (one commit for a worker's batch).
    /// Returns, in order, whether each was recorded. An attempt the backend cannot store (a
    /// response body it refuses, say) must not keep the others from being recorded: record the
    /// rest, and that one without its answer if it can.
    async fn record_attempts(
        &self,
        attempts: &[(DeliveryId, String, Attempt)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut recorded = Vec::with_capacity(attempts.len());
        for (id, lease, attempt) in attempts {
            recorded.push(self.record_attempt(id, lease, attempt).await?);
        }
        Ok(recorded)
    }

    /// Up to `limit` deliveries of `tenant`'s subscription `webhook` (deleted ones included:
    /// history stays readable), newest first, with `status` when given, after `after`.
    async fn deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        status: Option<DeliveryStatus>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<DeliveryPage, StoreError>;

    /// Makes delivery `id` of `tenant`'s subscription `webhook` due again at `now` (a resend),
    /// whatever its status, unless its subscription was deleted. Returns `false` when there is
    /// no such delivery.
    async fn retry_delivery(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Makes every failed delivery of `tenant`'s live subscription `webhook` created at or after
    /// `since` due again at `now` (after an integrator's outage). Returns how many.
    async fn recover_deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Takes one of `limit` sends per second of subscription `webhook` for the second of
    /// `now`, across every instance. Returns whether one was left.
    async fn take_send_slot(
        &self,
        webhook: &WebhookId,
        now: Timestamp,
        limit: u32,
    ) -> Result<bool, StoreError>;

    /// Releases delivery `id` held under `lease` unattempted, due again at `at` (its
    /// subscription's rate limit was reached). Returns `false` when the lease is no longer held.
    async fn defer_delivery(
        &self,
        id: &DeliveryId,
        lease: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// The deliveries due at `now` (queued or retrying, their next attempt's time passed, leased
    /// or not): how many, and since when the oldest is due. Parked deliveries (of a disabled
    /// subscription) are not due.
    async fn backlog(&self, now: Timestamp) -> Result<Backlog, StoreError>;

    /// Deletes up to `limit` events that `filter` selects, each with every one of its
    /// deliveries, oldest first, in one short transaction, and returns how many of each went.
    /// An event is finished when none of its deliveries is queued or retrying (succeeded,
    /// failed, or cancelled with its subscription); unless `filter.include_pending`, only
    /// finished events are deleted. Call it again until it deletes fewer than `limit` events.
    async fn purge_events(&self, filter: &PurgeFilter, limit: u32) -> Result<Purged, StoreError>;

    /// How this store tells delivery workers in other processes on the same database that
    /// deliveries were published or made due, if it can (PostgreSQL does, with
    /// `LISTEN`/`NOTIFY`). The default has none: workers find what other processes publish
    /// when they next look.
    fn publication_bus(&self) -> Option<&dyn PublicationBus> {
        None
    }
}

/// Cross-process wake-ups for delivery workers: one process announces that deliveries were
/// published or made due, and the workers of every process on the database hear it. Not
/// storage: a store that has one returns it from [`DeliveryStore::publication_bus`], and it
/// announces its own publications, retries and recoveries after they commit.
#[async_trait]
pub trait PublicationBus: Send + Sync {
    /// Has `signal` notified whenever another process announces. Called once per handle, from
    /// within the async runtime, when its first delivery worker starts.
    fn watch(&self, signal: PublicationSignal);

    /// Tells the workers of other processes that deliveries were published or made due. It
    /// does not wait for it. Called from within the async runtime.
    fn announce(&self);

    /// Waits until the announcements made so far have been sent, so a short-lived publishing
    /// process can exit without its last ones being lost.
    async fn flush(&self);
}
