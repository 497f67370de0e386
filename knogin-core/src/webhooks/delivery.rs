//! Publishing events and turning a claimed delivery into the signed request a worker sends.

use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;

use super::{NextPublication, Outcome, WebhookSecret, check_target, signature};
use crate::audit::{Actor, AuditKind};
use crate::id::DeliveryId;
use crate::id::{EventId, TenantId};
use crate::keys::Purpose;
use crate::shared::Core;
use crate::store::{Attempt, ClaimedDelivery, Event, NextStep, StoreError};

/// The default largest event `data`, in bytes.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 256 * 1024;

/// The event type of test sends.
pub const TEST_EVENT_TYPE: &str = "webhook.test";

/// Why an event could not be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The type is not in the embedder's event catalog.
    #[error("{0:?} is not an event type of this server")]
    UnknownEventType(String),
    /// The data does not serialize to JSON (a map with non-string keys, a NaN, or a failing
    /// `Serialize` impl).
    #[error("the event data is not JSON: {0}")]
    NotJson(String),
    /// The data is larger than the limit.
    #[error("the event data is larger than {0} bytes")]
    TooLarge(usize),
    /// The tenant does not exist on this server (tenants come with their first app or admin
    /// token).
    #[error("there is no tenant {0} on this server")]
    UnknownTenant(TenantId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A published event: its id and the deliveries queued for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The event.
    pub event_id: EventId,
    /// One per matching subscription.
    pub deliveries: Vec<DeliveryId>,
}

/// A signed request, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// The target.
    pub(crate) url: url::Url,
    /// `webhook-id`: the delivery's id, the same on every retry.
    pub(crate) id: String,
    /// `webhook-timestamp`: this attempt's time, in unix seconds.
    pub(crate) timestamp: i64,
    /// `webhook-signature`: one `v1,…` per secret signing now.
    pub(crate) signature: String,
    /// The JSON body: `{"type","timestamp","data"}`.
    pub(crate) body: Vec<u8>,
}

/// `text` (a receiver's answer, or why there was none) as the history keeps it: control
/// characters other than tab, line feed and carriage return become U+FFFD. A NUL, which
/// PostgreSQL refuses in text, cannot keep an attempt from being recorded, and nothing a
/// receiver sends can move a terminal's cursor when someone reads the history.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// A store's refusal of `tenant`'s event: the only record an event belongs to is its tenant.
fn publish_error(e: StoreError, tenant: &TenantId) -> PublishError {
    match e {
        StoreError::MissingParent => PublishError::UnknownTenant(tenant.clone()),
        e => PublishError::Store(e),
    }
}

#[derive(Serialize)]
struct Body<'a> {
    r#type: &'a str,
    timestamp: String,
    data: &'a RawValue,
}

impl Core {
    /// A future that resolves when deliveries are next published or made due again: by this
    /// handle, or, where the store can hear it, by another process on the same database
    /// (PostgreSQL). A worker takes it *before* it claims, and awaits it (with a timeout, for
    /// retries coming due and for stores that cannot hear other processes) only when nothing
    /// was due: a publication landing while it claims is not missed.
    ///
    /// Must be called from within the async runtime: the first call starts the store's
    /// listening, if it has any.
    pub(crate) fn next_publication(&self) -> NextPublication {
        let publications = &self.0.publications;
        publications.watched.get_or_init(|| {
            if let Some(bus) = self.0.store.publication_bus() {
                bus.watch(publications.signal.clone());
            }
        });
        publications.signal.listen()
    }

    /// Claims up to `limit` due deliveries for a worker, leased for four times the attempt
    /// timeout (a minute by default): a worker that dies leaves them due again when the lease
    /// ends, and a live one has time to record even a timed-out attempt.
    pub(crate) async fn claim_deliveries(
        &self,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let lease = self.0.webhooks.attempt_timeout * 4;
        self.0
            .store
            .claim_due(self.0.clock.now(), lease, limit)
            .await
    }

