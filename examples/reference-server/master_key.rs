//! Where the reference server's key-encryption key comes from.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use knogin::core::keys::MasterKey;

use crate::BoxError;

/// KNOGIN_MASTER_KEY, else the file KNOGIN_MASTER_KEY_FILE names, else the key file next to a
/// SQLite database (created on first use).
pub(crate) fn master_key(database: &str) -> Result<MasterKey, BoxError> {
    if let Ok(text) = std::env::var("KNOGIN_MASTER_KEY") {
        return MasterKey::from_base64(&text).map_err(|e| format!("KNOGIN_MASTER_KEY: {e}").into());
    }
    if let Ok(path) = std::env::var("KNOGIN_MASTER_KEY_FILE") {
        warn_if_readable_by_others(Path::new(&path), "KNOGIN_MASTER_KEY_FILE");
        let text =
            fs::read_to_string(&path).map_err(|e| format!("KNOGIN_MASTER_KEY_FILE {path}: {e}"))?;
        return MasterKey::from_base64(&text).map_err(|e| format!("{path}: {e}").into());
    }
    if database.starts_with("sqlite::memory:") {
        // Nothing outlives the process, so neither need the key.
        return Ok(MasterKey::generate());
    }
    let Some(path) = sqlite_path(database) else {
        return Err("KNOGIN_MASTER_KEY (base64 of 32 random bytes) or KNOGIN_MASTER_KEY_FILE must be set when the database is not a SQLite file".into());
    };
    let key_path = PathBuf::from(format!("{}.master-key", path.display()));
    match fs::read_to_string(&key_path) {
        Ok(text) => {
            warn_if_readable_by_others(&key_path, "the master key file");
            MasterKey::from_base64(&text).map_err(|e| format!("{}: {e}", key_path.display()).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&key_path),
        Err(e) => Err(format!("cannot read {}: {e}", key_path.display()).into()),
    }
}

/// Warns when the secret file at `path` (named `what` in the message) can be read or written by
/// anyone but its owner: mode bits beyond 0600.
pub(crate) fn warn_if_readable_by_others(path: &Path, what: &str) {
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

/// Writes a new key to `path` atomically and durably: a temporary file (mode 0600) is written and
/// fsynced, then linked into place (failing if another process got there first, whose key is then
/// read), and the directory fsynced. A crash leaves either no key file or a whole one.
fn create(path: &Path) -> Result<MasterKey, BoxError> {
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
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        writeln!(file, "{}", key.to_base64())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(format!("cannot create {}: {e}", path.display()).into());
    }
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            fs::File::open(dir).and_then(|d| d.sync_all())?;
            tracing::warn!(
                path = %path.display(),
                "KNOGIN_MASTER_KEY is not set: created a new master key in this file (mode 0600); \
                 keep a copy apart from the database backups, or set KNOGIN_MASTER_KEY or \
                 KNOGIN_MASTER_KEY_FILE"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path)?;
            MasterKey::from_base64(&text).map_err(|e| format!("{}: {e}", path.display()).into())
        }
        Err(e) => Err(format!("cannot create {}: {e}", path.display()).into()),
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
