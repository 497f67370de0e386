//! An audit event: what happened, when, in which tenant, by whom, and how it ended.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::clock::Timestamp;
use crate::id::TenantId;

/// What happened: the event's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditKind {
    /// `app.registered`: an app was registered.
    AppRegistered,
    /// `app.governance_changed`: an app's governance was changed.
    AppGovernanceChanged,
    /// `app.secret_rotated`: an app's client secret was rotated.
    AppSecretRotated,
    /// `token.issued`: the token endpoint issued an access token.
    TokenIssued,
    /// `token.revoked`: a token (or every token of an app or tenant) was revoked.
    TokenRevoked,
    /// `client_auth.failed`: a client failed to authenticate.
    ClientAuthFailed,
    /// `sign_in.succeeded`: a user signed in at the built-in login.
    SignInSucceeded,
    /// `sign_in.failed`: a sign-in at the built-in login failed.
    SignInFailed,
    /// `consent.granted`: a user granted an app consent.
    ConsentGranted,
    /// `consent.denied`: a user denied an app consent.
    ConsentDenied,
    /// `key.rotated`: a new signing key was added.
    KeyRotated,
    /// `key.withdrawn`: a signing key was withdrawn.
    KeyWithdrawn,
    /// `webhook.created`: a webhook subscription was created.
    WebhookCreated,
    /// `webhook.updated`: a webhook subscription was changed.
    WebhookUpdated,
    /// `webhook.deleted`: a webhook subscription was deleted.
    WebhookDeleted,
    /// `webhook.disabled`: a webhook subscription was disabled because of its endpoint.
    WebhookDisabled,
}

impl AuditKind {
    /// The event's `type`, e.g. `app.registered`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AppRegistered => "app.registered",
            Self::AppGovernanceChanged => "app.governance_changed",
            Self::AppSecretRotated => "app.secret_rotated",
            Self::TokenIssued => "token.issued",
            Self::TokenRevoked => "token.revoked",
            Self::ClientAuthFailed => "client_auth.failed",
            Self::SignInSucceeded => "sign_in.succeeded",
            Self::SignInFailed => "sign_in.failed",
            Self::ConsentGranted => "consent.granted",
            Self::ConsentDenied => "consent.denied",
            Self::KeyRotated => "key.rotated",
            Self::KeyWithdrawn => "key.withdrawn",
            Self::WebhookCreated => "webhook.created",
            Self::WebhookUpdated => "webhook.updated",
            Self::WebhookDeleted => "webhook.deleted",
            Self::WebhookDisabled => "webhook.disabled",
        }
    }

    /// Every kind, in the order above.
    pub const ALL: [Self; 16] = [
        Self::AppRegistered,
        Self::AppGovernanceChanged,
        Self::AppSecretRotated,
        Self::TokenIssued,
        Self::TokenRevoked,
        Self::ClientAuthFailed,
        Self::SignInSucceeded,
        Self::SignInFailed,
        Self::ConsentGranted,
        Self::ConsentDenied,
        Self::KeyRotated,
        Self::KeyWithdrawn,
        Self::WebhookCreated,
        Self::WebhookUpdated,
        Self::WebhookDeleted,
        Self::WebhookDisabled,
    ];
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did it: the event's `actor` (and `actor_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Actor {
    /// The subject of an admin token.
    Admin(String),
    /// A client, by its client id (as presented, for a failed authentication).
    Client(String),
    /// A user of the built-in login (or of the embedder's authenticator), by name.
    User(String),
    /// The operator, through the handle's API (the reference server's commands).
    Operator,
    /// knogin itself (e.g. a subscription disabled after its endpoint failed for days).
    System,
}

impl Actor {
    /// `actor_type`: `admin`, `client`, `user`, `operator` or `system`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Admin(_) => "admin",
            Self::Client(_) => "client",
            Self::User(_) => "user",
            Self::Operator => "operator",
            Self::System => "system",
        }
    }

    /// `actor`: the subject, client id or user name; `operator` or `knogin` otherwise.
    pub fn name(&self) -> &str {
        match self {
            Self::Admin(name) | Self::Client(name) | Self::User(name) => name,
            Self::Operator => "operator",
            Self::System => "knogin",
        }
    }
}

/// How it ended: the event's `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditOutcome {
    /// `success`.
    Success,
    /// `failure`.
    Failure,
}

impl AuditOutcome {
    /// `success` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// One security-relevant act. Serializes as one JSON object: `type`, `at` (RFC 3339 UTC),
/// `tenant`, `actor`, `actor_type`, `client_id` (where it applies), `outcome`, then the event's
/// own fields. It never holds a secret, a token or a password: ids, names and reasons only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// When.
    pub at: Timestamp,
    /// In which tenant, when known.
    pub tenant: Option<TenantId>,
    /// Who did it.
    pub actor: Actor,
    /// The app concerned, where one is.
    pub client_id: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// The event's own fields (e.g. `grant_type`, `jti`, `webhook_id`), in order.
    pub details: Vec<(&'static str, String)>,
}

impl AuditEvent {
    /// The event's own field `name` (e.g. `grant_type`), if it has one.
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.details
            .iter()
            .find_map(|(field, value)| (*field == name).then_some(value.as_str()))
    }

    /// The event as one line of JSON.
    pub fn to_json(&self) -> String {
        let mut object = crate::json::Object::with_capacity(384);
        object
            .str("type", self.kind.as_str())
            .str("at", &self.at.to_rfc3339())
            .str_or_null("tenant", self.tenant.as_ref().map(TenantId::as_str))
            .str("actor", self.actor.name())
            .str("actor_type", self.actor.kind())
            .str_or_null("client_id", self.client_id.as_deref())
            .str("outcome", self.outcome.as_str());
        for (name, value) in &self.details {
            object.str(name, value);
        }
        String::from_utf8(object.finish()).expect("JSON is UTF-8")
    }
}

impl Serialize for AuditEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(7 + self.details.len()))?;
        map.serialize_entry("type", self.kind.as_str())?;
        map.serialize_entry("at", &self.at.to_rfc3339())?;
        map.serialize_entry("tenant", &self.tenant.as_ref().map(TenantId::as_str))?;
        map.serialize_entry("actor", self.actor.name())?;
        map.serialize_entry("actor_type", self.actor.kind())?;
        map.serialize_entry("client_id", &self.client_id)?;
        map.serialize_entry("outcome", self.outcome.as_str())?;
        for (name, value) in &self.details {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}