    /// The signed request for `claimed`, at this attempt's time. `Err` with the reason when it
    /// must not be sent: the target no longer passes the target check, or the secrets cannot be
    /// opened with this master key.
    pub(crate) fn message(&self, claimed: &ClaimedDelivery) -> Result<Message, String> {
        let webhook = &claimed.webhook.webhook;
        let url = check_target(&webhook.url, self.0.webhooks.allow_private_targets)
            .map_err(|e| format!("the target {e}"))?;
        let now = self.0.clock.now();
        let context = [
            webhook.tenant.as_str().as_bytes(),
            b"\0",
            webhook.id.as_str().as_bytes(),
        ]
        .concat();
        let open = |sealed: &[u8]| {
            self.0
                .master_key
                .open(Purpose::WebhookSecret, &context, sealed)
                .map(|bytes| WebhookSecret::from_bytes(bytes.to_vec()))
                .ok_or_else(|| {
                    "the webhook secret cannot be opened with this master key".to_owned()
                })
        };
        let mut secrets = vec![open(&claimed.webhook.secret)?];
        if let Some((previous, until)) = &claimed.webhook.previous_secret
            && *until > now
        {
            secrets.push(open(previous)?);
        }
        let data = RawValue::from_string(claimed.event.data.clone())
            .map_err(|e| format!("the stored event data is not JSON: {e}"))?;
        let body = serde_json::to_vec(&Body {
            r#type: &claimed.event.event_type,
            timestamp: claimed.event.created_at.to_rfc3339(),
            data: &data,
        })
        .expect("an event body serializes");
        let id = claimed.delivery.id.as_str().to_owned();
        let timestamp = now.unix();
        let refs: Vec<&WebhookSecret> = secrets.iter().collect();
        Ok(Message {
            signature: signature(&refs, &id, timestamp, &body),
            url,
            id,
            timestamp,
            body,
        })
    }

    /// Records finished attempts (one transaction, one commit), deciding what follows each by
    /// the retry policy. Returns, in order, whether each was recorded: `false` when its lease
    /// had run out (another worker owns the delivery now). A response body may hold any text:
    /// control characters are replaced before it is stored.
    pub(crate) async fn record_deliveries(
        &self,
        finished: Vec<(&ClaimedDelivery, Outcome, Duration, Option<String>)>,
    ) -> Result<Vec<bool>, StoreError> {
        let attempts: Vec<(DeliveryId, String, Attempt)> = finished
            .into_iter()
            .map(|(claimed, outcome, duration, body)| {
                let attempt = self.attempt(claimed, outcome, duration, body);
                let ended = match attempt.next {
                    NextStep::Succeeded => "succeeded",
                    NextStep::RetryAt(_) => "retrying",
                    NextStep::Failed | NextStep::FailedAndDisable => "failed",
                };
                crate::metrics::delivery_attempted(ended, duration);
                if let Some(reason) = &attempt.disable_reason {
                    let webhook = &claimed.webhook.webhook;
                    self.audit(AuditKind::WebhookDisabled, Actor::System)
                        .tenant(&webhook.tenant)
                        .owner(webhook.owner.as_ref())
                        .detail("webhook_id", webhook.id.as_str())
                        .detail("reason", reason.as_str())
                        .record();
                }
                (claimed.delivery.id.clone(), claimed.lease.clone(), attempt)
            })
            .collect();
        self.0.store.record_attempts(&attempts).await
    }

    /// The record of `claimed`'s attempt that ended with `outcome`: what follows by the retry
    /// policy, and whether its subscription must be disabled.
    fn attempt(
        &self,
        claimed: &ClaimedDelivery,
        outcome: Outcome,
        duration: Duration,
        response_body: Option<String>,
    ) -> Attempt {
        let now = self.0.clock.now();
        let attempts = claimed.delivery.attempts + 1;
        let jitter = f64::from(crate::random::bytes::<1>()[0]) / 256.0;
        let next = match self
            .0
            .webhooks
            .retry
            .next_step(outcome, attempts, now, jitter)
        {
            // A test send is tried once: retries would make it a way to send requests at will.
            NextStep::RetryAt(_) if claimed.event.event_type == TEST_EVENT_TYPE => NextStep::Failed,
            next => next,
        };
        let failing_since = claimed.webhook.failing_since.unwrap_or(now);
        let disable_reason = match next {
            NextStep::Succeeded => None,
            NextStep::FailedAndDisable => Some("its endpoint answered 410 Gone".to_owned()),
            _ if failing_since.plus(self.0.webhooks.disable_after) <= now => Some(format!(
                "every delivery has failed since {}",
                failing_since.to_rfc3339()
            )),
            _ => None,
        };
        Attempt {
            attempted_at: now,
            response_status: match outcome {
                Outcome::Answered { status, .. } => Some(status),
                Outcome::NoAnswer => None,
            },
            duration_ms: u32::try_from(duration.as_millis()).unwrap_or(u32::MAX),
            response_body: response_body.map(|body| printable(&body)),
            next,
            disable_reason,
        }
    }

