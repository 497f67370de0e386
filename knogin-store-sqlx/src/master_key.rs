//! Where the key-encryption key ([`MasterKey`]) comes from: the environment, a file, or a key
//! file kept beside a SQLite database and created on first use. The reference server loads its
//! key this way; an embedder calls [`load_master_key`] to do the same.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use knogin_core::keys::MasterKey;

/// The variable holding the master key: the base64 of 32 random bytes.
pub const MASTER_KEY_VAR: &str = "KNOGIN_MASTER_KEY";

/// The variable naming a file that holds the master key (a mounted secret, say).
pub const MASTER_KEY_FILE_VAR: &str = "KNOGIN_MASTER_KEY_FILE";

/// Why no master key could be had. The message names where it was looked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadKeyError {
    /// The text found is not the base64 of 32 bytes.
    #[error("{origin}: {reason}")]
    Invalid {
        /// Where the text came from: the variable, or the file's path.
        origin: String,
        /// What is wrong with it.
        reason: knogin_core::keys::MasterKeyError,
    },
    /// A key file could not be read or created.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, and to which file.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Neither variable is set and the database is not a SQLite file beside which a key file
    /// could be kept.
    #[error(
        "KNOGIN_MASTER_KEY (base64 of 32 random bytes) or KNOGIN_MASTER_KEY_FILE must be set when the database is not a SQLite file"
    )]
    Missing,
}

/// The master key for the database at `database_url`: [`MASTER_KEY_VAR`], else the file
/// [`MASTER_KEY_FILE_VAR`] names, else (for a SQLite file) `{database}.master-key` beside the
/// database, created on first use by [`master_key_file`]. An in-memory SQLite database gets a
/// fresh key: nothing outlives the process, so neither need the key.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let url = "sqlite://knogin.db";
/// let master_key = knogin_store_sqlx::load_master_key(url)?;
/// let store = knogin_store_sqlx::SqlxStore::connect(url).await?;
/// # let _ = (master_key, store);
/// # Ok(()) }
/// ```
pub fn load_master_key(database_url: &str) -> Result<MasterKey, LoadKeyError> {
    if let Ok(text) = std::env::var(MASTER_KEY_VAR) {
        return parse(MASTER_KEY_VAR.to_owned(), &text);
    }
    if let Ok(path) = std::env::var(MASTER_KEY_FILE_VAR) {
        warn_if_readable_by_others(Path::new(&path), MASTER_KEY_FILE_VAR);
        let text = fs::read_to_string(&path).map_err(|source| LoadKeyError::Io {
            what: format!("{MASTER_KEY_FILE_VAR} {path}"),
            source,
        })?;
        return parse(path, &text);
    }
    if database_url.starts_with("sqlite::memory:") {
        return Ok(MasterKey::generate());
    }
    let path = sqlite_path(database_url).ok_or(LoadKeyError::Missing)?;
    master_key_file(&PathBuf::from(format!("{}.master-key", path.display())))
}

/// The key in the file at `path`, or a new one written there if the file does not exist: a
/// temporary file (mode 0600) is written and fsynced, then linked into place (failing if
/// another process got there first, whose key is then read), and the directory fsynced. A
/// crash leaves either no key file or a whole one. Warns when an existing file can be read by
/// others, and when a key is created (keep a copy apart from the database backups).
pub fn master_key_file(path: &Path) -> Result<MasterKey, LoadKeyError> {
    match fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path, "the master key file");
            parse(path.display().to_string(), &text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(source) => Err(LoadKeyError::Io {
            what: format!("cannot read {}", path.display()),
            source,
        }),
    }
}

/// Warns when the secret file at `path` (named `what` in the message) can be read or written by
/// anyone but its owner: mode bits beyond 0600.
pub fn warn_if_readable_by_others(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "{what} {} has mode {mode:04o}: others on this machine can read it; run chmod 600",
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

fn parse(origin: String, text: &str) -> Result<MasterKey, LoadKeyError> {
    MasterKey::from_base64(text).map_err(|reason| LoadKeyError::Invalid { origin, reason })
}

fn create(path: &Path) -> Result<MasterKey, LoadKeyError> {
    let cannot_create = |source| LoadKeyError::Io {
        what: format!("cannot create {}", path.display()),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("master-key"),
        std::process::id()
    ));
    let key = MasterKey::generate();
    let written = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        writeln!(file, "{}", key.to_base64())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(cannot_create(e));
    }
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(cannot_create)?;
            tracing::warn!(
                path = %path.display(),
                "KNOGIN_MASTER_KEY is not set: created a new master key in this file (mode 0600); \
                 keep a copy apart from the database backups, or set KNOGIN_MASTER_KEY or \
                 KNOGIN_MASTER_KEY_FILE"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path).map_err(|source| LoadKeyError::Io {
                what: format!("cannot read {}", path.display()),
                source,
            })?;
            parse(path.display().to_string(), &text)
        }
        Err(e) => Err(cannot_create(e)),
    }
}

/// The file of a `sqlite:` URL, or `None` for another database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("knogin.db.master-key");
        let first = master_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = master_key_file(&path).unwrap();
        assert_eq!(first.to_base64(), again.to_base64());
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");

        fs::write(&path, "not base64").unwrap();
        let refused = master_key_file(&path).unwrap_err().to_string();
        assert!(
            refused.starts_with(&path.display().to_string()),
            "{refused}"
        );
    }

    #[test]
    fn only_sqlite_files_have_a_key_file_beside_them() {
        assert_eq!(sqlite_path("sqlite://knogin.db"), Some("knogin.db".into()));
        assert_eq!(
            sqlite_path("sqlite:/var/lib/k.db?mode=rwc"),
            Some("/var/lib/k.db".into())
        );
        assert_eq!(sqlite_path("postgres://db/knogin"), None);
        assert_eq!(sqlite_path("sqlite://"), None);
    }
}
