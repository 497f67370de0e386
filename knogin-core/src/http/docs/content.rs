//! The shape of the machine-readable docs' prose: a topic, and a section of it.
//!
//! Each capability writes the section of each of its route paths beside its route rows (e.g.
//! [`OAUTH_TOKEN_SECTION`](crate::http::oauth::OAUTH_TOKEN_SECTION)), and
//! [`TOPICS`](crate::http::topics::TOPICS) orders them into the contract's six topics. Route
//! names, titles, notes and examples stay in canonical English in every locale, as the contract
//! does (its Dutch page translates the topics' titles and introductions and the labels, never a
//! route). The sections' methods are checked against the route table by a test, and a section is
//! served only while the handle serves its routes.
//!
//! Examples name hosts by placeholder: `{auth}` is the auth service's public base URL, `{api}`
//! the GraphQL host's. Both come from the embedder's [`DocsSettings`](super::DocsSettings).

/// Which public host a route is served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    /// The auth service (every route but GraphQL).
    Auth,
    /// The GraphQL host.
    Api,
}

/// Who a route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// Third-party developers.
    Integrators,
    /// The tenant's administrators.
    Admins,
}

/// One section of a topic: one route path and the methods documented with it.
#[derive(Debug)]
pub(crate) struct Section {
    pub(crate) id: &'static str,
    pub(crate) methods: &'static [&'static str],
    pub(crate) path: &'static str,
    pub(crate) title: &'static str,
    pub(crate) host: Host,
    pub(crate) auth: &'static str,
    pub(crate) audience: Audience,
    pub(crate) description: &'static str,
    pub(crate) notes: &'static [&'static str],
    /// The request example: `(language, code)`.
    pub(crate) request: (&'static str, &'static str),
    /// The response example: `(language, code)`.
    pub(crate) response: (&'static str, &'static str),
}

/// One topic: its id and its route sections, in order.
#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) id: &'static str,
    pub(crate) sections: &'static [&'static Section],
    pub(crate) reading_time: &'static str,
    pub(crate) difficulty: &'static str,
    pub(crate) tags: &'static [&'static str],
}

/// The `auth` of a route that takes a bearer token.
pub(crate) const BEARER: &str = "Bearer token";
/// The `auth` of a public route.
pub(crate) const PUBLIC: &str = "Public";
