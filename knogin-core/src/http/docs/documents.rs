//! The JSON documents the docs routes answer, in the shapes of the contract's `docs-index.json`
//! and topic documents. The renderer fills them; the OpenAPI document derives their schemas.

use serde::Serialize;
use serde_json::Value;

/// The docs index.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DocsIndex<'a> {
    /// The contract version.
    pub(crate) version: &'a str,
    /// When the docs last changed.
    pub(crate) last_updated: &'a str,
    /// What the docs cover.
    pub(crate) description: &'a str,
    /// Where the docs are served from.
    pub(crate) base_url: &'a str,
    /// The docs' own URLs.
    pub(crate) endpoints: Endpoints,
    /// Each topic, with the titles of its sections.
    pub(crate) topics: Vec<TopicSummary<'a>>,
    /// The first steps of an integration.
    pub(crate) quick_start: QuickStart<'a>,
    /// How to ask for access, and what approved partners get.
    #[schema(value_type = Object)]
    pub(crate) partner_portal: Value,
}

/// The docs' own URLs.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Endpoints {
    /// The index.
    pub(crate) index: String,
    /// The whole contract as markdown.
    pub(crate) full_markdown: String,
    /// One topic (`{topic}` is its id).
    pub(crate) topic: String,
    /// The `llms.txt` summary.
    pub(crate) llms_txt: String,
}

/// One topic in the index.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TopicSummary<'a> {
    /// The topic's id.
    pub(crate) id: &'a str,
    /// Its title.
    pub(crate) title: &'a str,
    /// What it covers.
    pub(crate) description: &'a str,
    /// Its document.
    pub(crate) url: String,
    /// The titles of its sections.
    pub(crate) sections: Vec<String>,
    /// When it last changed.
    pub(crate) last_updated: &'a str,
}

/// The first steps of an integration.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuickStart<'a> {
    /// The steps, in order.
    pub(crate) steps: &'a [&'a str],
    /// The command that installs a CLI, if there is one.
    pub(crate) cli_install: &'a str,
}

/// One docs topic.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DocsTopic<'a> {
    /// The topic's id.
    pub(crate) id: &'a str,
    /// Its title.
    pub(crate) title: &'a str,
    /// What it covers.
    pub(crate) description: &'a str,
    /// When it last changed.
    pub(crate) last_updated: &'a str,
    /// Its sections: prose, and one per route.
    pub(crate) sections: Vec<TopicSection<'a>>,
    /// The ids of the other topics.
    pub(crate) related_topics: Vec<&'a str>,
    /// The whole topic as markdown.
    pub(crate) markdown: String,
    /// How long it takes to read, how hard it is, and its tags.
    pub(crate) metadata: TopicMetadata<'a>,
}

/// One section of a topic.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TopicSection<'a> {
    /// The section's id.
    pub(crate) id: &'a str,
    /// Its title.
    pub(crate) title: String,
    /// Its prose, in markdown.
    pub(crate) content: String,
    /// A request and its answer, for a route's section.
    pub(crate) code_examples: Vec<CodeExample<'a>>,
}

/// An example request or answer.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CodeExample<'a> {
    /// The example's language (`bash`, `json`, `graphql`, …).
    pub(crate) language: &'a str,
    /// The example.
    pub(crate) code: String,
    /// What it shows.
    pub(crate) description: &'a str,
}

/// How long a topic takes to read, how hard it is, and its tags.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TopicMetadata<'a> {
    /// e.g. `5 min`.
    pub(crate) reading_time: &'a str,
    /// `beginner`, `intermediate` or `advanced`.
    pub(crate) difficulty: &'a str,
    /// Its tags.
    pub(crate) tags: &'a [&'a str],
}
