//! Criterion benchmark of what a webhook delivery costs the CPU besides I/O: opening the
//! subscription's sealed secret, and the Standard Webhooks signature over a typical body, with
//! one secret and during a rotation's overlap with two. `docs/benchmarks.md` sets it beside the
//! measured CPU per delivery.
//!
//! ```text
//! cargo bench --bench webhooks
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use knogin::core::keys::{MasterKey, Purpose};
use knogin::core::webhooks::{WebhookSecret, signature};

fn sign(c: &mut Criterion) {
    let body = br#"{"type":"incident.updated","timestamp":"2026-11-24T01:00:00Z","data":{"id":"inc_1","status":"open","title":"Phishing wave"}}"#;
    let (one, two) = (WebhookSecret::generate(), WebhookSecret::generate());
    let id = "dlv_0123456789abcdef0123456789abcdef";
    let mut group = c.benchmark_group("signature");
    group.bench_function("one secret", |b| {
        b.iter(|| signature(&[&one], std::hint::black_box(id), 1_795_000_000, body));
    });
    group.bench_function("two secrets", |b| {
        b.iter(|| signature(&[&one, &two], std::hint::black_box(id), 1_795_000_000, body));
    });
    group.finish();
}

fn open(c: &mut Criterion) {
    let master = MasterKey::generate();
    let context = b"acme\0whk_0123456789abcdef0123456789abcdef";
    let sealed = master.seal(
        Purpose::WebhookSecret,
        context,
        WebhookSecret::generate().bytes(),
    );
    c.bench_function("open a sealed webhook secret", |b| {
        b.iter(|| {
            master.open(
                Purpose::WebhookSecret,
                context,
                std::hint::black_box(&sealed),
            )
        });
    });
}

criterion_group!(benches, open, sign);
criterion_main!(benches);
