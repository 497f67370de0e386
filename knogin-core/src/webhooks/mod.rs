//! Event delivery to integrators: webhook subscriptions, the event catalog they name, their
//! Standard Webhooks secrets (stored sealed under the operator's key), and the SSRF guard on
//! their targets.

mod catalog;
mod model;
mod operations;
mod secret;
mod target;

use std::time::Duration;

pub use self::catalog::EventCatalog;
pub use self::model::{
    DEFAULT_SECRET_OVERLAP, MAX_DESCRIPTION_CHARS, MAX_RATE_LIMIT, NewWebhook, StoredWebhook,
    Webhook, WebhookPatch,
};
pub use self::operations::WebhookError;
pub use self::secret::WebhookSecret;
pub use self::target::{TargetError, check_target, is_public};

/// How the handle treats subscriptions.
#[derive(Debug, Clone)]
pub(crate) struct WebhookSettings {
    pub(crate) catalog: EventCatalog,
    pub(crate) allow_private_targets: bool,
    pub(crate) secret_overlap: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            catalog: EventCatalog::default(),
            allow_private_targets: false,
            secret_overlap: DEFAULT_SECRET_OVERLAP,
        }
    }
}
