//! The prose of the machine-readable docs: one section per route path, grouped into the
//! contract's six topics.
//!
//! Route names, titles, notes and examples stay in canonical English in every locale, as the
//! contract does (its Dutch page translates the topics' titles and introductions and the labels,
//! never a route). The sections' methods are checked against the route table by a test, and a
//! section is served only while the handle serves its routes.
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
    pub(crate) sections: &'static [Section],
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

const BEARER: &str = "Bearer token";
const PUBLIC: &str = "Public";

const IDENTITY: [Section; 4] = [
    Section {
        id: "platform-scopes",
        methods: &["GET"],
        path: "/v1/platform/scopes",
        title: "List available scopes",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Returns the scope catalog that external apps can request during registration and token issuance.",
        notes: &[
            "Use this endpoint to build consent or admin approval workflows around approved scopes.",
            "Do not assume unpublished scopes exist or are available to your tenant.",
        ],
        request: (
            "bash",
            "curl {auth}/v1/platform/scopes \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
        ),
        response: (
            "json",
            "{\n  \"scopes\": [\n    {\n      \"name\": \"webhooks:write\",\n      \"description\": \"Create and update outbound webhook subscriptions\"\n    }\n  ]\n}",
        ),
    },
    Section {
        id: "platform-apps-collection",
        methods: &["GET", "POST"],
        path: "/v1/platform/apps",
        title: "Create and list platform apps",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Creates an external integration app record or enumerates the apps already registered for the tenant.",
        notes: &[
            "Register a named app before attempting OAuth authorization code or client credentials flows.",
            "The response includes client metadata, approved grants, and tenancy context.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/platform/apps \\\n  -H \"Authorization: Bearer <admin-access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"name\": \"Case sync connector\",\n    \"grant_types\": [\"client_credentials\"],\n    \"redirect_uris\": [],\n    \"requested_scopes\": [\"webhooks:write\"]\n  }'",
        ),
        response: (
            "json",
            "{\n  \"client_id\": \"app_123\",\n  \"client_secret\": \"<write-once-secret>\",\n  \"grant_types\": [\"client_credentials\"],\n  \"requested_scopes\": [\"webhooks:write\"]\n}",
        ),
    },
    Section {
        id: "platform-app-detail",
        methods: &["GET"],
        path: "/v1/platform/apps/{client_id}",
        title: "Inspect an integration app",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Fetches the current metadata and governance state for a registered app by client identifier.",
        notes: &[
            "Use this endpoint to audit redirect URIs, grants, and scope posture before rotating secrets or enabling new workflows.",
        ],
        request: (
            "bash",
            "curl {auth}/v1/platform/apps/app_123 \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
        ),
        response: (
            "json",
            "{\n  \"client_id\": \"app_123\",\n  \"name\": \"Case sync connector\",\n  \"grant_types\": [\"client_credentials\"],\n  \"governance\": {\n    \"allow_service_tokens\": true\n  }\n}",
        ),
    },
    Section {
        id: "platform-governance",
        methods: &["PATCH"],
        path: "/v1/platform/apps/{client_id}/governance",
        title: "Update app governance",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Admins,
        description: "Adjusts governance flags for an existing app without exposing tenant-wide administrative controls.",
        notes: &[
            "Use governance updates to constrain redirects, service token usage, and other tenant-approved behaviors.",
            "This surface is scoped to the app identified in the path.",
        ],
        request: (
            "bash",
            "curl -X PATCH {auth}/v1/platform/apps/app_123/governance \\\n  -H \"Authorization: Bearer <admin-access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"allow_service_tokens\": true,\n    \"enforce_pkce\": true\n  }'",
        ),
        response: (
            "json",
            "{\n  \"client_id\": \"app_123\",\n  \"governance\": {\n    \"allow_service_tokens\": true,\n    \"enforce_pkce\": true\n  }\n}",
        ),
    },
];

