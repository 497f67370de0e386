//! Rendering: the index, the topics, the markdown and `llms.txt`, for one handle and locale.

use std::fmt::Write as _;

use serde_json::Value;

use super::DocsSettings;
use super::content::{Audience, Host, Section, Topic};
use super::documents::{
    CodeExample, DocsIndex, DocsTopic, Endpoints, QuickStart, TopicMetadata, TopicSection,
    TopicSummary,
};
use super::locale::{Locale, Text};
use crate::http::route::Route;

/// What one handle documents: its settings, and the sections whose routes it serves.
pub(crate) struct Source<'a> {
    pub(crate) settings: &'a DocsSettings,
    /// The routes the handle serves.
    pub(crate) routes: Vec<&'a Route>,
    /// The topics, with every section.
    pub(crate) topics: &'static [Topic],
}

impl Source<'_> {
    /// Whether the handle serves every method the section documents.
    fn serves(&self, section: &Section) -> bool {
        section.methods.iter().all(|method| {
            self.routes
                .iter()
                .any(|r| r.path() == section.path && r.method().as_str() == *method)
        })
    }

    fn sections(&self, topic: &Topic) -> impl Iterator<Item = &'static Section> {
        topic.sections.iter().copied().filter(|s| self.serves(s))
    }

    /// `{auth}`, `{api}` and `{docs}` replaced by the configured base URLs.
    fn fill(&self, text: &str) -> String {
        text.replace("{auth}", &self.settings.auth_url)
            .replace("{api}", &self.settings.graphql_url)
            .replace("{docs}", &self.settings.docs_url)
    }

    fn topic_url(&self, id: &str) -> String {
        format!("{}/api/docs/{id}", self.settings.docs_url)
    }

    /// The docs index (`GET /api/docs`), in the shape of the contract's `docs-index.json`.
    pub(crate) fn index(&self, locale: Locale) -> Value {
        let text = locale.text();
        let docs = &self.settings.docs_url;
        let topics = self
            .topics
            .iter()
            .enumerate()
            .map(|(i, topic)| TopicSummary {
                id: topic.id,
                title: text.topics[i].0,
                description: text.topics[i].1,
                url: self.topic_url(topic.id),
                sections: self.section_titles(i, topic, text),
                last_updated: &self.settings.last_updated,
            })
            .collect();
        let index = DocsIndex {
            version: &self.settings.version,
            last_updated: &self.settings.last_updated,
            description: text.index_description,
            base_url: docs,
            endpoints: Endpoints {
                index: format!("{docs}/api/docs"),
                full_markdown: format!("{docs}/api/docs?format=markdown"),
                topic: format!("{docs}/api/docs/{{topic}}"),
                llms_txt: format!("{docs}/llms.txt"),
            },
            topics,
            quick_start: QuickStart {
                steps: &text.quick_start,
                cli_install: "",
            },
            partner_portal: self.settings.partner_portal(),
        };
        serde_json::to_value(index).expect("the docs index serializes")
    }

    fn section_titles(&self, i: usize, topic: &Topic, text: &Text) -> Vec<String> {
        let prose: &[_] = if i == 0 {
            &text.reference_sections
        } else {
            &[]
        };
        let prose = prose.iter().map(|(_, title, _)| (*title).to_owned());
        prose
            .chain(self.sections(topic).map(section_title))
            .collect()
    }

    /// One topic (`GET /api/docs/{topic}`), in the shape of the contract's topic document.
    pub(crate) fn topic(&self, i: usize, locale: Locale) -> Value {
        let topic = &self.topics[i];
        let text = locale.text();
        let mut sections = Vec::new();
        if i == 0 {
            for (id, title, content) in text.reference_sections {
                sections.push(TopicSection {
                    id,
                    title: (*title).to_owned(),
                    content: self.fill(content),
                    code_examples: Vec::new(),
                });
            }
        }
        for section in self.sections(topic) {
            let example = |(language, code): (&'static str, &str), description| CodeExample {
                language,
                code: self.fill(code),
                description,
            };
            sections.push(TopicSection {
                id: section.id,
                title: section_title(section),
                content: self.content(section, text),
                code_examples: vec![
                    example(section.request, text.request_example),
                    example(section.response, text.response_example),
                ],
            });
        }
        let related: Vec<&str> = self
            .topics
            .iter()
            .map(|t| t.id)
            .filter(|id| *id != topic.id && (i == 0 || *id != self.topics[0].id))
            .collect();
        let document = DocsTopic {
            id: topic.id,
            title: text.topics[i].0,
            description: text.topics[i].1,
            last_updated: &self.settings.last_updated,
            sections,
            related_topics: related,
            markdown: String::new(),
            metadata: TopicMetadata {
                reading_time: topic.reading_time,
                difficulty: topic.difficulty,
                tags: topic.tags,
            },
        };
        let mut document = serde_json::to_value(document).expect("a docs topic serializes");
        document["markdown"] = self.topic_markdown(&document, locale).into();
        document
    }

    /// The `content` of a route section: its facts, what it does, and the notes.
    fn content(&self, section: &Section, text: &Text) -> String {
        let host = match section.host {
            Host::Auth => &self.settings.auth_url,
            Host::Api => &self.settings.graphql_url,
        };
        let audience = match section.audience {
            Audience::Integrators => text.integrators,
            Audience::Admins => text.admins,
        };
        let mut content = format!(
            "{}: {} {}\n{}: {host}\n{}: {}\n{}: {audience}\n{}: {}\n\n{}",
            text.route,
            section.methods.join("/"),
            section.path,
            text.host,
            text.auth,
            section.auth,
            text.audience,
            text.stability,
            text.stable,
            section.description,
        );
        if !section.notes.is_empty() {
            let _ = write!(content, "\n\n{}", text.notes);
            for note in section.notes {
                let _ = write!(content, "\n- {note}");
            }
        }
        content
    }

    /// A topic document's markdown rendering.
    fn topic_markdown(&self, topic: &Value, locale: Locale) -> String {
        let text = locale.text();
        let mut md = format!(
            "# {}\n\n{}\n",
            str(&topic["title"]),
            str(&topic["description"])
        );
        for section in topic["sections"].as_array().into_iter().flatten() {
            let _ = write!(
                md,
                "\n## {}\n\n{}\n",
                str(&section["title"]),
                str(&section["content"])
            );
            for example in section["codeExamples"].as_array().into_iter().flatten() {
                let _ = write!(
                    md,
                    "\n{}\n\n```{}\n{}\n```\n",
                    str(&example["description"]),
                    str(&example["language"]),
                    str(&example["code"]),
                );
            }
        }
        let _ = write!(md, "\n## {}\n\n", text.related);
        for id in topic["relatedTopics"].as_array().into_iter().flatten() {
            let i = self
                .topics
                .iter()
                .position(|t| t.id == str(id))
                .unwrap_or(0);
            let _ = writeln!(md, "- [{}]({})", text.topics[i].0, self.topic_url(str(id)));
        }
        md.truncate(md.trim_end().len());
        md
    }

    /// `GET /llms.txt` (llmstxt.org): a title, a summary, and a link to each topic's markdown.
    pub(crate) fn llms_txt(&self, locale: Locale) -> String {
        let text = locale.text();
        let mut out = format!("# {}\n\n> {}\n\n", text.topics[0].0, text.summary);
        let _ = writeln!(out, "{}\n", text.topics[0].1);
        out.push_str("## Docs\n\n");
        for (i, topic) in self.topics.iter().enumerate() {
            let _ = writeln!(
                out,
                "- [{}]({}?format=markdown): {}",
                text.topics[i].0,
                self.topic_url(topic.id),
                text.topics[i].1
            );
        }
        let _ = write!(
            out,
            "\n## Optional\n\n- [{}]({}/api/docs?format=markdown): everything above in one document\n",
            text.topics[0].0, self.settings.docs_url
        );
        out
    }
}

/// The whole contract as one markdown document (`GET /api/docs?format=markdown`): the rendered
/// `topics`' markdown, in order.
pub(crate) fn full_markdown(topics: &[Value]) -> String {
    topics
        .iter()
        .map(|topic| str(&topic["markdown"]))
        .collect::<Vec<_>>()
        .join("\n---\n\n")
}

/// `GET/POST /v1/platform/apps · Create and list platform apps`.
fn section_title(section: &Section) -> String {
    format!(
        "{} {} · {}",
        section.methods.join("/"),
        section.path,
        section.title
    )
}

fn str(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}
