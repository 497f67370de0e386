//! A webhook subscription, the requests that create and change one, and their rules.

use std::time::Duration;

use crate::apps::is_visible_text;
use crate::clock::Timestamp;
use crate::id::{AppId, TenantId, WebhookId};
use crate::validation::ValidationErrors;
use crate::webhooks::{EventCatalog, WebhookSecret, check_target};

/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// The highest `rate_limit` accepted, in deliveries per second.
pub const MAX_RATE_LIMIT: u32 = 10_000;

/// A subscription as integrators see it (never its secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// `wh_…`.
    pub id: WebhookId,
    /// The tenant whose events it receives.
    pub tenant: TenantId,
    /// The app whose token created it: only that app (and tokens with `webhooks:admin`) sees
    /// it. `None` for a subscription made before owners were recorded.
    pub owner: Option<AppId>,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives, in the order given.
    pub events: Vec<String>,
    /// The integrator's note.
    pub description: Option<String>,
    /// Whether deliveries are paused.
    pub disabled: bool,
    /// Why the server paused them (its endpoint answered `410 Gone`, or failed for too long),
    /// shown to the owner; `None` when enabled or paused by the owner.
    pub disabled_reason: Option<String>,
    /// At most this many deliveries per second, if set.
    pub rate_limit: Option<u32>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A subscription as stored: the sealed current secret, and the sealed previous one while it
/// still signs beside it after a rotation.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredWebhook {
    /// The subscription.
    pub webhook: Webhook,
    /// The current secret, sealed under the master key.
    pub secret: Vec<u8>,
    /// The previous secret, sealed, and until when it signs too.
    pub previous_secret: Option<(Vec<u8>, Timestamp)>,
    /// Since when every attempt to it has failed (reset by a success or by re-enabling it).
    pub failing_since: Option<Timestamp>,
    /// How many times it was changed: a replacement must name the version it read (see
    /// [`WebhookStore::replace_webhook`](crate::store::WebhookStore::replace_webhook)).
    pub version: u64,
}

impl std::fmt::Debug for StoredWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredWebhook")
            .field("webhook", &self.webhook)
            .field("version", &self.version)
            .field(
                "previous_until",
                &self.previous_secret.as_ref().map(|p| p.1),
            )
            .finish_non_exhaustive()
    }
}

/// `POST /v1/webhooks`: what an integrator asks for. Without `secret`, one is generated and
/// returned once, in the answer.
#[derive(Debug, Default, utoipa::ToSchema)]
#[schema(as = WebhookCreate)]
pub struct NewWebhook {
    /// The target URL.
    pub url: String,
    /// The event types, at least one, each in the catalog.
    pub events: Vec<String>,
    /// A Standard Webhooks secret (`whsec_…`); generated when absent.
    pub secret: Option<String>,
    /// A note.
    pub description: Option<String>,
    /// Deliveries per second at most.
    pub rate_limit: Option<u32>,
}

/// `PUT /v1/webhooks/{id}`: the members given change, the others stay.
#[derive(Debug, Default, utoipa::ToSchema)]
pub struct WebhookPatch {
    /// A new target URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// A new secret; the previous one keeps signing beside it for the overlap.
    pub secret: Option<String>,
    /// A new note.
    pub description: Option<String>,
    /// Pause or resume deliveries.
    pub disabled: Option<bool>,
    /// A new rate limit.
    pub rate_limit: Option<u32>,
}

/// The rules the fields of a subscription follow, shared by creation and change.
pub(crate) struct Rules<'a> {
    pub(crate) catalog: &'a EventCatalog,
    pub(crate) allow_private: bool,
}