const OAUTH: [Section; 10] = [
    Section {
        id: "oauth-authorize",
        methods: &["GET"],
        path: "/v1/oauth/authorize",
        title: "Start OAuth authorization code flow",
        host: Host::Auth,
        auth: "OAuth authorization code",
        audience: Audience::Integrators,
        description: "Initiates the authorization flow for integrations that act on behalf of a signed-in user.",
        notes: &[
            "Authorization requests should use the redirect URIs and scopes already approved on the platform app.",
            "PKCE should be used whenever a confidential client secret is not available.",
        ],
        request: (
            "text",
            "{auth}/v1/oauth/authorize?response_type=code&client_id=app_123&redirect_uri=https%3A%2F%2Fintegrator.example%2Fcallback&scope=webhooks%3Awrite&state=<opaque-state>&code_challenge=<pkce-challenge>&code_challenge_method=S256",
        ),
        response: (
            "text",
            "302 redirect to the registered redirect URI with either ?code=<authorization-code> or an OAuth error.",
        ),
    },
    Section {
        id: "oauth-token",
        methods: &["POST"],
        path: "/v1/oauth/token",
        title: "Exchange or mint access tokens",
        host: Host::Auth,
        auth: "OAuth auth code or client credentials",
        audience: Audience::Integrators,
        description: "Issues access tokens via authorization code or client credentials without documenting internal password or session flows.",
        notes: &[
            "Use authorization code for user-delegated access and client credentials for headless service integrations.",
            "Only request scopes that were approved during app registration.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/oauth/token \\\n  -H \"Content-Type: application/x-www-form-urlencoded\" \\\n  -d \"grant_type=client_credentials&client_id=app_123&client_secret=<client-secret>&scope=webhooks:write\"",
        ),
        response: (
            "json",
            "{\n  \"access_token\": \"<jwt>\",\n  \"token_type\": \"Bearer\",\n  \"expires_in\": 3600,\n  \"scope\": \"webhooks:write\"\n}",
        ),
    },
    Section {
        id: "platform-service-token",
        methods: &["POST"],
        path: "/v1/platform/apps/{client_id}/service-token",
        title: "Mint a service token",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Admins,
        description: "Issues a service token for automation that should not depend on an end-user session.",
        notes: &[
            "Service tokens are appropriate for webhook management, scheduled exports, and other machine-to-machine workflows.",
            "Keep service-token issuance behind tenant admin approval.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/platform/apps/app_123/service-token \\\n  -H \"Authorization: Bearer <admin-access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"scopes\": [\"webhooks:write\"]\n  }'",
        ),
        response: (
            "json",
            "{\n  \"token\": \"<service-token>\",\n  \"expires_at\": \"2026-03-24T10:00:00Z\"\n}",
        ),
    },
    Section {
        id: "platform-rotate-secret",
        methods: &["POST"],
        path: "/v1/platform/apps/{client_id}/rotate-secret",
        title: "Rotate an app secret",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Admins,
        description: "Rotates a confidential client secret so an external integration can recover or rotate credentials safely.",
        notes: &[
            "Treat the rotated secret as write-once material and replace it in your secret store immediately.",
            "Rotate secrets before revoking old credentials from automation.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/platform/apps/app_123/rotate-secret \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
        ),
        response: (
            "json",
            "{\n  \"client_id\": \"app_123\",\n  \"client_secret\": \"<new-write-once-secret>\"\n}",
        ),
    },
    Section {
        id: "oauth-consent",
        methods: &["POST"],
        path: "/v1/oauth/authorize",
        title: "Answer the consent page",
        host: Host::Auth,
        auth: "Signed-in user (the consent form)",
        audience: Audience::Integrators,
        description: "Receives the user's answer on the consent page the authorization endpoint showed; integrations never call it themselves.",
        notes: &[
            "The form carries a one-time token bound to the user's session; a replayed or foreign form is refused.",
            "Approval redirects with a code, denial with error=access_denied, both with state and iss (RFC 9207).",
        ],
        request: (
            "text",
            "POST {auth}/v1/oauth/authorize (form fields: consent token, decision), sent by the user's browser",
        ),
        response: (
            "text",
            "302 redirect to the registered redirect URI with ?code=<authorization-code>&state=<opaque-state>&iss=<issuer>, or error=access_denied.",
        ),
    },
    Section {
        id: "oauth-login",
        methods: &["POST"],
        path: "/v1/oauth/login",
        title: "Sign in on the built-in login page",
        host: Host::Auth,
        auth: "The login form",
        audience: Audience::Integrators,
        description: "Receives the built-in login form when the server signs users in itself; embedders with their own sign-in do not serve it.",
        notes: &[
            "Failed sign-ins are limited per user and per address; over the limit the answer is 429 with Retry-After.",
        ],
        request: (
            "text",
            "POST {auth}/v1/oauth/login (form fields: username, password, form token), sent by the user's browser",
        ),
        response: (
            "text",
            "303 redirect back to the authorization request, now signed in; the login page again after a failure.",
        ),
    },
    Section {
        id: "oauth-logout",
        methods: &["POST"],
        path: "/v1/oauth/logout",
        title: "Sign out of the built-in login",
        host: Host::Auth,
        auth: "The browser's session cookie",
        audience: Audience::Integrators,
        description: "Ends the browser's session of the built-in login, on every instance; the next authorization request asks the user to sign in again.",
        notes: &[
            "Served only when the server signs users in itself; tokens already issued stay valid until they expire or are revoked.",
        ],
        request: (
            "text",
            "POST {auth}/v1/oauth/logout, sent by the user's browser",
        ),
        response: ("text", "200 with a page saying the user is signed out."),
    },
    Section {
        id: "oauth-introspect",
        methods: &["POST"],
        path: "/v1/oauth/introspect",
        title: "Introspect a token (RFC 7662)",
        host: Host::Auth,
        auth: "Client credentials",
        audience: Audience::Integrators,
        description: "Tells an authenticated client whether a token of its own tenant is active, and its claims.",
        notes: &[
            "Verify tokens locally against the JWKS where you can; introspection also sees revocations at once.",
            "A token of another tenant, expired, revoked or unknown is {\"active\": false}.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/oauth/introspect \\\n  -u \"app_123:<client-secret>\" \\\n  -d \"token=<jwt>\"",
        ),
        response: (
            "json",
            "{\n  \"active\": true,\n  \"scope\": \"webhooks:write\",\n  \"client_id\": \"app_123\",\n  \"token_type\": \"Bearer\",\n  \"exp\": 1774260000\n}",
        ),
    },
    Section {
        id: "oauth-revoke",
        methods: &["POST"],
        path: "/v1/oauth/revoke",
        title: "Revoke a token (RFC 7009)",
        host: Host::Auth,
        auth: "Client credentials",
        audience: Audience::Integrators,
        description: "Revokes an access or refresh token the client holds; every instance refuses it from its next refresh on.",
        notes: &["The answer is 200 whether or not the token was known, as RFC 7009 asks."],
        request: (
            "bash",
            "curl -X POST {auth}/v1/oauth/revoke \\\n  -u \"app_123:<client-secret>\" \\\n  -d \"token=<refresh-token>&token_type_hint=refresh_token\"",
        ),
        response: ("text", "200 OK with an empty body."),
    },
    Section {
        id: "oauth-metadata",
        methods: &["GET"],
        path: "/.well-known/oauth-authorization-server",
        title: "Authorization server metadata (RFC 8414)",
        host: Host::Auth,
        auth: PUBLIC,
        audience: Audience::Integrators,
        description: "Publishes the endpoints, grants, scopes and signing algorithms this server really supports, for OAuth client libraries to discover.",
        notes: &[
            "Point your OAuth library at the issuer and let it discover the endpoints instead of hard-coding them.",
        ],
        request: ("bash", "curl {auth}/.well-known/oauth-authorization-server"),
        response: (
            "json",
            "{\n  \"issuer\": \"{auth}\",\n  \"token_endpoint\": \"{auth}/v1/oauth/token\",\n  \"jwks_uri\": \"{auth}/.well-known/jwks.json\",\n  \"grant_types_supported\": [\"authorization_code\", \"client_credentials\", \"refresh_token\"]\n}",
        ),
    },
];

