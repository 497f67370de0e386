//! Event delivery to integrators: webhook subscriptions, the event catalog they name, their
//! Standard Webhooks secrets (stored sealed under the operator's key), and the SSRF guard on
//! their targets.

mod caller;
mod catalog;
mod delivery;
pub mod health;
mod model;
mod operations;
mod publications;
mod retry;
mod secret;
mod signature;
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
pub use self::retry::{
    DEFAULT_RETRY_AFTER_CAP, DEFAULT_RETRY_DELAYS, Outcome, RetryPolicy, parse_retry_after,
};
pub use self::secret::WebhookSecret;
pub use self::signature::signature;
pub use self::target::{TargetError, check_target, is_public};
pub use self::worker::{DeliveryWorker, KEPT_ANSWER_BYTES, Transport, TransportError};

/// How the handle treats subscriptions.
#[derive(Debug, Clone)]
pub(crate) struct WebhookSettings {
    pub(crate) catalog: EventCatalog,
    pub(crate) allow_private_targets: bool,
    pub(crate) secret_overlap: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) attempt_timeout: Duration,
    pub(crate) max_event_bytes: usize,
    pub(crate) disable_after: Duration,
    pub(crate) max_subscriptions: u64,
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
        }
    }
}
