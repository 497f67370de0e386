//! Golden tests against the contract's own documents, and the walk of the route table.

use std::sync::Arc;

use serde_json::Value;

use super::render::Source;
use super::{DocsSettings, Locale};
use crate::graphql::GraphQlGate;
use crate::http::TOPICS;
use crate::keys::MasterKey;
use crate::store::memory::MemoryStore;
use crate::testing::EmptyExecutor;
use crate::{Clock as _, Knogin};

const INDEX: &str = include_str!("../../../fixtures/contract/docs-index.json");
const IDENTITY: &str =
    include_str!("../../../fixtures/contract/topic-identity-app-registration.json");

/// The contract's hosts and date, so its documents compare byte for byte.
fn contract_settings() -> DocsSettings {
    DocsSettings::new("https://auth.knogin.com")
        .graphql_url("https://api.knogin.com")
        .docs_url("https://knogin.com")
        .last_updated("2026-03-23")
        .request_access_url("https://knogin.com/en/docs/integration-guide#vendor-contact")
}

fn builder() -> crate::Builder {
    crate::testing::builder_for(
        "https://auth.knogin.com",
        Arc::new(MemoryStore::new()),
        MasterKey::generate(),
        Arc::new(crate::ManualClock::new(crate::SystemClock.now())),
    )
}

/// A handle serving every route, the GraphQL gate's included.
async fn knogin() -> Knogin {
    builder()
        .graphql(GraphQlGate::new(EmptyExecutor))
        .build()
        .await
        .unwrap()
}

/// Every key path of `value` (array items merged), for a shape comparison.
fn shape(value: &Value, path: &str, out: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(members) => {
            for (k, v) in members {
                let p = format!("{path}.{k}");
                out.insert(p.clone());
                shape(v, &p, out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| shape(i, &format!("{path}[]"), out)),
        _ => {}
    }
}

fn shape_of(value: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    shape(value, "", &mut out);
    out
}

#[tokio::test]
async fn the_identity_topic_is_the_contracts_document() {
    let knogin = knogin().await;
    let settings = contract_settings();
    let source = Source {
        settings: &settings,
        routes: knogin.routes().collect(),
        topics: &TOPICS,
    };
    let served = source.topic(1, Locale::En);
    let contract: Value = serde_json::from_str(IDENTITY).unwrap();
    assert_eq!(served, contract);
}

#[tokio::test]
async fn the_index_has_the_contracts_shape_topics_and_sections() {
    let knogin = knogin().await;
    let settings = contract_settings();
    let source = Source {
        settings: &settings,
        routes: knogin.routes().collect(),
        topics: &TOPICS,
    };
    let served = source.index(Locale::En);
    let contract: Value = serde_json::from_str(INDEX).unwrap();
    assert_eq!(shape_of(&served), shape_of(&contract));
    for key in [
        "version",
        "lastUpdated",
        "description",
        "baseUrl",
        "endpoints",
        "quickStart",
        "partnerPortal",
    ] {
        assert_eq!(served[key], contract[key], "{key}");
    }
    let topics = |v: &Value| -> Vec<Value> { v["topics"].as_array().unwrap().clone() };
    assert_eq!(topics(&served).len(), topics(&contract).len());
    for (ours, theirs) in topics(&served).iter().zip(topics(&contract)) {
        for key in ["id", "title", "description", "url", "lastUpdated"] {
            assert_eq!(ours[key], theirs[key], "{key} of {}", theirs["id"]);
        }
        // The contract's sections first, in its order; sections for the routes beyond it after.
        let ours = ours["sections"].as_array().unwrap();
        let theirs = theirs["sections"].as_array().unwrap();
        assert_eq!(
            &ours[..theirs.len()],
            &theirs[..],
            "sections of {}",
            ours[0]
        );
    }
}

#[tokio::test]
async fn every_route_is_in_exactly_one_section_and_every_section_is_served() {
    for route in crate::http::routes() {
        let holders: Vec<&str> = TOPICS
            .iter()
            .flat_map(|t| t.sections.iter())
            .filter(|s| s.path == route.path() && s.methods.contains(&route.method().as_str()))
            .map(|s| s.id)
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "{} {} is in {holders:?}",
            route.method(),
            route.path()
        );
    }
    for section in TOPICS.iter().flat_map(|t| t.sections.iter()) {
        for method in section.methods {
            assert!(
                crate::http::routes()
                    .iter()
                    .any(|r| r.path() == section.path && r.method().as_str() == *method),
                "{method} {} is documented but not in the route table",
                section.path
            );
        }
    }
    // A handle without a GraphQL gate does not document /graphql.
    let knogin = builder().build().await.unwrap();
    let settings = DocsSettings::new(knogin.issuer());
    let source = Source {
        settings: &settings,
        routes: knogin.routes().collect(),
        topics: &TOPICS,
    };
    let graphql = source.topic(5, Locale::En);
    let titles: Vec<&str> = graphql["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert!(
        !titles.iter().any(|t| t.starts_with("POST /graphql")),
        "{titles:?}"
    );
}

