//! The OpenAPI 3.1 document (`GET /api/docs/openapi.json`), built from the route table with
//! utoipa's typed builders: every route the handle serves, its parameters, bodies, security and
//! error answers.

use http::{Method, StatusCode};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, RefOr, Required,
};

use super::DocsSettings;
use super::content::Topic;
use crate::http::error::{GraphQlErrors, OAuthError, PROBLEM_JSON, Problem};
use crate::http::route::{Schemas, schema_of};
use crate::http::{Access, ErrorFormat, Route};
use crate::shared::Core;

/// The topic a route's section sits in: the operation's tag.
fn tag_of(route: &Route, topics: &'static [Topic]) -> &'static str {
    topics
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

/// An error body: its media type and the type whose schema describes it.
type ErrorBody = (&'static str, Option<fn(&mut Schemas) -> RefOr<Schema>>);

/// The error body of a route's error format.
fn error_body(format: ErrorFormat) -> ErrorBody {
    match format {
        ErrorFormat::OAuth => ("application/json", Some(schema_of::<OAuthError>)),
        ErrorFormat::GraphQl => ("application/json", Some(schema_of::<GraphQlErrors>)),
        ErrorFormat::Html => ("text/html", None),
        _ => (PROBLEM_JSON, Some(schema_of::<Problem>)),
    }
}

/// The error answers a route can give: by its guard, its path, its body, and its own rules.
fn errors(route: &Route) -> Vec<(StatusCode, ErrorBody)> {
    let body = error_body(route.errors());
    let shape = &route.shape;
    let mut out = vec![(StatusCode::BAD_REQUEST, body)];
    match route.access() {
        Access::Public => {}
        // A server with no sign-in configured: no one can act as a user.
        Access::User => out.push((StatusCode::FORBIDDEN, body)),
        Access::Client => {
            out.push((StatusCode::UNAUTHORIZED, body));
            out.push((StatusCode::TOO_MANY_REQUESTS, body));
        }
        _ => {
            out.push((StatusCode::UNAUTHORIZED, body));
            out.push((StatusCode::FORBIDDEN, body));
        }
    }
    if route.path().contains('{') {
        out.push((StatusCode::NOT_FOUND, error_body(ErrorFormat::Problem)));
    }
    out.extend(shape.refusals.iter().map(|&status| (status, body)));
    if shape.request.is_some() {
        out.push((StatusCode::PAYLOAD_TOO_LARGE, body));
        out.push((StatusCode::UNSUPPORTED_MEDIA_TYPE, body));
    }
    out
}

/// A body's content, registering its schema in `schemas`.
fn content(
    schema: Option<fn(&mut Schemas) -> RefOr<Schema>>,
    schemas: &mut Schemas,
) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(schema.map(|schema| schema(schemas)))
        .build()
}

fn operation(
    route: &Route,
    topics: &'static [Topic],
    schemas: &mut Schemas,
) -> utoipa::openapi::path::Operation {
    let shape = &route.shape;
    let mut op = OperationBuilder::new()
        .operation_id(Some(operation_id(route)))
        .summary(Some(route.summary()))
        .tag(tag_of(route, topics));
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
    for (name, values) in shape.query {
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
    if let Some((body, optional)) = shape.request {
        let required = if optional {
            Required::False
        } else {
            Required::True
        };
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(required))
                .content(body.media, content(body.schema, schemas))
                .build(),
        ));
    }
    let (status, body) = shape.success;
    let mut success = ResponseBuilder::new().description(status.canonical_reason().unwrap_or("OK"));
    if let Some(body) = body {
        success = success.content(body.media, content(body.schema, schemas));
    }
    if let Some(media) = shape.also_as {
        success = success.content(media, content(None, schemas));
    }
    op = op.response(status.as_str(), success);
    for (status, (media, schema)) in errors(route) {
        op = op.response(
            status.as_str(),
            ResponseBuilder::new()
                .description(crate::http::error::title(status))
                .content(media, content(schema, schemas)),
        );
    }
    for requirement in security(route.access()) {
        op = op.security(requirement);
    }
    op.build()
}

/// A string parameter.
fn string() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// A string parameter that takes one of `values`.
fn one_of(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
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
pub(crate) fn document(
    core: &Core,
    routes: &[&Route],
    topics: &'static [Topic],
    settings: &DocsSettings,
) -> OpenApi {
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
    let mut schemas = Schemas::new();
    let mut paths = PathsBuilder::new();
    for route in routes {
        let mut item = PathItem::new(
            http_method(route.method()),
            operation(route, topics, &mut schemas),
        );
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
    // Each schema once, in the order first met.
    let mut seen = std::collections::HashSet::new();
    schemas.retain(|(name, _)| seen.insert(name.clone()));
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme("oauth2", SecurityScheme::OAuth2(oauth2))
        .security_scheme(
            "bearerToken",
            bearer(
                "An access or service token of this issuer. A DPoP-bound token (`token_type` \
                 `DPoP`) goes as `Authorization: DPoP <token>` with a `DPoP` proof header of \
                 each request (RFC 9449 §7).",
            ),
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
    let text = super::Locale::En.text();
    let tags = topics.iter().enumerate().map(|(i, t)| {
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
