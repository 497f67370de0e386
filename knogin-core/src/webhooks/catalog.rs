//! The event types an embedder publishes, which subscriptions may name.

/// The event types subscriptions may name: the embedder's, fixed when the handle is built.
///
/// ```
/// use knogin_core::webhooks::EventCatalog;
///
/// let catalog = EventCatalog::reference();
/// assert!(catalog.contains("incident.updated"));
/// assert!(!catalog.contains("incident.deleted"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventCatalog(Vec<String>);

impl EventCatalog {
    /// A catalog of `types` (e.g. `incident.updated`).
    pub fn new<S: Into<String>>(types: impl IntoIterator<Item = S>) -> Self {
        Self(types.into_iter().map(Into::into).collect())
    }

    /// The reference server's events: `incident.updated`, `incident.closed`, `case.updated`.
    pub fn reference() -> Self {
        Self::new(["incident.updated", "incident.closed", "case.updated"])
    }

    /// Whether `event_type` is in the catalog.
    pub fn contains(&self, event_type: &str) -> bool {
        self.0.iter().any(|t| t == event_type)
    }

    /// Every type, in catalog order.
    pub fn types(&self) -> &[String] {
        &self.0
    }
}
