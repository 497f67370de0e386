//! Event delivery to integrators: webhook subscriptions, the event catalog they name, their
//! Standard Webhooks secrets (stored sealed under the operator's key), and the SSRF guard on
//! their targets.

mod caller;
mod catalog;
mod delivery;
pub mod health;
mod housekeeping;
mod model;
mod operations;
mod publications;
mod retention;
mod retry;
mod secret;
mod signature;
mod stop;
mod target;
mod worker;
#[cfg(test)]
mod worker_tests;

use std::time::Duration;

pub use self::caller::{WEBHOOKS_ADMIN_SCOPE, WebhookCaller};
pub use self::catalog::EventCatalog;
pub use self::delivery::{DEFAULT_MAX_EVENT_BYTES, PublishError, Published, TEST_EVENT_TYPE};
pub use self::model::{
    DEFAULT_SECRET_OVERLAP, MAX_DESCRIPTION_CHARS, MAX_RATE_LIMIT, NewWebhook, StoredWebhook,
    Webhook, WebhookPatch,
};
pub use self::operations::{RECOVERIES_PER_MINUTE, TEST_SENDS_PER_MINUTE, WebhookError, Webhooks};
pub(crate) use self::publications::Publications;
pub use self::publications::{NextPublication, PublicationSignal};
pub use self::retention::{DEFAULT_RETENTION, PURGE_BATCH, Pending};
pub use self::retry::{
    DEFAULT_RETRY_AFTER_CAP, DEFAULT_RETRY_DELAYS, Outcome, RetryPolicy, parse_duration,
    parse_retry_after,
};
pub use self::secret::WebhookSecret;
pub use self::signature::signature;
pub use self::target::{TargetError, check_target, is_public};
pub use self::worker::{
    DEFAULT_SHUTDOWN_GRACE, DeliveryWorker, KEPT_ANSWER_BYTES, Transport, TransportError,
};

/// How the handle treats subscriptions and their deliveries, for
/// [`Builder::webhooks`](crate::Builder::webhooks). The event catalog is set apart, with
/// [`Builder::events`](crate::Builder::events).
///
/// ```
/// use std::time::Duration;
/// use knogin_core::webhooks::WebhookSettings;
///
/// let settings = WebhookSettings::default()
///     .attempt_timeout(Duration::from_secs(5))
///     .quota(20);
/// # let _ = settings;
/// ```
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub(crate) catalog: EventCatalog,
    pub(crate) allow_private_targets: bool,
    pub(crate) secret_overlap: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) attempt_timeout: Duration,
    pub(crate) max_event_bytes: usize,
    pub(crate) disable_after: Duration,
    pub(crate) max_subscriptions: u64,
    pub(crate) retention: Option<Duration>,
}

/// How many live subscriptions a tenant may have unless the embedder says otherwise.
pub const DEFAULT_MAX_SUBSCRIPTIONS: u64 = 100;

/// How long a subscription's deliveries may all fail before it is disabled, unless the
/// embedder says otherwise.
pub const DEFAULT_DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// How long one delivery attempt may take unless the embedder says otherwise.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            catalog: EventCatalog::default(),
            allow_private_targets: false,
            secret_overlap: DEFAULT_SECRET_OVERLAP,
            retry: RetryPolicy::default(),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            disable_after: DEFAULT_DISABLE_AFTER,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            retention: Some(DEFAULT_RETENTION),
        }
    }
}

impl WebhookSettings {
    /// Lets targets be plain http and non-public addresses (loopback, private networks): for
    /// local testing only (default: off, and such targets are refused).
    #[must_use]
    pub fn allow_private_targets(mut self, allow: bool) -> Self {
        self.allow_private_targets = allow;
        self
    }

    /// How long a replaced secret keeps signing beside the new one (default
    /// [`DEFAULT_SECRET_OVERLAP`]).
    #[must_use]
    pub fn secret_overlap(mut self, overlap: Duration) -> Self {
        self.secret_overlap = overlap;
        self
    }

    /// How failed deliveries are retried (default: [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How long one delivery attempt may take (default [`DEFAULT_ATTEMPT_TIMEOUT`]).
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// How long every delivery to a subscription may fail before it is disabled, its owner
    /// told why (default [`DEFAULT_DISABLE_AFTER`]).
    #[must_use]
    pub fn disable_after(mut self, span: Duration) -> Self {
        self.disable_after = span;
        self
    }

    /// How many live subscriptions a tenant may have (default [`DEFAULT_MAX_SUBSCRIPTIONS`]);
    /// creating one more is refused (409).
    #[must_use]
    pub fn quota(mut self, max_subscriptions: u64) -> Self {
        self.max_subscriptions = max_subscriptions;
        self
    }

    /// How long finished events (every delivery succeeded, failed, or cancelled with its
    /// subscription) are kept, with their deliveries, before the delivery workers delete them
    /// (default [`DEFAULT_RETENTION`]); [`Duration::ZERO`] keeps them forever. The delivery
    /// history says how far back it goes.
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = (!retention.is_zero()).then_some(retention);
        self
    }
}
