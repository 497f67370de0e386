//! `publish`: storing a tenant's webhook events (and their deliveries) from the command line.

use std::io::Write as _;
use std::time::{Duration, Instant};

use clap::Args;
use knogin::core::TenantId;
use knogin::core::webhooks::PublishError;
use serde_json::value::RawValue;

use crate::{BoxError, Common, open};

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The tenant whose subscriptions receive the events.
    #[arg(long)]
    tenant: String,
    /// The event type, from the catalog: incident.updated, incident.closed or case.updated.
    #[arg(long)]
    event: String,
    /// The event's data, as JSON.
    #[arg(
        long,
        conflicts_with = "data_file",
        required_unless_present = "data_file"
    )]
    data: Option<String>,
    /// A file of events' data, one JSON document per line (NDJSON), all published by this
    /// process.
    #[arg(long)]
    data_file: Option<std::path::PathBuf>,
    /// The most events of --data-file one transaction stores; each batch is stored whole or
    /// not at all, and every line is checked before anything is stored. The first
    /// transactions store 1, 2, 4, … events, so the first deliveries are sent while the rest
    /// is stored. 1 stores each event on its own.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    #[command(flatten)]
    common: Common,
}

pub(crate) async fn publish(args: PublishArgs) -> Result<(), BoxError> {
    let tenant = TenantId::parse(&args.tenant)
        .ok_or_else(|| format!("--tenant {:?} is not a tenant id", args.tenant))?;
    let knogin = open(&args.common, knogin::core::DEFAULT_KEY_REFRESH).await?;
    // Each event's data is JSON text, published as it is written.
    let json = |text: &str| {
        serde_json::from_str::<Box<RawValue>>(text)
            .map_err(|e| PublishError::NotJson(e.to_string()))
            .and_then(|raw| {
                knogin
                    .webhooks()
                    .event(&tenant, &args.event, &raw)
                    .map(|_| raw)
            })
    };
    let lines: Vec<Box<RawValue>> = match (&args.data, &args.data_file) {
        (Some(data), _) => vec![json(data).map_err(|e| format!("--data: {e}"))?],
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut lines = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                lines.push(
                    json(line).map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?,
                );
            }
            lines
        }
        (None, None) => return Err("give --data or --data-file".into()),
    };
    let started = Instant::now();
    let mut deliveries = 0;
    let mut took = Vec::new();
    let mut out = std::io::stdout().lock();
    let most = usize::try_from(args.batch).unwrap_or(1);
    let mut stored = 0;
    for batch in batches(&lines, most) {
        let one = Instant::now();
        let published = knogin
            .webhooks()
            .publish_many(&tenant, &args.event, batch)
            .await
            .map_err(|e| format!("events {} to {}: {e}", stored + 1, stored + batch.len()))?;
        took.push(one.elapsed());
        stored += batch.len();
        for event in published {
            deliveries += event.deliveries.len();
            writeln!(out, "{}", event.event_id)?;
        }
    }
    // The serving processes hear of the last publications before this one exits.
    knogin.webhooks().flush_announcements().await;
    took.sort_unstable();
    // The `percent`th percentile, nearest rank.
    let quantile = |percent: usize| {
        let rank = (took.len() * percent).div_ceil(100).max(1);
        took.get(rank - 1).map_or(0, Duration::as_micros)
    };
    tracing::info!(
        "published {} events with {deliveries} deliveries in {} ms \
         (each transaction of up to {most} events: p50 {} µs, p99 {} µs)",
        lines.len(),
        started.elapsed().as_millis(),
        quantile(50),
        quantile(99)
    );
    Ok(())
}

/// `items` in batches of 1, 2, 4, … and then `most` each: a large file's first events are
/// stored, and their deliveries sent by the server, while the rest is stored, rather than
/// after a whole batch of `most`.
fn batches<T>(items: &[T], most: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    let mut size = 1_usize;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (batch, after) = rest.split_at(size.min(most).min(rest.len()));
        rest = after;
        size = size.saturating_mul(2);
        Some(batch)
    })
}

#[cfg(test)]
mod tests {
    use super::batches;

    fn sizes(items: usize, most: usize) -> Vec<usize> {
        batches(&vec![(); items], most).map(<[()]>::len).collect()
    }

    #[test]
    fn batches_double_from_one_up_to_the_most() {
        assert_eq!(sizes(300, 100), [1, 2, 4, 8, 16, 32, 64, 100, 73]);
        assert_eq!(sizes(5, 100), [1, 2, 2]);
        assert_eq!(sizes(4, 1), [1, 1, 1, 1]);
        assert_eq!(sizes(7, 3), [1, 2, 3, 1]);
        assert_eq!(sizes(0, 100), Vec::<usize>::new());
    }
}