const JWKS: [Section; 2] = [
    Section {
        id: "jwks-well-known",
        methods: &["GET"],
        path: "/.well-known/jwks.json",
        title: "OpenID-compatible JWKS discovery",
        host: Host::Auth,
        auth: PUBLIC,
        audience: Audience::Integrators,
        description: "Publishes public signing keys at the well-known JWKS path for standards-based token validation.",
        notes: &[
            "Use the key identifier in the JWT header to select the correct public key.",
            "Cache JWKS responses according to your verifier policy and refresh on unknown key IDs.",
        ],
        request: ("bash", "curl {auth}/.well-known/jwks.json"),
        response: (
            "json",
            "{\n  \"keys\": [\n    {\n      \"kty\": \"RSA\",\n      \"kid\": \"2026-03-signing-key\",\n      \"use\": \"sig\"\n    }\n  ]\n}",
        ),
    },
    Section {
        id: "jwks-versioned",
        methods: &["GET"],
        path: "/v1/auth/jwks.json",
        title: "Versioned JWKS endpoint",
        host: Host::Auth,
        auth: PUBLIC,
        audience: Audience::Integrators,
        description: "Provides the same public signing material under the auth-service versioned API namespace.",
        notes: &["Use this variant when your API client standardizes on versioned endpoints."],
        request: ("bash", "curl {auth}/v1/auth/jwks.json"),
        response: (
            "json",
            "{\n  \"keys\": [\n    {\n      \"kty\": \"RSA\",\n      \"kid\": \"2026-03-signing-key\",\n      \"use\": \"sig\"\n    }\n  ]\n}",
        ),
    },
];