    /// Whether `claimed` may be sent now under its subscription's `rate_limit` (a send slot of
    /// this second, counted across instances); if not, it is put back, due next second.
    pub(crate) async fn within_rate_limit(
        &self,
        claimed: &ClaimedDelivery,
    ) -> Result<bool, StoreError> {
        let Some(limit) = claimed.webhook.webhook.rate_limit else {
            return Ok(true);
        };
        let store = &self.0.store;
        let now = self.0.clock.now();
        if store
            .take_send_slot(&claimed.webhook.webhook.id, now, limit)
            .await?
        {
            return Ok(true);
        }
        store
            .defer_delivery(
                &claimed.delivery.id,
                &claimed.lease,
                now.plus(Duration::from_secs(1)),
            )
            .await?;
        Ok(false)
    }

    /// Releases `claimed` deliveries unsent, due at once, and tells the workers of every process
    /// on the database: a stopping worker gives back what it will not send, so nobody waits for
    /// its leases to end. Returns how many were still held.
    pub(crate) async fn give_back_deliveries(
        &self,
        claimed: &[&ClaimedDelivery],
    ) -> Result<usize, StoreError> {
        let now = self.0.clock.now();
        let mut given = 0;
        for c in claimed {
            if self
                .0
                .store
                .defer_delivery(&c.delivery.id, &c.lease, now)
                .await?
            {
                given += 1;
            }
        }
        self.webhooks().announce();
        Ok(given)
    }

    /// How long one attempt may take.
    pub(crate) fn delivery_timeout(&self) -> Duration {
        self.0.webhooks.attempt_timeout
    }
}

