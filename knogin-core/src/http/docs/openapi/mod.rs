//! The OpenAPI 3.1 document (`GET /api/docs/openapi.json`), built from the route table with
//! utoipa's typed builders: every route the handle serves, its parameters, bodies, security and
//! error answers.

mod schemas;

use http::{Method, StatusCode};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Required,
};

use self::schemas::{one_of, reference, string};
use super::DocsSettings;
use super::content::TOPICS;
use crate::http::{Access, ErrorFormat, Route};
use crate::shared::Core;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// What the document says about one route beyond its row: bodies and query parameters.
struct Spec {
    /// The request body: media type and schema name.
    request: Option<(&'static str, &'static str)>,
    /// Whether the request body may be left out.
    optional_body: bool,
    /// The success status, and the answer's media type and schema name.
    success: (StatusCode, Option<(&'static str, &'static str)>),
    /// Query parameters: name, and the values it takes (empty: any string).
    query: &'static [(&'static str, &'static [&'static str])],
}

const PAGED: &[(&str, &[&str])] = &[("limit", &[]), ("cursor", &[])];
const DOCS_QUERY: &[(&str, &[&str])] = &[("format", &["json", "markdown"]), ("locale", &[])];

fn spec(method: &Method, path: &str) -> Option<Spec> {
    let ok = |schema| (StatusCode::OK, Some((JSON, schema)));
    let accepted = |schema| (StatusCode::ACCEPTED, Some((JSON, schema)));
    let plain = |request, success| Spec {
        request,
        optional_body: false,
        success,
        query: &[],
    };
    Some(match (method.as_str(), path) {
        ("GET", "/v1/platform/scopes") => plain(None, ok("ScopeList")),
        ("GET", "/v1/platform/apps") => Spec {
            query: PAGED,
            ..plain(None, ok("AppList"))
        },
        ("POST", "/v1/platform/apps") => plain(
            Some((JSON, "AppRegistration")),
            (StatusCode::CREATED, Some((JSON, "App"))),
        ),
        ("GET", "/v1/platform/apps/{client_id}") => plain(None, ok("App")),
        ("PATCH", "/v1/platform/apps/{client_id}/governance") => {
            plain(Some((JSON, "GovernancePatch")), ok("GovernanceAnswer"))
        }
        ("POST", "/v1/platform/apps/{client_id}/service-token") => {
            plain(Some((JSON, "ServiceTokenRequest")), ok("ServiceToken"))
        }
        ("POST", "/v1/platform/apps/{client_id}/rotate-secret") => Spec {
            optional_body: true,
            ..plain(Some((JSON, "RotateSecretRequest")), ok("RotatedSecret"))
        },
        ("GET", "/v1/oauth/authorize") => Spec {
            query: &[
                ("response_type", &["code"]),
                ("client_id", &[]),
                ("redirect_uri", &[]),
                ("scope", &[]),
                ("state", &[]),
                ("code_challenge", &[]),
                ("code_challenge_method", &["S256"]),
            ],
            ..plain(None, (StatusCode::FOUND, None))
        },
        ("POST", "/v1/oauth/authorize" | "/v1/oauth/login") => {
            plain(None, (StatusCode::SEE_OTHER, None))
        }
        ("POST", "/v1/oauth/logout") => plain(None, (StatusCode::OK, None)),
        ("POST", "/v1/oauth/token") => plain(Some((FORM, "TokenRequest")), ok("TokenResponse")),
        ("POST", "/v1/oauth/introspect") => plain(Some((FORM, "TokenAction")), ok("Introspection")),
        ("POST", "/v1/oauth/revoke") => plain(Some((FORM, "TokenAction")), (StatusCode::OK, None)),
        ("GET", "/.well-known/oauth-authorization-server") => {
            plain(None, ok("AuthorizationServerMetadata"))
        }
        ("GET", "/.well-known/jwks.json" | "/v1/auth/jwks.json") => plain(None, ok("Jwks")),
        ("GET", "/v1/webhooks") => Spec {
            query: PAGED,
            ..plain(None, ok("WebhookList"))
        },
        ("POST", "/v1/webhooks") => plain(
            Some((JSON, "WebhookCreate")),
            (StatusCode::CREATED, Some((JSON, "Webhook"))),
        ),
        ("GET", "/v1/webhooks/{webhook_id}") => plain(None, ok("Webhook")),
        ("PUT", "/v1/webhooks/{webhook_id}") => plain(Some((JSON, "WebhookPatch")), ok("Webhook")),
        ("DELETE", "/v1/webhooks/{webhook_id}") => plain(None, (StatusCode::NO_CONTENT, None)),
        ("GET", "/v1/webhooks/{webhook_id}/deliveries") => Spec {
            query: &[
                ("limit", &[]),
                ("cursor", &[]),
                (
                    "status",
                    &["queued", "retrying", "succeeded", "failed", "cancelled"],
                ),
            ],
            ..plain(None, ok("DeliveryList"))
        },
        ("POST", "/v1/webhooks/{webhook_id}/test") => plain(None, accepted("Queued")),
        ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry") => {
            plain(None, accepted("Queued"))
        }
        ("POST", "/v1/webhooks/{webhook_id}/recover") => {
            plain(Some((JSON, "RecoverRequest")), accepted("Recovered"))
        }
        ("POST", "/graphql") => plain(Some((JSON, "GraphQlRequest")), ok("GraphQlResponse")),
        ("GET", "/v1/platform/graphql-bundles") => plain(None, ok("BundleList")),
        ("GET", "/api/docs") => Spec {
            query: DOCS_QUERY,
            ..plain(None, ok("DocsIndex"))
        },
        ("GET", "/api/docs/{topic}") => Spec {
            query: DOCS_QUERY,
            ..plain(None, ok("DocsTopic"))
        },
        ("GET", "/api/docs/openapi.json") => plain(None, (StatusCode::OK, Some((JSON, "")))),
        ("GET", "/llms.txt") => Spec {
            query: &[("locale", &[])],
            ..plain(None, (StatusCode::OK, Some(("text/plain", ""))))
        },
        _ => return None,
    })
}

