//! The token signing key: 32 random bytes made by `init`, kept in the data directory readable
//! by the hub's user only.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The key file inside the data directory.
pub const KEY_FILE: &str = "jwt.key";

/// Why the key cannot be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot write the signing key {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the signing key {path} (run `rollcall-hub init` first): {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the signing key {0} is not 64 hex characters")]
    Malformed(PathBuf),
}

/// The HMAC key for access and refresh tokens.
#[derive(Clone)]
pub struct SigningKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// Writes a new key to `dir` with mode 0600, refusing to overwrite one.
    pub fn create(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let key = Self::random();
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path)?;
            file.write_all(hex::encode(key.0).as_bytes())?;
            file.sync_all()
        };
        write().map_err(|source| KeyError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(key)
    }

    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| KeyError::Read {
            path: path.clone(),
            source,
        })?;
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed(path.clone()))?;
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| KeyError::Malformed(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_loads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::create(dir.path()).unwrap();
        assert_eq!(SigningKey::load(dir.path()).unwrap().0, key.0);
        assert!(SigningKey::create(dir.path()).is_err(), "never overwritten");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }
}
