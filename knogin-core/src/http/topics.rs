//! The contract's six topics: each orders the docs sections that the capabilities write beside
//! their route rows. The builder hands them to the docs, so the docs import no capability.

use super::docs::content::{Section, Topic};
use super::docs::routes as docs;
use super::{apps, authorize, graphql, jwks, oauth, scopes, webhooks};

/// The contract's six topics, in the index's order.
pub(crate) static TOPICS: [Topic; 6] = [
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

const IDENTITY: [&Section; 4] = [
    &scopes::PLATFORM_SCOPES_SECTION,
    &apps::PLATFORM_APPS_COLLECTION_SECTION,
    &apps::PLATFORM_APP_DETAIL_SECTION,
    &apps::PLATFORM_GOVERNANCE_SECTION,
];

const OAUTH: [&Section; 11] = [
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
    &oauth::OAUTH_PAR_SECTION,
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
    &docs::DOCS_INDEX_SECTION,
    &docs::DOCS_TOPIC_SECTION,
    &docs::DOCS_OPENAPI_SECTION,
    &docs::LLMS_TXT_SECTION,
];