/// The topic a route's section sits in: the operation's tag.
fn tag_of(route: &Route) -> &'static str {
    TOPICS
        .iter()
        .find(|t| {
            t.sections
                .iter()
                .any(|s| s.path == route.path() && s.methods.contains(&route.method().as_str()))
        })
        .map_or("api-reference", |t| t.id)
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The security requirements of a route's guard.
fn security(access: &Access) -> Vec<SecurityRequirement> {
    match access {
        Access::Admin => vec![SecurityRequirement::new("adminToken", Vec::<String>::new())],
        Access::Bearer { scope } => vec![
            SecurityRequirement::new("oauth2", [*scope]),
            SecurityRequirement::new("bearerToken", Vec::<String>::new()),
        ],
        Access::TenantBearer => vec![
            SecurityRequirement::new("oauth2", Vec::<String>::new()),
            SecurityRequirement::new("bearerToken", Vec::<String>::new()),
        ],
        Access::Client => vec![
            SecurityRequirement::new("clientSecretBasic", Vec::<String>::new()),
            SecurityRequirement::default(),
        ],
        _ => Vec::new(),
    }
}

/// The error answers a route can give, by its guard and error format.
fn errors(route: &Route, spec: &Spec) -> Vec<(StatusCode, &'static str, &'static str)> {
    let (media, schema) = match route.errors() {
        ErrorFormat::OAuth => (JSON, "OAuthError"),
        ErrorFormat::GraphQl => (JSON, "GraphQlErrors"),
        ErrorFormat::Html => ("text/html", ""),
        _ => ("application/problem+json", "Problem"),
    };
    let mut out = vec![(StatusCode::BAD_REQUEST, media, schema)];
    match route.access() {
        Access::Public | Access::User => {}
        Access::Client => {
            out.push((StatusCode::UNAUTHORIZED, media, schema));
            out.push((StatusCode::TOO_MANY_REQUESTS, media, schema));
        }
        _ => {
            out.push((StatusCode::UNAUTHORIZED, media, schema));
            out.push((StatusCode::FORBIDDEN, media, schema));
        }
    }
    if route.path().contains('{') {
        out.push((StatusCode::NOT_FOUND, "application/problem+json", "Problem"));
    }
    // A subscription's quota, and a change that raced another.
    if route.path().starts_with("/v1/webhooks")
        && matches!(
            (route.method().as_str(), route.path()),
            ("POST", "/v1/webhooks") | ("PUT", _)
        )
    {
        out.push((StatusCode::CONFLICT, media, schema));
    }
    if route.path().ends_with("/test") || route.path().ends_with("/recover") {
        out.push((StatusCode::TOO_MANY_REQUESTS, media, schema));
    }
    if route.path() == "/v1/oauth/login" {
        out.push((StatusCode::TOO_MANY_REQUESTS, media, schema));
        out.push((StatusCode::SERVICE_UNAVAILABLE, media, schema));
    }
    if spec.request.is_some() {
        out.push((StatusCode::PAYLOAD_TOO_LARGE, media, schema));
        out.push((StatusCode::UNSUPPORTED_MEDIA_TYPE, media, schema));
    }
    out
}

