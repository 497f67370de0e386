//! The OpenAPI document's schemas: every request and response body of the contract.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Ref, Schema, Type};
use utoipa::openapi::{ComponentsBuilder, RefOr};

/// A property: its name, its schema, and whether it is required.
type Property = (&'static str, RefOr<Schema>, bool);

pub(super) fn string() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).into()
}

fn text(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .into()
}

fn integer() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Integer).into()
}

fn boolean() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Boolean).into()
}

pub(super) fn one_of(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}

fn nullable(schema: Type) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            schema,
            Type::Null,
        ]))
        .into()
}

fn strings() -> RefOr<Schema> {
    ArrayBuilder::new().items(string()).into()
}

fn any_object() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Object).into()
}

fn list_of(name: &str) -> RefOr<Schema> {
    ArrayBuilder::new().items(reference(name)).into()
}

/// `#/components/schemas/{name}`.
pub(super) fn reference(name: &str) -> RefOr<Schema> {
    Ref::from_schema_name(name).into()
}

fn object(description: &str, properties: Vec<Property>) -> RefOr<Schema> {
    let mut builder = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description));
    for (name, schema, required) in properties {
        builder = builder.property(name, schema);
        if required {
            builder = builder.required(name);
        }
    }
    builder.into()
}

/// Every schema, by name.
#[expect(
    clippy::too_many_lines,
    reason = "one declarative table: a schema per request and response body"
)]
pub(super) fn components(builder: ComponentsBuilder) -> ComponentsBuilder {
    let schemas: Vec<(&str, RefOr<Schema>)> = vec![
        (
            "Problem",
            object(
                "An RFC 9457 problem; `errors` names each bad field.",
                vec![
                    ("type", string(), true),
                    ("title", string(), true),
                    ("status", integer(), true),
                    ("detail", string(), true),
                    ("correlation_id", string(), false),
                    (
                        "errors",
                        ArrayBuilder::new()
                            .items(object(
                                "One bad field.",
                                vec![("field", string(), true), ("message", string(), true)],
                            ))
                            .into(),
                        false,
                    ),
                ],
            ),
        ),
        (
            "OAuthError",
            object(
                "An RFC 6749 §5.2 error.",
                vec![
                    (
                        "error",
                        one_of(&[
                            "invalid_request",
                            "invalid_client",
                            "invalid_grant",
                            "unauthorized_client",
                            "unsupported_grant_type",
                            "invalid_scope",
                            "unsupported_token_type",
                        ]),
                        true,
                    ),
                    ("error_description", string(), false),
                ],
            ),
        ),
        (
            "GraphQlErrors",
            object(
                "GraphQL errors; `extensions.code` says what kind.",
                vec![(
                    "errors",
                    ArrayBuilder::new()
                        .items(object(
                            "One error.",
                            vec![
                                ("message", string(), true),
                                (
                                    "extensions",
                                    object("", vec![("code", string(), true)]),
                                    false,
                                ),
                            ],
                        ))
                        .into(),
                    true,
                )],
            ),
        ),
        (
            "Scope",
            object(
                "A scope apps may request.",
                vec![("name", string(), true), ("description", string(), true)],
            ),
        ),
        (
            "ScopeList",
            object(
                "The scope catalog.",
                vec![("scopes", list_of("Scope"), true)],
            ),
        ),
        (
            "Governance",
            object(
                "What the tenant allows the app.",
                vec![
                    ("allow_service_tokens", boolean(), true),
                    ("enforce_pkce", boolean(), true),
                    ("access_token_ttl", nullable(Type::Integer), false),
                    ("allow_token_introspection", boolean(), false),
                ],
            ),
        ),
        (
            "AppRegistration",
            object(
                "A new app.",
                vec![
                    ("name", string(), true),
                    (
                        "grant_types",
                        ArrayBuilder::new()
                            .items(one_of(&[
                                "client_credentials",
                                "authorization_code",
                                "refresh_token",
                            ]))
                            .into(),
                        true,
                    ),
                    ("redirect_uris", strings(), true),
                    ("requested_scopes", strings(), true),
                ],
            ),
        ),
        (
            "App",
            object(
                "A registered app; `client_secret` only in the answer that created it.",
                vec![
                    ("client_id", text("`app_` and 32 hex digits"), true),
                    ("client_secret", string(), false),
                    ("name", string(), true),
                    ("grant_types", strings(), true),
                    ("redirect_uris", strings(), true),
                    ("requested_scopes", strings(), true),
                    ("tenant_id", string(), true),
                    ("created_at", text("RFC 3339, UTC"), true),
                    ("governance", reference("Governance"), true),
                ],
            ),
        ),
        (
            "AppList",
            object(
                "A page of apps.",
                vec![
                    ("apps", list_of("App"), true),
                    ("next_cursor", nullable(Type::String), true),
                ],
            ),
        ),
        (
            "GovernancePatch",
            object(
                "The governance flags to change; at least one.",
                vec![
                    ("allow_service_tokens", boolean(), false),
                    ("enforce_pkce", boolean(), false),
                    ("access_token_ttl", nullable(Type::Integer), false),
                    ("allow_token_introspection", boolean(), false),
                ],
            ),
        ),
        (
            "GovernanceAnswer",
            object(
                "The app's governance after the change.",
                vec![
                    ("client_id", string(), true),
                    ("governance", reference("Governance"), true),
                ],
            ),
        ),
        (
            "ServiceTokenRequest",
            object(
                "The scopes (within the app's) and, optionally, a lifetime.",
                vec![
                    ("scopes", strings(), true),
                    ("expires_in", integer(), false),
                ],
            ),
        ),
        (
            "ServiceToken",
            object(
                "A service token.",
                vec![
                    ("token", string(), true),
                    ("expires_at", text("RFC 3339, UTC"), true),
                ],
            ),
        ),
        (
            "RotateSecretRequest",
            object(
                "Optional: end every earlier secret now.",
                vec![("revoke_previous", boolean(), false)],
            ),
        ),
        (
            "RotatedSecret",
            object(
                "The new secret, shown once.",
                vec![
                    ("client_id", string(), true),
                    ("client_secret", string(), true),
                ],
            ),
        ),
        (
            "TokenRequest",
            object(
                "A token request (form-encoded).",
                vec![
                    (
                        "grant_type",
                        one_of(&["client_credentials", "authorization_code", "refresh_token"]),
                        true,
                    ),
                    ("client_id", string(), false),
                    ("client_secret", string(), false),
                    ("scope", string(), false),
                    ("code", string(), false),
                    ("redirect_uri", string(), false),
                    ("code_verifier", string(), false),
                    ("refresh_token", string(), false),
                ],
            ),
        ),
        (
            "TokenResponse",
            object(
                "An access token (RFC 6749 §5.1).",
                vec![
                    ("access_token", string(), true),
                    ("token_type", one_of(&["Bearer"]), true),
                    ("expires_in", integer(), true),
                    ("scope", string(), true),
                    ("refresh_token", string(), false),
                ],
            ),
        ),
        (
            "TokenAction",
            object(
                "A token to introspect or revoke (form-encoded).",
                vec![
                    ("token", string(), true),
                    (
                        "token_type_hint",
                        one_of(&["access_token", "refresh_token"]),
                        false,
                    ),
                    ("client_id", string(), false),
                    ("client_secret", string(), false),
                ],
            ),
        ),
        (
            "Introspection",
            object(
                "RFC 7662: `active`, and the token's claims when it is.",
                vec![
                    ("active", boolean(), true),
                    ("scope", string(), false),
                    ("client_id", string(), false),
                    ("sub", string(), false),
                    ("exp", integer(), false),
                    ("iat", integer(), false),
                    ("token_type", string(), false),
                ],
            ),
        ),
        (
            "AuthorizationServerMetadata",
            object(
                "RFC 8414 metadata.",
                vec![
                    ("issuer", string(), true),
                    ("token_endpoint", string(), true),
                    ("jwks_uri", string(), true),
                    ("authorization_endpoint", string(), false),
                    ("grant_types_supported", strings(), false),
                    ("scopes_supported", strings(), false),
                ],
            ),
        ),
        (
            "Jwks",
            object(
                "The public signing keys (RFC 7517).",
                vec![(
                    "keys",
                    ArrayBuilder::new()
                        .items(object(
                            "One JWK.",
                            vec![
                                ("kty", one_of(&["RSA", "EC", "OKP"]), true),
                                ("kid", string(), true),
                                ("use", one_of(&["sig"]), false),
                                ("alg", one_of(&["RS256", "ES256", "EdDSA"]), false),
                            ],
                        ))
                        .into(),
                    true,
                )],
            ),
        ),
        (
            "WebhookCreate",
            object(
                "A new subscription. Without `secret`, one is generated and returned once.",
                vec![
                    ("url", string(), true),
                    ("events", strings(), true),
                    (
                        "secret",
                        text("`whsec_` and base64 of 24 to 64 bytes"),
                        false,
                    ),
                    ("description", string(), false),
                    ("rate_limit", integer(), false),
                ],
            ),
        ),
        (
            "WebhookPatch",
            object(
                "The fields to change.",
                vec![
                    ("url", string(), false),
                    ("events", strings(), false),
                    ("secret", string(), false),
                    ("description", string(), false),
                    ("disabled", boolean(), false),
                    ("rate_limit", integer(), false),
                ],
            ),
        ),
        (
            "Webhook",
            object(
                "A subscription (never its secrets, but the one generated at creation).",
                vec![
                    ("id", text("`wh_` and 32 hex digits"), true),
                    ("url", string(), true),
                    ("events", strings(), true),
                    ("description", string(), false),
                    ("disabled", boolean(), true),
                    ("disabled_reason", string(), false),
                    ("rate_limit", integer(), false),
                    (
                        "owner_client_id",
                        text("the app whose token created it"),
                        false,
                    ),
                    ("created_at", string(), true),
                    ("updated_at", string(), true),
                    ("secret", string(), false),
                ],
            ),
        ),
        (
            "WebhookList",
            object(
                "A page of subscriptions.",
                vec![
                    ("webhooks", list_of("Webhook"), true),
                    ("next_cursor", nullable(Type::String), true),
                ],
            ),
        ),
        (
            "Delivery",
            object(
                "One delivery and its last attempt.",
                vec![
                    ("id", text("`dlv_` and 32 hex digits"), true),
                    (
                        "status",
                        one_of(&["queued", "retrying", "succeeded", "failed", "cancelled"]),
                        true,
                    ),
                    ("event_id", string(), true),
                    ("event_type", string(), true),
                    ("attempts", integer(), true),
                    ("created_at", string(), true),
                    ("attempted_at", nullable(Type::String), true),
                    ("response_status", nullable(Type::Integer), true),
                    ("duration_ms", nullable(Type::Integer), true),
                    ("response_body", nullable(Type::String), true),
                    ("next_attempt_at", nullable(Type::String), true),
                ],
            ),
        ),
        (
            "DeliveryList",
            object(
                "A page of deliveries, newest first.",
                vec![
                    ("deliveries", list_of("Delivery"), true),
                    ("next_cursor", nullable(Type::String), true),
                ],
            ),
        ),
        (
            "Queued",
            object(
                "A delivery queued.",
                vec![
                    ("delivery_id", string(), true),
                    ("status", one_of(&["queued"]), true),
                ],
            ),
        ),
        (
            "RecoverRequest",
            object(
                "Resend the failed deliveries since this time.",
                vec![("since", text("RFC 3339"), true)],
            ),
        ),
        (
            "Recovered",
            object(
                "How many deliveries were queued again.",
                vec![("recovered", integer(), true)],
            ),
        ),
        (
            "GraphQlRequest",
            object(
                "A GraphQL-over-HTTP request naming a curated operation.",
                vec![
                    ("query", string(), false),
                    (
                        "documentId",
                        text("`sha256:` and 64 lowercase hex digits"),
                        false,
                    ),
                    ("operationName", string(), false),
                    ("variables", any_object(), false),
                    ("extensions", any_object(), false),
                ],
            ),
        ),
        (
            "GraphQlResponse",
            object(
                "A GraphQL response.",
                vec![
                    ("data", any_object(), false),
                    (
                        "errors",
                        ArrayBuilder::new().items(any_object()).into(),
                        false,
                    ),
                ],
            ),
        ),
        (
            "BundleList",
            object(
                "The operation bundles in force.",
                vec![(
                    "bundles",
                    ArrayBuilder::new()
                        .items(object(
                            "One bundle.",
                            vec![("name", string(), true), ("operations", strings(), true)],
                        ))
                        .into(),
                    true,
                )],
            ),
        ),
        (
            "DocsIndex",
            object(
                "The docs index.",
                vec![
                    ("version", string(), true),
                    ("lastUpdated", string(), true),
                    ("description", string(), true),
                    ("baseUrl", string(), true),
                    ("endpoints", any_object(), true),
                    (
                        "topics",
                        ArrayBuilder::new().items(any_object()).into(),
                        true,
                    ),
                    ("quickStart", any_object(), true),
                    ("partnerPortal", any_object(), true),
                ],
            ),
        ),
        (
            "DocsTopic",
            object(
                "One docs topic.",
                vec![
                    ("id", string(), true),
                    ("title", string(), true),
                    ("description", string(), true),
                    ("lastUpdated", string(), true),
                    (
                        "sections",
                        ArrayBuilder::new().items(any_object()).into(),
                        true,
                    ),
                    ("relatedTopics", strings(), true),
                    ("markdown", string(), true),
                    ("metadata", any_object(), true),
                ],
            ),
        ),
    ];
    schemas
        .into_iter()
        .fold(builder, |b, (name, schema)| b.schema(name, schema))
}