const WEBHOOKS: [Section; 6] = [
    Section {
        id: "webhooks-collection",
        methods: &["GET", "POST"],
        path: "/v1/webhooks",
        title: "Create and list webhooks",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Manages outbound webhook subscriptions used to deliver approved event notifications to an external system.",
        notes: &[
            "Create subscriptions only for events your integration has been approved to receive.",
            "Outbound webhook secrets should be stored and rotated like any other integration credential.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/webhooks \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"url\": \"https://integrator.example/webhooks/argus\",\n    \"events\": [\"incident.updated\"],\n    \"secret\": \"<signing-secret>\"\n  }'",
        ),
        response: (
            "json",
            "{\n  \"id\": \"wh_123\",\n  \"url\": \"https://integrator.example/webhooks/argus\",\n  \"events\": [\"incident.updated\"]\n}",
        ),
    },
    Section {
        id: "webhooks-detail",
        methods: &["GET", "PUT", "DELETE"],
        path: "/v1/webhooks/{webhook_id}",
        title: "Inspect, update, or delete a webhook",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Manages an individual webhook subscription by identifier.",
        notes: &[
            "Use update operations to rotate secrets or adjust event selections without recreating the subscription.",
        ],
        request: (
            "bash",
            "curl -X PUT {auth}/v1/webhooks/wh_123 \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"events\": [\"incident.updated\", \"incident.closed\"]\n  }'",
        ),
        response: (
            "json",
            "{\n  \"id\": \"wh_123\",\n  \"events\": [\"incident.updated\", \"incident.closed\"]\n}",
        ),
    },
    Section {
        id: "webhooks-deliveries",
        methods: &["GET"],
        path: "/v1/webhooks/{webhook_id}/deliveries",
        title: "Review delivery attempts",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Returns historical delivery attempts for a webhook so integrators can debug retries and downstream failures.",
        notes: &[
            "Use delivery history instead of internal logs to diagnose receiver behavior.",
            "Delivery metadata is limited to the webhook in scope.",
        ],
        request: (
            "bash",
            "curl {auth}/v1/webhooks/wh_123/deliveries \\\n  -H \"Authorization: Bearer <access-token>\"",
        ),
        response: (
            "json",
            "{\n  \"deliveries\": [\n    {\n      \"id\": \"dlv_123\",\n      \"status\": \"succeeded\",\n      \"attempted_at\": \"2026-03-23T12:00:00Z\"\n    }\n  ]\n}",
        ),
    },
    Section {
        id: "webhooks-test",
        methods: &["POST"],
        path: "/v1/webhooks/{webhook_id}/test",
        title: "Send a test webhook",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Triggers a synthetic delivery to validate receiver configuration before enabling production traffic.",
        notes: &["Use test deliveries when rotating secrets or validating a new endpoint."],
        request: (
            "bash",
            "curl -X POST {auth}/v1/webhooks/wh_123/test \\\n  -H \"Authorization: Bearer <access-token>\"",
        ),
        response: (
            "json",
            "{\n  \"delivery_id\": \"dlv_test_123\",\n  \"status\": \"queued\"\n}",
        ),
    },
    Section {
        id: "webhooks-retry",
        methods: &["POST"],
        path: "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
        title: "Resend one delivery",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Queues one past delivery of the webhook again, signed anew, whatever its status.",
        notes: &[
            "Receivers must be idempotent: the event keeps its id, so a resend is recognisable.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/webhooks/wh_123/deliveries/dlv_123/retry \\\n  -H \"Authorization: Bearer <access-token>\"",
        ),
        response: (
            "json",
            "{\n  \"delivery_id\": \"dlv_123\",\n  \"status\": \"queued\"\n}",
        ),
    },
    Section {
        id: "webhooks-recover",
        methods: &["POST"],
        path: "/v1/webhooks/{webhook_id}/recover",
        title: "Resend failed deliveries since a time",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Queues again every failed delivery of the webhook since the given time, after a receiver outage.",
        notes: &[
            "Use it once the receiver is back; the answer says how many deliveries were queued.",
        ],
        request: (
            "bash",
            "curl -X POST {auth}/v1/webhooks/wh_123/recover \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"since\": \"2026-03-23T00:00:00Z\"\n  }'",
        ),
        response: ("json", "{\n  \"recovered\": 12\n}"),
    },
];