#[tokio::test]
async fn dutch_translates_prose_and_keeps_routes_and_examples() {
    let knogin = knogin().await;
    let settings = contract_settings();
    let source = Source {
        settings: &settings,
        routes: knogin.routes().collect(),
        topics: &TOPICS,
    };
    let (en, nl) = (source.topic(1, Locale::En), source.topic(1, Locale::Nl));
    assert_eq!(nl["title"], "Identiteit en app-registratie");
    assert_eq!(shape_of(&en), shape_of(&nl));
    for (e, n) in en["sections"]
        .as_array()
        .unwrap()
        .iter()
        .zip(nl["sections"].as_array().unwrap())
    {
        assert_eq!(e["title"], n["title"]);
        for (ce, cn) in e["codeExamples"]
            .as_array()
            .unwrap()
            .iter()
            .zip(n["codeExamples"].as_array().unwrap())
        {
            assert_eq!(ce["code"], cn["code"]);
            assert_eq!(ce["language"], cn["language"]);
        }
        assert!(n["content"].as_str().unwrap().contains("Doelgroep:"));
    }
}

#[tokio::test]
async fn withheld_surfaces_are_prose_never_sections() {
    let knogin = knogin().await;
    let settings = contract_settings();
    let source = Source {
        settings: &settings,
        routes: knogin.routes().collect(),
        topics: &TOPICS,
    };
    let index = source.index(Locale::En);
    for topic in index["topics"].as_array().unwrap() {
        for title in topic["sections"].as_array().unwrap() {
            let title = title.as_str().unwrap();
            assert!(
                !title.contains("/api/v1/platform") && !title.contains("/v1/saml"),
                "{title}"
            );
        }
    }
    let topics: Vec<Value> = (0..TOPICS.len())
        .map(|i| source.topic(i, Locale::En))
        .collect();
    let markdown = super::render::full_markdown(&topics);
    assert!(markdown.contains("/api/v1/platform/*"));
    assert!(!markdown.contains("## GET /api/v1/platform"));
}

#[tokio::test]
async fn the_openapi_document_has_every_served_route_and_nothing_else() {
    let knogin = knogin().await;
    let routes: Vec<_> = knogin.routes().collect();
    let document = serde_json::to_value(super::openapi::document(
        knogin.core(),
        &routes,
        &TOPICS,
        &DocsSettings::new(knogin.issuer()),
    ))
    .unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        assert!(
            !path.starts_with("/api/v1/platform") && !path.starts_with("/v1/saml"),
            "{path}"
        );
        for (method, operation) in item
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "servers")
        {
            operations += 1;
            assert!(
                knogin
                    .routes()
                    .any(|r| r.path() == path && r.method().as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is in the OpenAPI document but not served"
            );
            assert!(
                operation["responses"].as_object().unwrap().len() >= 2,
                "{method} {path}"
            );
        }
    }
    assert_eq!(operations, knogin.routes().count());
    for scheme in ["oauth2", "bearerToken", "adminToken", "clientSecretBasic"] {
        assert!(
            document["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    // Every schema an operation names exists.
    let text = document.to_string();
    for name in text.split("#/components/schemas/").skip(1) {
        let name = name.split('"').next().unwrap();
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{name}"
        );
    }
}
