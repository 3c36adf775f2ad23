//! The face keys as the store holds them: [`Keyring`], the key file as last read, which the
//! database handle (`store::db`) gives each transaction to seal and open faces with. It knows
//! nothing of the database: which keys the database's faces use, and bringing them under the
//! key that seals now, are `store::keys`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rollcall_runtime::seal::{FaceKeys, KeyFileError};

/// The key file as last read, read again when it has changed (a look at its size and time
/// as each transaction starts: a few microseconds): a rotation run beside the hub reaches it
/// without a restart.
#[derive(Clone)]
pub struct Keyring {
    path: Option<Arc<Path>>,
    held: Arc<Mutex<Held>>,
}

struct Held {
    keys: Arc<FaceKeys>,
    stamp: Option<Stamp>,
}

/// What tells a rewritten key file: its modification time and length.
type Stamp = (SystemTime, u64);

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("path", &self.path)
            .field("keys", &self.keys())
            .finish()
    }
}

impl Keyring {
    /// The keys of the file at `path`.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let stamp = stamp(path);
        let keys = FaceKeys::load(path)?;
        Ok(Self::holding(Some(path.into()), keys, stamp))
    }

    /// The keys of the file at `path`, made with one new key when there is no such file.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyFileError> {
        if !path.exists() {
            FaceKeys::create(path)?;
            tracing::info!(file = %path.display(), "made a new face key file: keep a copy apart from the database and its backups");
        }
        Self::load(path)
    }

    /// `keys`, from no file (tests).
    pub fn fixed(keys: FaceKeys) -> Self {
        Self::holding(None, keys, None)
    }

    fn holding(path: Option<Arc<Path>>, keys: FaceKeys, stamp: Option<Stamp>) -> Self {
        let held = Held {
            keys: Arc::new(keys),
            stamp,
        };
        Self {
            path,
            held: Arc::new(Mutex::new(held)),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The keys now: read again first when the file changed since. A file that cannot be read
    /// (being replaced by hand, say) leaves the keys as they were, with a warning, until it
    /// changes again.
    pub fn keys(&self) -> Arc<FaceKeys> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let Some(path) = &self.path else {
            return held.keys.clone();
        };
        let now = stamp(path);
        if now == held.stamp {
            return held.keys.clone();
        }
        match FaceKeys::load(path) {
            Ok(keys) => {
                tracing::info!(file = %path.display(), current = %keys.current(), "face keys read again");
                held.keys = Arc::new(keys);
                held.stamp = now;
            }
            Err(e) => {
                tracing::warn!("face keys kept as they were: {e}");
                held.stamp = now;
            }
        }
        held.keys.clone()
    }
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
