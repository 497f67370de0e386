//! The machine-readable docs routes: public, cached by ETag, in English or Dutch.

use http::header::{
    CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH, VARY,
};
use http::{HeaderMap, Response, StatusCode};

use super::content::{Audience, Host, PUBLIC, Section};
use super::{DocsIndex, DocsTopic, Locale, Page, Rendered};
use crate::http::access::public;
use crate::http::ctx::{Ctx, FromParam};
use crate::http::error::ApiError;
use crate::http::error::Reply;
use crate::http::reply::ResponseBody;
use crate::http::table::{Row, route};
use crate::validation::ValidationErrors;

/// How long a client or a cache may keep a docs answer before asking again (with its ETag).
const CACHE_CONTROL_VALUE: &str = "public, max-age=300";

/// The 404 of an unknown topic, listing the valid ones.
const UNKNOWN_TOPIC: &str = "No docs topic has this id. The topics are api-reference, \
    identity-app-registration, oauth-service-tokens, jwks-token-verification, \
    event-delivery-webhooks and graphql-transport-contract.";

/// The query of the docs documents: the format and the language.
const DOCS_QUERY: &[(&str, &[&str])] = &[("format", &["json", "markdown"]), ("locale", &[])];

/// The media type of the docs as markdown (`?format=markdown`).
const MARKDOWN: &str = "text/markdown";

/// The docs routes.
pub(crate) fn routes() -> Vec<Row> {
    vec![
        route!(GET "/api/docs"         => public(index), Problem, "The docs index, or the whole contract as markdown")
            .query(DOCS_QUERY)
            .answers::<DocsIndex>(StatusCode::OK)
            .also_as(MARKDOWN),
        route!(GET "/api/docs/{topic}" => public(topic), Problem, "One docs topic, as JSON or markdown")
            .query(DOCS_QUERY)
            .answers::<DocsTopic>(StatusCode::OK)
            .also_as(MARKDOWN),
        route!(GET "/llms.txt"         => public(llms),  Problem, "The llms.txt summary of the docs")
            .query(&[("locale", &[])])
            .answers_plain(StatusCode::OK, Some("text/plain")),
        route!(GET "/api/docs/openapi.json" => public(openapi), Problem, "The OpenAPI 3.1 document")
            .answers_plain(StatusCode::OK, Some("application/json")),
    ]
}

/// A topic id as the path gives it.
struct TopicId(String);

impl FromParam for TopicId {
    fn from_param(value: &str) -> Result<Self, ApiError> {
        Ok(Self(value.to_owned()))
    }
}

/// `?format=` and `?locale=` of a docs request.
fn options(ctx: &Ctx) -> Result<(bool, Locale), ApiError> {
    let query = ctx.query()?;
    let markdown = match query.get("format") {
        None | Some("json") => false,
        Some("markdown") => true,
        Some(_) => {
            let mut errors = ValidationErrors::default();
            errors.push("format", "must be json or markdown");
            return Err(ApiError::Invalid(errors));
        }
    };
    Ok((
        markdown,
        Locale::negotiate(query.get("locale"), &ctx.parts.headers),
    ))
}

async fn index(ctx: Ctx) -> Reply {
    let (markdown, locale) = options(&ctx)?;
    Ok(answer(
        &ctx,
        page(&ctx, Page::Index { markdown }, locale),
        locale,
    ))
}

async fn topic(ctx: Ctx) -> Reply {
    let (markdown, locale) = options(&ctx)?;
    let TopicId(id) = ctx.param("topic")?;
    let index = ctx
        .http
        .docs
        .topic_index(&id)
        .ok_or(ApiError::NotFound(UNKNOWN_TOPIC))?;
    Ok(answer(
        &ctx,
        page(&ctx, Page::Topic { index, markdown }, locale),
        locale,
    ))
}

async fn llms(ctx: Ctx) -> Reply {
    let (_, locale) = options(&ctx)?;
    Ok(answer(&ctx, page(&ctx, Page::LlmsTxt, locale), locale))
}

async fn openapi(ctx: Ctx) -> Reply {
    Ok(answer(
        &ctx,
        page(&ctx, Page::OpenApi, Locale::En),
        Locale::En,
    ))
}

/// The rendered docs answer `page` in `locale`.
fn page(ctx: &Ctx, page: Page, locale: Locale) -> &Rendered {
    ctx.http.docs.page(&ctx.core, page, locale)
}

/// The answer, or 304 when the client's `If-None-Match` names its ETag.
fn answer(ctx: &Ctx, rendered: &Rendered, locale: Locale) -> Response<ResponseBody> {
    let fresh = matches(&ctx.parts.headers, &rendered.etag);
    let mut response = if fresh {
        let mut response = Response::new(ResponseBody::default());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(ResponseBody::new(rendered.body.clone()));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(rendered.content_type),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(ETAG, rendered.etag.clone());
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
    headers.insert(CONTENT_LANGUAGE, HeaderValue::from_static(locale.tag()));
    headers.insert(VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// Whether `If-None-Match` lists `etag` (weak comparison, RFC 9110 §13.1.2) or is `*`.
fn matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == ours)
}

/// The docs section of `docs-index`: The docs index.
pub(crate) const DOCS_INDEX_SECTION: Section = Section {
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
};

/// The docs section of `docs-topic`: One topic.
pub(crate) const DOCS_TOPIC_SECTION: Section = Section {
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
};

/// The docs section of `docs-openapi`: The OpenAPI document.
pub(crate) const DOCS_OPENAPI_SECTION: Section = Section {
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
};

/// The docs section of `llms-txt`: The llms.txt summary.
pub(crate) const LLMS_TXT_SECTION: Section = Section {
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
};
