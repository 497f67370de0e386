//! The reference server's log output: lines go to a buffer that is written to stderr every
//! 200 ms or when it fills, so a request pays for formatting its line and a memory copy, not for
//! a system call or a thread wake-up. Warnings and errors are written at once.

use std::fmt;
use std::io::{self, BufWriter, Stderr, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How much log output is held before it is written.
const BUFFER: usize = 64 * 1024;
/// How long a line may wait in the buffer.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Buffered stderr, shared by every thread.
#[derive(Clone)]
pub(crate) struct BufferedStderr(Arc<Mutex<BufWriter<Stderr>>>);

impl BufferedStderr {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(BufWriter::with_capacity(
            BUFFER,
            io::stderr(),
        ))))
    }

    fn lock(&self) -> MutexGuard<'_, BufWriter<Stderr>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an info line of `target` whose message is `before`, `text` and `after`, as the text
    /// format writes it without colours (`log_line::write_line`, which escapes `text` only):
    /// for a line so frequent that making a tracing event of it would cost more than the line
    /// itself (the request log).
    pub(crate) fn write_info(&self, target: &str, before: &[&str], text: &str, after: &[&str]) {
        let mut out = self.lock();
        let _ = crate::log_line::write_line(
            &mut Text(&mut out),
            Level::INFO,
            target,
            before,
            text,
            after,
        );
    }

    /// Writes what is buffered.
    pub(crate) fn flush(&self) {
        let _ = self.lock().flush();
    }

    /// Flushes every [`FLUSH_EVERY`], for as long as the runtime runs.
    pub(crate) fn spawn_flusher(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tick.tick().await;
                this.flush();
            }
        });
    }
}

/// The buffer as a `fmt::Write`.
struct Text<'a>(&'a mut BufWriter<Stderr>);

impl fmt::Write for Text<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.write_all(text.as_bytes()).map_err(|_| fmt::Error)
    }
}

/// One event's writer: holds the buffer for the event's single write, and flushes on drop when
/// the event is a warning or an error.
pub(crate) struct EventWriter<'a> {
    out: MutexGuard<'a, BufWriter<Stderr>>,
    urgent: bool,
}

impl Write for EventWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Drop for EventWriter<'_> {
    fn drop(&mut self) {
        if self.urgent {
            let _ = self.out.flush();
        }
    }
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> EventWriter<'a> {
        EventWriter {
            out: self.lock(),
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> EventWriter<'a> {
        EventWriter {
            out: self.lock(),
            urgent: *meta.level() <= Level::WARN,
        }
    }
}
