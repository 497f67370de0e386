//! The shape of the machine-readable docs' prose, and the contract's six topics that order it.
//!
//! Each capability writes the section of each of its route paths beside its route rows (e.g.
//! [`OAUTH_TOKEN_SECTION`](crate::http::oauth::OAUTH_TOKEN_SECTION)); a topic here only lists
//! them in the contract's order. Route names, titles, notes and examples stay in canonical
//! English in every locale, as the contract does (its Dutch page translates the topics' titles and
//! introductions and the labels, never a route). The sections' methods are checked against the
//! route table by a test, and a section is served only while the handle serves its routes.
//!
//! Examples name hosts by placeholder: `{auth}` is the auth service's public base URL, `{api}`
//! the GraphQL host's. Both come from the embedder's [`DocsSettings`](super::DocsSettings).

use super::routes;
use crate::http::{apps, authorize, graphql, jwks, oauth, scopes, webhooks};

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

/// The contract's six topics, in the index's order.
pub(crate) const TOPICS: [Topic; 6] = [
    Topic {
        id: "api-reference",
        sections: &DOCS_SECTIONS,
        reading_time: "5 min",
        difficulty: "beginner",
        tags: &["integrations", "api", "docs"],
    },
    Topic {
        id: "identity-app-registration",
        sections: &IDENTITY,
        reading_time: "8 min",
        difficulty: "intermediate",
        tags: &["integrations", "api", "oauth", "webhooks", "graphql"],
    },
    Topic {
        id: "oauth-service-tokens",
        sections: &OAUTH,
        reading_time: "10 min",
        difficulty: "intermediate",
        tags: &["integrations", "oauth", "tokens"],
    },
    Topic {
        id: "jwks-token-verification",
        sections: &JWKS,
        reading_time: "4 min",
        difficulty: "intermediate",
        tags: &["integrations", "jwt", "jwks"],
    },
    Topic {
        id: "event-delivery-webhooks",
        sections: &WEBHOOKS,
        reading_time: "9 min",
        difficulty: "intermediate",
        tags: &["integrations", "webhooks", "events"],
    },
    Topic {
        id: "graphql-transport-contract",
        sections: &GRAPHQL,
        reading_time: "5 min",
        difficulty: "advanced",
        tags: &["integrations", "graphql"],
    },
];

/// The `auth` of a route that takes a bearer token.
pub(crate) const BEARER: &str = "Bearer token";
/// The `auth` of a public route.
pub(crate) const PUBLIC: &str = "Public";

const IDENTITY: [&Section; 4] = [
    &scopes::PLATFORM_SCOPES_SECTION,
    &apps::PLATFORM_APPS_COLLECTION_SECTION,
    &apps::PLATFORM_APP_DETAIL_SECTION,
    &apps::PLATFORM_GOVERNANCE_SECTION,
];

const OAUTH: [&Section; 10] = [
    &authorize::OAUTH_AUTHORIZE_SECTION,
    &oauth::OAUTH_TOKEN_SECTION,
    &apps::PLATFORM_SERVICE_TOKEN_SECTION,
    &apps::PLATFORM_ROTATE_SECRET_SECTION,
    &authorize::OAUTH_CONSENT_SECTION,
    &authorize::OAUTH_LOGIN_SECTION,
    &authorize::OAUTH_LOGOUT_SECTION,
    &oauth::OAUTH_INTROSPECT_SECTION,
    &oauth::OAUTH_REVOKE_SECTION,
    &oauth::OAUTH_METADATA_SECTION,
];

const JWKS: [&Section; 2] = [
    &jwks::JWKS_WELL_KNOWN_SECTION,
    &jwks::JWKS_VERSIONED_SECTION,
];

const WEBHOOKS: [&Section; 6] = [
    &webhooks::WEBHOOKS_COLLECTION_SECTION,
    &webhooks::WEBHOOKS_DETAIL_SECTION,
    &webhooks::WEBHOOKS_DELIVERIES_SECTION,
    &webhooks::WEBHOOKS_TEST_SECTION,
    &webhooks::WEBHOOKS_RETRY_SECTION,
    &webhooks::WEBHOOKS_RECOVER_SECTION,
];

const GRAPHQL: [&Section; 2] = [
    &graphql::GRAPHQL_TRANSPORT_SECTION,
    &graphql::GRAPHQL_BUNDLES_SECTION,
];

const DOCS_SECTIONS: [&Section; 4] = [
    &routes::DOCS_INDEX_SECTION,
    &routes::DOCS_TOPIC_SECTION,
    &routes::DOCS_OPENAPI_SECTION,
    &routes::LLMS_TXT_SECTION,
];