impl super::Webhooks<'_> {
    /// Publishes an event of `event_type` (from the catalog, or [`TEST_EVENT_TYPE`] for a test
    /// send) with `data` for `tenant`: the event and one delivery per enabled subscription
    /// naming its type are stored in one transaction before this returns.
    ///
    /// `data` is any `Serialize` value; JSON text you already hold goes in as a
    /// [`RawValue`] (a `&str` would be published as a JSON string).
    ///
    /// ```no_run
    /// # async fn example(knogin: knogin_core::Knogin) -> Result<(), Box<dyn std::error::Error>> {
    /// let tenant = knogin_core::TenantId::parse("acme").unwrap();
    /// let data = serde_json::json!({"id": "inc_1", "status": "closed"});
    /// knogin.webhooks().publish(&tenant, "incident.updated", &data).await?;
    /// let text: &serde_json::value::RawValue = serde_json::from_str(r#"{"id":"inc_2"}"#)?;
    /// knogin.webhooks().publish(&tenant, "incident.updated", text).await?;
    /// # Ok(()) }
    /// ```
    pub async fn publish(
        &self,
        tenant: &TenantId,
        event_type: &str,
        data: &(impl Serialize + ?Sized),
    ) -> Result<Published, PublishError> {
        let event = self.event(tenant, event_type, data)?;
        let deliveries = self
            .knogin
            .0
            .store
            .publish(&event)
            .await
            .map_err(|e| publish_error(e, tenant))?;
        if !deliveries.is_empty() {
            self.knogin.0.publications.signal.notify();
        }
        Ok(Published {
            event_id: event.id,
            deliveries,
        })
    }

    /// Publishes one event of `event_type` per item of `data` for `tenant`, all in one
    /// transaction (a batch load): every event is checked first, and all are stored or none.
    pub async fn publish_many<T: Serialize>(
        &self,
        tenant: &TenantId,
        event_type: &str,
        data: &[T],
    ) -> Result<Vec<Published>, PublishError> {
        let events = data
            .iter()
            .map(|d| self.event(tenant, event_type, d))
            .collect::<Result<Vec<_>, _>>()?;
        let made = self
            .knogin
            .0
            .store
            .publish_many(&events)
            .await
            .map_err(|e| publish_error(e, tenant))?;
        if made.iter().any(|m| !m.is_empty()) {
            self.knogin.0.publications.signal.notify();
        }
        Ok(events
            .into_iter()
            .zip(made)
            .map(|(event, deliveries)| Published {
                event_id: event.id,
                deliveries,
            })
            .collect())
    }

    /// Checks and builds an event of `event_type` with `data` for `tenant`, without storing it:
    /// for publishing inside an embedder's own database transaction (see
    /// `knogin_store_sqlx::publish_in_postgres`).
    pub fn event(
        &self,
        tenant: &TenantId,
        event_type: &str,
        data: &(impl Serialize + ?Sized),
    ) -> Result<Event, PublishError> {
        if event_type != TEST_EVENT_TYPE && !self.knogin.0.webhooks.catalog.contains(event_type) {
            return Err(PublishError::UnknownEventType(event_type.to_owned()));
        }
        let data = serde_json::to_string(data).map_err(|e| PublishError::NotJson(e.to_string()))?;
        if data.len() > self.knogin.0.webhooks.max_event_bytes {
            return Err(PublishError::TooLarge(
                self.knogin.0.webhooks.max_event_bytes,
            ));
        }
        Ok(Event {
            id: EventId::generate(),
            tenant: tenant.clone(),
            event_type: event_type.to_owned(),
            data,
            created_at: self.knogin.0.clock.now(),
        })
    }

    /// Tells delivery workers, this handle's and (on PostgreSQL) every other process's on the
    /// database, that deliveries were published outside the handle: by
    /// `knogin_store_sqlx::publish_in_postgres` in your own transaction, say. Call it after the
    /// transaction commits; without it, workers see the deliveries within their idle interval.
    pub fn announce(&self) {
        self.knogin.0.publications.signal.notify();
        if let Some(bus) = self.knogin.0.store.publication_bus() {
            bus.announce();
        }
    }

    /// Waits until this handle's publications have been announced to the other processes on
    /// the database (PostgreSQL sends them just after each commit, without making the publish
    /// wait). A short-lived publishing process (a batch job, the reference server's `publish`)
    /// calls it before it exits; otherwise workers may see its last deliveries only within
    /// their idle interval.
    pub async fn flush_announcements(&self) {
        if let Some(bus) = self.knogin.0.store.publication_bus() {
            bus.flush().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::value::RawValue;

    use super::{PublishError, printable};
    use crate::TenantId;
    use crate::clock::{ManualClock, Timestamp};
    use crate::keys::MasterKey;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn event_data_is_any_serialize_value_and_json_text_goes_in_as_a_raw_value() {
        #[derive(serde::Serialize)]
        struct Incident<'a> {
            id: &'a str,
            open: bool,
        }
        let knogin = crate::testing::builder(
            Arc::new(MemoryStore::new()),
            MasterKey::generate(),
            Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000))),
        )
        .build()
        .await
        .unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        let data = |result: Result<super::Event, PublishError>| result.map(|e| e.data);
        let event = |value| knogin.webhooks().event(&tenant, "incident.updated", value);
        assert_eq!(
            data(knogin.webhooks().event(
                &tenant,
                "incident.updated",
                &Incident {
                    id: "inc_1",
                    open: true
                }
            ))
            .unwrap(),
            r#"{"id":"inc_1","open":true}"#
        );
        let raw: &RawValue = serde_json::from_str(r#"{ "kept": "as written" }"#).unwrap();
        assert_eq!(
            data(knogin.webhooks().event(&tenant, "incident.updated", raw)).unwrap(),
            r#"{ "kept": "as written" }"#
        );
        assert_eq!(
            data(event("{}")).unwrap(),
            r#""{}""#,
            "a &str is a JSON string"
        );
        let mut numbered = HashMap::new();
        numbered.insert(vec![1u8], 1);
        assert!(matches!(
            knogin
                .webhooks()
                .event(&tenant, "incident.updated", &numbered),
            Err(PublishError::NotJson(_))
        ));
        let big = "x".repeat(knogin.core().0.webhooks.max_event_bytes);
        assert!(matches!(event(&big), Err(PublishError::TooLarge(_))));
    }

    #[test]
    fn control_characters_of_an_answer_are_replaced_but_line_breaks_and_tabs_stay() {
        assert_eq!(printable("ok\0done"), "ok\u{fffd}done");
        assert_eq!(
            printable("a\tb\r\nc\u{1b}[2J\u{7f}\u{85}"),
            "a\tb\r\nc\u{fffd}[2J\u{fffd}\u{fffd}"
        );
        assert_eq!(printable("héllo ✓"), "héllo ✓");
    }
}
