//! The one read on the token endpoint's path, run in the calling thread on SQLite.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands every statement to
//! it over a channel: on this machine a one-row lookup costs about 50 µs that way, five times
//! the cost of signing an EdDSA token. Client authentication runs on every token request, so on
//! a SQLite file the store answers it from a small pool of read-only connections opened with
//! rusqlite on the same file (the same libsqlite3 sqlx links), in the request's thread: a
//! point lookup by primary key in WAL mode, which never waits for a writer, in a few
//! microseconds. Everything else, and every write, goes through sqlx.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use knogin_core::store::StoreError;
use rusqlite::{Connection, OpenFlags};

/// How many idle read connections are kept.
const MAX_IDLE: usize = 16;

/// Read-only connections to one SQLite file, opened on demand and reused.
pub(crate) struct Reader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Reader {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(Duration::from_secs(5))?;
        Ok(connection)
    }

    /// Runs `read` on an idle connection (or a new one).
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let idle = self.lock().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open().map_err(StoreError::backend)?,
        };
        let result = read(&connection).map_err(StoreError::backend);
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
