//! The machine-readable docs, from the same route table that serves the routes.
//!
//! `GET /api/docs` (the index), `GET /api/docs/{topic}` (one of the contract's six topics),
//! `?format=markdown` on either, and `GET /llms.txt`. Each route section is shown only while the
//! handle serves its routes, so the docs cannot promise a route that is not there; a test walks
//! the route table and the sections both ways. English is canonical; `?locale=nl` or
//! `Accept-Language: nl` gives the Dutch prose, with routes, payloads and examples in English.

pub(crate) mod content;
mod documents;
mod locale;
mod openapi;
mod render;
pub(crate) mod routes;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use bytes::Bytes;
use http::HeaderValue;
use serde_json::{Value, json};

use self::content::Topic;
pub(crate) use self::documents::{DocsIndex, DocsTopic};
use self::locale::Locale;
use self::render::Source;
pub(crate) use self::routes::routes;
use super::route::Route;
use crate::shared::Core;

/// The contract version the docs describe.
pub const CONTRACT_VERSION: &str = "2026.1";

/// The date the docs were last changed, unless the embedder says otherwise.
pub const DOCS_LAST_UPDATED: &str = "2026-11-24";

/// What the docs say about where things are. Every URL defaults to the issuer.
///
/// ```
/// use knogin_core::http::docs::DocsSettings;
///
/// let settings = DocsSettings::new("https://auth.example.com")
///     .graphql_url("https://api.example.com")
///     .docs_url("https://example.com");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsSettings {
    auth_url: String,
    graphql_url: String,
    docs_url: String,
    version: String,
    last_updated: String,
    request_access_url: String,
}

impl DocsSettings {
    /// Every host at `issuer` (its trailing slash dropped).
    pub fn new(issuer: &str) -> Self {
        let base = issuer.trim_end_matches('/').to_owned();
        Self {
            auth_url: base.clone(),
            graphql_url: base.clone(),
            request_access_url: format!("{base}/api/docs/api-reference#capabilities-by-request"),
            docs_url: base,
            version: CONTRACT_VERSION.to_owned(),
            last_updated: DOCS_LAST_UPDATED.to_owned(),
        }
    }

    /// The public base URL of the auth service, as integrators reach it (examples, `Host`).
    #[must_use]
    pub fn auth_url(mut self, url: &str) -> Self {
        url.trim_end_matches('/').clone_into(&mut self.auth_url);
        self
    }

    /// The public base URL of the GraphQL host (`{url}/graphql`).
    #[must_use]
    pub fn graphql_url(mut self, url: &str) -> Self {
        url.trim_end_matches('/').clone_into(&mut self.graphql_url);
        self
    }

    /// The public base URL the docs are served from (`{url}/api/docs`).
    #[must_use]
    pub fn docs_url(mut self, url: &str) -> Self {
        url.trim_end_matches('/').clone_into(&mut self.docs_url);
        self
    }

    /// The `lastUpdated` date (default [`DOCS_LAST_UPDATED`]).
    #[must_use]
    pub fn last_updated(mut self, date: &str) -> Self {
        date.clone_into(&mut self.last_updated);
        self
    }

    /// Where integrators ask for the capabilities available by request.
    #[must_use]
    pub fn request_access_url(mut self, url: &str) -> Self {
        url.clone_into(&mut self.request_access_url);
        self
    }

    /// The index's `partnerPortal`: how to ask for access, and what approved partners get.
    fn partner_portal(&self) -> Value {
        let version = &self.version;
        let approved = "approved_partner";
        let sdk = |name: &str, language: &str| json!({ "name": name, "language": language, "version": format!("{version}.0"), "availability": approved });
        json!({
            "contractVersion": version,
            "requestAccessUrl": self.request_access_url,
            "graphqlBundle": { "path": format!("/partners/contract/v{version}/external.graphql"), "availability": approved },
            "openapiBundle": { "path": format!("/partners/contract/v{version}/external-openapi.json"), "availability": approved },
            "sdkPackages": [
                sdk("@argus/connector-sdk", "typescript"),
                sdk("argus-connector-sdk", "python"),
                sdk("@argus/client", "typescript"),
                sdk("argus-client", "python"),
            ],
        })
    }
}

/// One rendered docs answer and its validator.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub(crate) body: Bytes,
    pub(crate) etag: HeaderValue,
    pub(crate) content_type: &'static str,
}

