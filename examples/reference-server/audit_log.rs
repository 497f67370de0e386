//! `serve --audit-log PATH`: the audit events as JSON lines appended to a file. A request only
//! queues its event's line (a bounded queue of [`QUEUE`] lines); a thread of its own wakes every
//! [`WRITE_EVERY`], writes what is queued and flushes it. A request never wakes that thread: on
//! a busy core, waking it for each line cost a thread switch and a write per event (about 30%
//! of a token's time, docs/benchmarks.md). When the disk falls behind by a whole queue, events
//! are dropped, counted in `knogin_audit_dropped_total` and warned about, rather than requests
//! waiting for the disk.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::Duration;

use knogin::core::audit::{AuditEvent, AuditSink};

use crate::BoxError;

/// Lines queued at most before events are dropped: at [`WRITE_EVERY`], room for about 320,000
/// events a second.
const QUEUE: usize = 16_384;

/// How often the writer writes what is queued: how long an event may wait to reach the file.
const WRITE_EVERY: Duration = Duration::from_millis(50);

enum Message {
    Line(String),
    /// Write and flush everything before, then say so.
    Flush(SyncSender<()>),
}

/// The sink the handle calls.
#[derive(Debug, Clone)]
pub(crate) struct AuditLog {
    queue: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

impl AuditLog {
    /// Opens `path` for appending (created with mode 0600 if missing) and starts the writer.
    pub(crate) fn open(path: &Path) -> Result<Self, BoxError> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path)
            .map_err(|e| format!("--audit-log {}: {e}", path.display()))?;
        let (queue, lines) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || write(lines, BufWriter::new(file)))?;
        Ok(Self {
            queue,
            dropped: Arc::default(),
        })
    }

    /// Waits (up to a second) until every event queued so far is written and flushed.
    pub(crate) fn flush(&self) {
        let (done, flushed) = sync_channel(1);
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = flushed.recv_timeout(Duration::from_secs(1));
        }
    }
}

impl AuditSink for AuditLog {
    fn record(&self, event: &AuditEvent) {
        match self.queue.try_send(Message::Line(event.to_json())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::counter!(knogin::core::metrics::AUDIT_DROPPED).increment(1);
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // The first drop, then one warning per thousand.
                if dropped % 1000 == 1 {
                    tracing::warn!("the audit log falls behind: {dropped} events dropped so far");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!("the audit log's writer stopped: {}", event.to_json());
            }
        }
    }
}

/// The writer thread: every [`WRITE_EVERY`], what is queued, then a flush; it ends, flushed,
/// once every sender is gone.
fn write(lines: Receiver<Message>, mut out: BufWriter<File>) {
    loop {
        std::thread::sleep(WRITE_EVERY);
        let open = loop {
            match lines.try_recv() {
                Ok(Message::Line(line)) => {
                    if let Err(e) = writeln!(out, "{line}") {
                        tracing::error!(error = %e, "cannot write the audit log");
                    }
                }
                Ok(Message::Flush(done)) => {
                    let _ = out.flush();
                    let _ = done.send(());
                }
                Err(TryRecvError::Empty) => break true,
                Err(TryRecvError::Disconnected) => break false,
            }
        };
        if let Err(e) = out.flush() {
            tracing::error!(error = %e, "cannot write the audit log");
        }
        if !open {
            return;
        }
    }
}