impl Rules<'_> {
    fn url(&self, url: &str, errors: &mut ValidationErrors) {
        if let Err(e) = check_target(url, self.allow_private) {
            errors.push("url", e.to_string());
        }
    }

    fn events(&self, events: &[String], errors: &mut ValidationErrors) {
        if events.is_empty() {
            errors.push("events", "must name at least one event type");
        }
        for (i, event) in events.iter().enumerate() {
            if !self.catalog.contains(event) {
                errors.push(
                    format!("events[{i}]"),
                    format!(
                        "{event:?} is not an event type of this server: use one of {}",
                        self.catalog.types().join(", ")
                    ),
                );
            } else if events[..i].contains(event) {
                errors.push(format!("events[{i}]"), format!("{event} is listed twice"));
            }
        }
    }

    fn secret(secret: Option<&str>, errors: &mut ValidationErrors) -> Option<WebhookSecret> {
        let text = secret?;
        let parsed = WebhookSecret::parse(text);
        if parsed.is_none() {
            errors.push(
                "secret",
                "must be whsec_ followed by the base64 of 24 to 64 bytes",
            );
        }
        parsed
    }

    fn description(description: Option<&str>, errors: &mut ValidationErrors) {
        let Some(description) = description else {
            return;
        };
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.push(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            );
        } else if !description.chars().all(is_visible_text) {
            errors.push(
                "description",
                "must not contain control or invisible characters",
            );
        }
    }

    fn rate_limit(rate_limit: Option<u32>, errors: &mut ValidationErrors) {
        if rate_limit.is_some_and(|r| r == 0 || r > MAX_RATE_LIMIT) {
            errors.push(
                "rate_limit",
                format!("must be 1 to {MAX_RATE_LIMIT} deliveries per second"),
            );
        }
    }

    /// A new subscription for `tenant` from `request`, with its secret (the given one or a new
    /// one), or every rule it breaks.
    pub(crate) fn create(
        &self,
        request: NewWebhook,
        tenant: &TenantId,
        owner: &AppId,
        now: Timestamp,
    ) -> Result<(Webhook, WebhookSecret), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.url(&request.url, &mut errors);
        self.events(&request.events, &mut errors);
        let secret = Self::secret(request.secret.as_deref(), &mut errors);
        Self::description(request.description.as_deref(), &mut errors);
        Self::rate_limit(request.rate_limit, &mut errors);
        errors.into_result(())?;
        let webhook = Webhook {
            id: WebhookId::generate(),
            tenant: tenant.clone(),
            owner: Some(owner.clone()),
            url: request.url,
            events: request.events,
            description: request.description,
            disabled: false,
            disabled_reason: None,
            rate_limit: request.rate_limit,
            created_at: now,
            updated_at: now,
        };
        Ok((webhook, secret.unwrap_or_else(WebhookSecret::generate)))
    }

    /// `current` with `patch` applied, and the new secret if the patch sets one, or every rule
    /// it breaks. A patch that changes nothing is refused.
    pub(crate) fn apply(
        &self,
        current: &Webhook,
        patch: WebhookPatch,
        now: Timestamp,
    ) -> Result<(Webhook, Option<WebhookSecret>), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let empty = patch.url.is_none()
            && patch.events.is_none()
            && patch.secret.is_none()
            && patch.description.is_none()
            && patch.disabled.is_none()
            && patch.rate_limit.is_none();
        if empty {
            errors.push(
                "body",
                "must set at least one of url, events, secret, description, disabled, rate_limit",
            );
        }
        if let Some(url) = &patch.url {
            self.url(url, &mut errors);
        }
        if let Some(events) = &patch.events {
            self.events(events, &mut errors);
        }
        let secret = Self::secret(patch.secret.as_deref(), &mut errors);
        Self::description(patch.description.as_deref(), &mut errors);
        Self::rate_limit(patch.rate_limit, &mut errors);
        errors.into_result(())?;
        let webhook = Webhook {
            url: patch.url.unwrap_or_else(|| current.url.clone()),
            events: patch.events.unwrap_or_else(|| current.events.clone()),
            description: patch.description.or_else(|| current.description.clone()),
            disabled: patch.disabled.unwrap_or(current.disabled),
            // Any change of the switch by the owner replaces the server's reason.
            disabled_reason: if patch.disabled.is_some() {
                None
            } else {
                current.disabled_reason.clone()
            },
            rate_limit: patch.rate_limit.or(current.rate_limit),
            updated_at: now,
            ..current.clone()
        };
        Ok((webhook, secret))
    }
}

/// How long a replaced secret keeps signing beside the new one unless the embedder says
/// otherwise.
pub const DEFAULT_SECRET_OVERLAP: Duration = Duration::from_secs(24 * 3600);
