//! `purge-events`: erasing a tenant's webhook events with their deliveries.

use clap::Args;
use knogin::core::TenantId;
use knogin::core::clock::Timestamp;
use knogin::core::webhooks::Pending;

use crate::{BoxError, Common, open};

#[derive(Debug, Args)]
pub(crate) struct PurgeEventsArgs {
    /// The tenant whose events go. Other tenants' are untouched.
    #[arg(long)]
    tenant: String,
    /// Only events published before this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    before: Option<Timestamp>,
    /// Delete events whose deliveries are still queued or retrying too, unsent. Without it
    /// they stay, and are delivered.
    #[arg(long)]
    include_pending: bool,
    #[command(flatten)]
    common: Common,
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(text)
        .ok_or_else(|| format!("{text:?} is not an RFC 3339 time, e.g. 2026-11-01T00:00:00Z"))
}

pub(crate) async fn purge_events(args: PurgeEventsArgs) -> Result<(), BoxError> {
    let tenant = TenantId::parse(&args.tenant)
        .ok_or_else(|| format!("--tenant {:?} is not a tenant id", args.tenant))?;
    let knogin = open(&args.common, knogin::core::DEFAULT_KEY_REFRESH).await?;
    let pending = if args.include_pending {
        Pending::Delete
    } else {
        Pending::Keep
    };
    let purged = knogin
        .webhooks()
        .purge_events(&tenant, args.before, pending)
        .await?;
    println!(
        "purged {} events and {} deliveries",
        purged.events, purged.deliveries
    );
    Ok(())
}
