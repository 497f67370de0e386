//! The audit trail: a typed [`AuditEvent`] for every security-relevant act (registrations,
//! governance and secret changes, tokens issued and revoked, failed client authentication,
//! sign-ins, consents, key rotation and withdrawal, webhook changes), handed to the embedder's
//! [`AuditSink`]. The default sink writes each event as a JSON line to the `tracing` target
//! `knogin::audit`.
//!
//! A sink is called on the request's own thread: it must not block (no disk, no network).
//! Queue the event and write it elsewhere, as the reference server's `--audit-log` does.

mod event;
#[cfg(test)]
mod tests;

pub use self::event::{Actor, AuditEvent, AuditKind, AuditOutcome};

/// Where audit events go. Called on the request path: return at once (queue, don't write).
///
/// ```
/// use knogin_core::audit::{AuditEvent, AuditSink};
///
/// #[derive(Debug)]
/// struct Stdout;
///
/// impl AuditSink for Stdout {
///     fn record(&self, event: &AuditEvent) {
///         println!("{}", event.to_json());
///     }
/// }
/// ```
pub trait AuditSink: Send + Sync + std::fmt::Debug + 'static {
    /// Takes one event.
    fn record(&self, event: &AuditEvent);
}

/// The default sink: each event as a JSON line at `info` on the `tracing` target
/// `knogin::audit`, so a subscriber can route it apart from the other logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

impl AuditSink for TracingSink {
    fn record(&self, event: &AuditEvent) {
        if tracing::enabled!(target: "knogin::audit", tracing::Level::INFO) {
            tracing::info!(target: "knogin::audit", "{}", event.to_json());
        }
    }
}

/// Collects events in memory, for tests.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug, Default)]
pub struct MemorySink(std::sync::Mutex<Vec<AuditEvent>>);

#[cfg(any(test, feature = "test-util"))]
impl MemorySink {
    /// The events recorded so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The types of the events recorded so far, in order.
    pub fn kinds(&self) -> Vec<AuditKind> {
        self.events().iter().map(|e| e.kind).collect()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl AuditSink for std::sync::Arc<MemorySink> {
    fn record(&self, event: &AuditEvent) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event.clone());
    }
}

/// An event being put together by the core, recorded by [`Recording::record`].
pub(crate) struct Recording<'a> {
    sink: &'a dyn AuditSink,
    event: AuditEvent,
}

impl crate::shared::Core {
    /// A successful `kind` by `actor`, now; add what applies, then record it.
    pub(crate) fn audit(&self, kind: AuditKind, actor: Actor) -> Recording<'_> {
        Recording {
            sink: &*self.0.audit,
            event: AuditEvent {
                kind,
                at: self.0.clock.now(),
                tenant: None,
                actor,
                client_id: None,
                outcome: AuditOutcome::Success,
                details: Vec::new(),
            },
        }
    }
}

impl Recording<'_> {
    /// In `tenant`.
    pub(crate) fn tenant(mut self, tenant: &crate::id::TenantId) -> Self {
        self.event.tenant = Some(tenant.clone());
        self
    }

    /// Concerning app `client_id`.
    pub(crate) fn client(mut self, client_id: impl Into<String>) -> Self {
        self.event.client_id = Some(client_id.into());
        self
    }

    /// Concerning the app `owner`, when there is one (a subscription may belong to no app).
    pub(crate) fn owner(mut self, owner: Option<&crate::id::AppId>) -> Self {
        self.event.client_id = owner.map(|app| app.as_str().to_owned());
        self
    }

    /// It failed.
    pub(crate) fn failed(mut self) -> Self {
        self.event.outcome = AuditOutcome::Failure;
        self
    }

    /// One of the event's own fields.
    pub(crate) fn detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.event.details.push((name, value.into()));
        self
    }

    /// Hands the event to the sink.
    pub(crate) fn record(self) {
        self.sink.record(&self.event);
    }
}
