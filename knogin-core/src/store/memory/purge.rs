//! The in-memory store's delivery backlog and the purge of finished events.

use std::collections::HashSet;

use super::Inner;
use crate::clock::Timestamp;
use crate::id::EventId;
use crate::store::{Backlog, DeliveryStatus, PurgeFilter, Purged};

impl Inner {
    pub(super) fn backlog(&self, now: Timestamp) -> Backlog {
        let due = self.deliveries.iter().filter_map(|(_, _, d, _)| {
            let pending = matches!(d.status, DeliveryStatus::Queued | DeliveryStatus::Retrying);
            d.next_attempt_at.filter(|at| pending && *at <= now)
        });
        due.fold(Backlog::default(), |backlog, at| Backlog {
            due: backlog.due + 1,
            oldest_due_at: Some(backlog.oldest_due_at.map_or(at, |oldest| oldest.min(at))),
        })
    }

    pub(super) fn purge(&mut self, filter: &PurgeFilter, limit: u32) -> Purged {
        let pending: HashSet<&EventId> = self
            .deliveries
            .iter()
            .filter(|(_, _, d, _)| {
                matches!(d.status, DeliveryStatus::Queued | DeliveryStatus::Retrying)
            })
            .map(|(_, _, d, _)| &d.event_id)
            .collect();
        let mut chosen: Vec<(Timestamp, EventId)> = self
            .events
            .values()
            .filter(|e| filter.tenant.as_ref().is_none_or(|t| e.tenant == *t))
            .filter(|e| filter.before.is_none_or(|before| e.created_at < before))
            .filter(|e| filter.include_pending || !pending.contains(&e.id))
            .map(|e| (e.created_at, e.id.clone()))
            .collect();
        chosen.sort();
        chosen.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let gone: HashSet<EventId> = chosen.into_iter().map(|(_, id)| id).collect();
        let before = self.deliveries.len();
        let unrecorded = &mut self.unrecorded;
        self.deliveries.retain(|(_, _, d, _)| {
            let keep = !gone.contains(&d.event_id);
            if !keep {
                unrecorded.remove(&d.id);
            }
            keep
        });
        self.events.retain(|id, _| !gone.contains(id));
        Purged {
            events: gone.len() as u64,
            deliveries: (before - self.deliveries.len()) as u64,
        }
    }
}
