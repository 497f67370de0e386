//! Criterion benchmark of the GraphQL gate's overhead on a trivial operation, the reference
//! server's `IncidentById` on the demo async-graphql schema:
//!
//! - `plain/exact`, `plain/respelled`: what a GraphQL server does without the gate: read the
//!   JSON body, run its `query` with its `variables`: the references;
//! - `gated/exact`: [`GraphQlGate::admit`] (read the body, hash the document, look it up, check
//!   the bundle's scopes, the operation name and the variables), then run the trusted text;
//! - `gated/respelled`: the same with the document spelled with other whitespace and commas, so
//!   the exact-text lookup misses and the gate lexes it to its normalized form.
//!
//! - `admit/exact`, `admit/respelled`: the gate's checks alone.
//!
//! The target is that the gate adds under 5% (`plain/X` / `gated/X` ≥ 0.95).
//!
//! ```text
//! cargo bench --bench graphql
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use knogin::core::graphql::{GraphQlGate, Operation, reference};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The body a server without the gate reads.
#[derive(Deserialize)]
struct Plain {
    query: String,
    #[serde(default)]
    variables: Map<String, Value>,
}

fn gate(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let gate = GraphQlGate::new(reference::executor()).bundles(reference::bundles());
    let caller = knogin::core::testing::bearer("acme", "webhooks:read incidents:read");
    let exact = json!({ "query": reference::INCIDENT_BY_ID, "variables": { "id": "inc_1" } })
        .to_string()
        .into_bytes();
    let respelled = json!({
        "query": "query IncidentById( $id: ID! ) {\n  incident(id: $id) {\n    id, title, status\n  }\n}\n",
        "variables": { "id": "inc_1" },
    })
    .to_string()
    .into_bytes();

    let mut group = c.benchmark_group("graphql");
    for (name, body) in [("plain/exact", &exact), ("plain/respelled", &respelled)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let plain: Plain = serde_json::from_slice(body).expect("a body");
                    let operation = Operation::new(plain.query, "none").variables(plain.variables);
                    gate.executor()
                        .execute(operation, &caller)
                        .await
                        .expect("runs")
                })
            });
        });
    }
    for (name, body) in [("gated/exact", &exact), ("gated/respelled", &respelled)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let operation = gate.admit(body, &caller.claims.scope).expect("admitted");
                    gate.executor()
                        .execute(operation, &caller)
                        .await
                        .expect("runs")
                })
            });
        });
    }
    // The gate's checks alone, without running the operation.
    for (name, body) in [("admit/exact", &exact), ("admit/respelled", &respelled)] {
        group.bench_function(name, |b| {
            b.iter(|| gate.admit(body, &caller.claims.scope).expect("admitted"));
        });
    }
    group.finish();
}

criterion_group!(benches, gate);
criterion_main!(benches);