fn content(schema: &str) -> utoipa::openapi::Content {
    let builder = ContentBuilder::new();
    if schema.is_empty() {
        builder.build()
    } else {
        builder.schema(Some(reference(schema))).build()
    }
}

fn operation(route: &Route) -> utoipa::openapi::path::Operation {
    let spec = spec(route.method(), route.path()).expect("every route has an OpenAPI spec");
    let mut op = OperationBuilder::new()
        .operation_id(Some(operation_id(route)))
        .summary(Some(route.summary()))
        .tag(tag_of(route));
    for name in route
        .path()
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    {
        op = op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string())),
        );
    }
    for (name, values) in spec.query {
        let schema = if values.is_empty() {
            string()
        } else {
            one_of(values)
        };
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .schema(Some(schema)),
        );
    }
    if *route.access() == Access::TenantBearer {
        op = op.parameter(
            ParameterBuilder::new()
                .name("X-Tenant-ID")
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some("The tenant of the bearer token."))
                .schema(Some(string())),
        );
    }
    if let Some((media, schema)) = spec.request {
        let required = if spec.optional_body {
            Required::False
        } else {
            Required::True
        };
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(required))
                .content(media, content(schema))
                .build(),
        ));
    }
    let (status, body) = spec.success;
    let mut success = ResponseBuilder::new().description(status.canonical_reason().unwrap_or("OK"));
    if let Some((media, schema)) = body {
        success = success.content(media, content(schema));
    }
    op = op.response(status.as_str(), success);
    for (status, media, schema) in errors(route, &spec) {
        op = op.response(
            status.as_str(),
            ResponseBuilder::new()
                .description(crate::http::error::title(status))
                .content(media, content(schema)),
        );
    }
    for requirement in security(route.access()) {
        op = op.security(requirement);
    }
    op.build()
}

/// `get_v1_platform_apps_client_id`: unique per method and path.
fn operation_id(route: &Route) -> String {
    let path: String = route
        .path()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = path
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    format!("{}_{path}", route.method().as_str().to_ascii_lowercase())
}

/// The OpenAPI document of every route `knogin` serves.
pub(crate) fn document(core: &Core, routes: &[&Route], settings: &DocsSettings) -> OpenApi {
    let issuer = core.issuer().trim_end_matches('/');
    let scopes: Scopes = core
        .scopes()
        .scopes()
        .iter()
        .map(|s| (s.name.clone(), s.description.clone()))
        .collect();
    let oauth2 = OAuth2::new([
        Flow::ClientCredentials(ClientCredentials::new(
            format!("{issuer}/v1/oauth/token"),
            scopes.clone(),
        )),
        Flow::AuthorizationCode(AuthorizationCode::new(
            format!("{issuer}/v1/oauth/authorize"),
            format!("{issuer}/v1/oauth/token"),
            scopes,
        )),
    ]);
    let bearer = |description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(description))
                .build(),
        )
    };
    let components = schemas::components(ComponentsBuilder::new())
        .security_scheme("oauth2", SecurityScheme::OAuth2(oauth2))
        .security_scheme(
            "bearerToken",
            bearer("An access or service token of this issuer."),
        )
        .security_scheme(
            "adminToken",
            bearer("An admin token, minted by the operator for one tenant."),
        )
        .security_scheme(
            "clientSecretBasic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        )
        .build();
    let mut paths = PathsBuilder::new();
    for route in routes {
        let mut item = PathItem::new(http_method(route.method()), operation(route));
        // The GraphQL gate may sit on its own host.
        if route.path() == "/graphql" && settings.graphql_url != settings.auth_url {
            item.servers = Some(vec![
                ServerBuilder::new()
                    .url(settings.graphql_url.clone())
                    .build(),
            ]);
        }
        paths = paths.path(route.path(), item);
    }
    let text = super::Locale::En.text();
    let tags = TOPICS.iter().enumerate().map(|(i, t)| {
        TagBuilder::new()
            .name(t.id)
            .description(Some(text.topics[i].1))
            .build()
    });
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(text.topics[0].0)
                .version(settings.version.clone())
                .description(Some(text.topics[0].1))
                .build(),
        )
        .servers(Some([ServerBuilder::new()
            .url(settings.auth_url.clone())
            .build()]))
        .paths(paths.build())
        .components(Some(components))
        .tags(Some(tags))
        .build()
}