const GRAPHQL: [Section; 2] = [
    Section {
        id: "graphql-transport",
        methods: &["POST"],
        path: "/graphql",
        title: "Use the shared GraphQL transport",
        host: Host::Api,
        auth: BEARER,
        audience: Audience::Integrators,
        description: "Connect to the GraphQL endpoint with bearer tokens and tenant scoping, while operation bundles remain curated and access-controlled.",
        notes: &[
            "Public documentation covers transport, headers, tenancy, and error handling only.",
            "Schema dumps, playground access, introspection guidance, and unpublished operations are excluded from the public contract.",
            "Approved partners receive curated operation bundles tied to explicit integration workflows.",
        ],
        request: (
            "bash",
            "curl -X POST {api}/graphql \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -H \"X-Tenant-ID: <tenant-id>\" \\\n  -d '{\n    \"query\": \"<approved GraphQL document>\",\n    \"variables\": {}\n  }'",
        ),
        response: (
            "json",
            "{\n  \"data\": {\n    \"result\": \"Returned for your approved operation bundle\"\n  }\n}",
        ),
    },
    Section {
        id: "graphql-bundles",
        methods: &["GET"],
        path: "/v1/platform/graphql-bundles",
        title: "List the GraphQL operation bundles",
        host: Host::Auth,
        auth: BEARER,
        audience: Audience::Admins,
        description: "Lists the curated operation bundles in force, by name and operation name, for the tenant's administrators.",
        notes: &[
            "Documents and schema details are never listed: bundles are handed to approved integrations directly.",
        ],
        request: (
            "bash",
            "curl {auth}/v1/platform/graphql-bundles \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
        ),
        response: (
            "json",
            "{\n  \"bundles\": [\n    {\n      \"name\": \"incident-sync\",\n      \"operations\": [\"IncidentById\"]\n    }\n  ]\n}",
        ),
    },
];

const DOCS_SECTIONS: [Section; 4] = [
    Section {
        id: "docs-index",
        methods: &["GET"],
        path: "/api/docs",
        title: "The docs index",
        host: Host::Auth,
        auth: PUBLIC,
        audience: Audience::Integrators,
        description: "Lists the topics of this documentation with their sections; ?format=markdown gives the whole contract as one markdown document.",
        notes: &[
            "Send ?locale=nl or Accept-Language: nl for the Dutch prose; routes, payloads and examples stay in English.",
            "Answers carry an ETag: send If-None-Match to get 304 while nothing changed.",
        ],
        request: ("bash", "curl {auth}/api/docs"),
        response: (
            "json",
            "{\n  \"version\": \"2026.1\",\n  \"topics\": [\n    {\n      \"id\": \"api-reference\",\n      \"url\": \"{auth}/api/docs/api-reference\"\n    }\n  ]\n}",
        ),
    },
    Section {
        id: "docs-topic",
        methods: &["GET"],
        path: "/api/docs/{topic}",
        title: "One topic",
        host: Host::Auth,
        auth: PUBLIC,
        audience: Audience::Integrators,
        description: "Returns one topic with its sections and code examples; ?format=markdown gives it as markdown.",
        notes: &["An unknown topic is a 404 that lists the valid topic ids."],
        request: (
            "bash",
            "curl {auth}/api/docs/identity-app-registration?format=markdown",
        ),
        response: (
            "text",
            "# Identity and app registration\n\nRegister an integration, inspect allowed scopes, and manage governance settings for an external app.",
        ),
    },
    Section {
        id: "docs-openapi",
        methods: &["GET"],
        path: "/api/docs/openapi.json",
        title: "The OpenAPI document",
        host: Host::Auth,
        auth: PUBLIC,
        audience: Audience::Integrators,
        description: "An OpenAPI 3.1 document of every public route, with request and response schemas, security schemes and error bodies.",
        notes: &["Generate a client from it, or drive a property-based API test tool with it."],
        request: ("bash", "curl {auth}/api/docs/openapi.json"),
        response: (
            "json",
            "{\n  \"openapi\": \"3.1.0\",\n  \"info\": {\n    \"title\": \"Knogin External Integration API\"\n  }\n}",
        ),
    },
    Section {
        id: "llms-txt",
        methods: &["GET"],
        path: "/llms.txt",
        title: "The llms.txt summary",
        host: Host::Auth,
        auth: PUBLIC,
        audience: Audience::Integrators,
        description: "A title, a summary and a link to each topic's markdown, in the llmstxt.org format.",
        notes: &[],
        request: ("bash", "curl {auth}/llms.txt"),
        response: (
            "text",
            "# Knogin External Integration API\n\n> Stable public integration documentation for external integrators.",
        ),
    },
];