impl Rendered {
    fn new(body: impl Into<Bytes>, content_type: &'static str) -> Self {
        let body = body.into();
        // The first 128 bits of the body's SHA-256.
        let digest = crate::hex::lower(&crate::graphql::sha256(&body)[..16]);
        let etag =
            HeaderValue::from_str(&format!("\"{digest}\"")).expect("hex is a valid header value");
        Self {
            body,
            etag,
            content_type,
        }
    }

    fn json(value: &Value) -> Self {
        Self::new(
            serde_json::to_vec_pretty(value).expect("docs serialize"),
            "application/json",
        )
    }

    fn markdown(text: String) -> Self {
        Self::new(text, "text/markdown; charset=utf-8")
    }
}

/// Every docs answer of one locale.
#[derive(Debug)]
struct LocaleDocs {
    index: Rendered,
    full_markdown: Rendered,
    llms_txt: Rendered,
    topics: Vec<(Rendered, Rendered)>,
}

/// Every docs answer of a handle.
#[derive(Debug)]
struct Rendition {
    /// The OpenAPI document, the same in every locale.
    openapi: Rendered,
    /// The rest, in the order of [`Locale::ALL`].
    locales: Vec<LocaleDocs>,
}

/// A handle's docs: what they say about where things are, and every answer, rendered once on
/// first use.
#[derive(Debug)]
pub(crate) struct Docs {
    settings: DocsSettings,
    /// The routes the handle serves: the docs describe these and no others.
    routes: Vec<&'static Route>,
    /// The topics, with every section the capabilities write.
    topics: &'static [Topic],
    rendition: OnceLock<Rendition>,
}

/// Which docs answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// The index (`markdown`: the whole contract).
    Index { markdown: bool },
    /// One topic, by its place in the topics.
    Topic { index: usize, markdown: bool },
    /// `llms.txt`.
    LlmsTxt,
    /// The OpenAPI document (English only).
    OpenApi,
}

impl Docs {
    /// The docs of `topics` for a handle that serves `routes`, with `settings`; not rendered
    /// yet.
    pub(crate) fn new(
        settings: DocsSettings,
        routes: Vec<&'static Route>,
        topics: &'static [Topic],
    ) -> Self {
        Self {
            settings,
            routes,
            topics,
            rendition: OnceLock::new(),
        }
    }

    /// The place of the topic `id`, if there is one.
    pub(crate) fn topic_index(&self, id: &str) -> Option<usize> {
        self.topics.iter().position(|t| t.id == id)
    }

    /// The rendered docs answer `page` in `locale`, of the handle `core`.
    pub(crate) fn page(&self, core: &Core, page: Page, locale: Locale) -> &Rendered {
        let all = self.rendition.get_or_init(|| {
            let source = Source {
                settings: &self.settings,
                routes: self.routes.clone(),
                topics: self.topics,
            };
            let locales = Locale::ALL
                .iter()
                .map(|&locale| {
                    let topics: Vec<Value> = (0..self.topics.len())
                        .map(|i| source.topic(i, locale))
                        .collect();
                    LocaleDocs {
                        index: Rendered::json(&source.index(locale)),
                        full_markdown: Rendered::markdown(render::full_markdown(&topics)),
                        llms_txt: Rendered::new(
                            source.llms_txt(locale),
                            "text/plain; charset=utf-8",
                        ),
                        topics: topics
                            .iter()
                            .map(|topic| {
                                let markdown = topic["markdown"].as_str().unwrap_or("").to_owned();
                                (Rendered::json(topic), Rendered::markdown(markdown))
                            })
                            .collect(),
                    }
                })
                .collect();
            Rendition {
                openapi: Rendered::new(
                    openapi::document(core, &source.routes, self.topics, &self.settings)
                        .to_pretty_json()
                        .expect("the OpenAPI document serializes"),
                    "application/json",
                ),
                locales,
            }
        });
        let docs = &all.locales[Locale::ALL.iter().position(|l| *l == locale).unwrap_or(0)];
        match page {
            Page::Index { markdown: false } => &docs.index,
            Page::Index { markdown: true } => &docs.full_markdown,
            Page::Topic { index, markdown } => {
                let (json, md) = &docs.topics[index];
                if markdown { md } else { json }
            }
            Page::LlmsTxt => &docs.llms_txt,
            Page::OpenApi => &all.openapi,
        }
    }
}
