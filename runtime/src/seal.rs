//! Faces sealed at rest: templates, crops, galleries and door-unit outboxes are stored as
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) under a key kept in a file of its own,
//! never in the database, so a copied database, backup or SD card without that file yields no
//! face.
//!
//! A sealed value is `RCF1`, the 4-byte id of the key, a random 24-byte nonce, then the
//! ciphertext and its 16-byte tag; what the value is ([`Purpose`]) is authenticated with it, so
//! a crop cannot be passed off as a template. A key file holds one key per line, oldest first;
//! the last seals, all open. Rotating adds a key, re-seals everything under it (the daemons do
//! that) and retires the old one.
//!
//! Values stored before sealing existed carry no `RCF1`: [`FaceKeys::open`] hands them back
//! as they are, and each daemon re-seals them when it starts.

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"RCF1";
const ID_LEN: usize = 4;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Bytes a sealed value has beyond its plaintext.
pub const OVERHEAD: usize = MAGIC.len() + ID_LEN + NONCE_LEN + TAG_LEN;

/// What a sealed value holds, bound to it: opening it as something else fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A face template (an embedding), or the mean of several.
    Template,
    /// A face crop (JPEG).
    Crop,
    /// A gallery: every enrolled student's templates.
    Gallery,
    /// A door unit's attendance record waiting to be sent, with its template and crop.
    Record,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Template => b"rollcall template",
            Purpose::Crop => b"rollcall crop",
            Purpose::Gallery => b"rollcall gallery",
            Purpose::Record => b"rollcall record",
        }
    }
}

/// Names a key without revealing it: the first 4 bytes of a SHA-256 of the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; ID_LEN]);

impl KeyId {
    fn of(key: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"rollcall face key\0")
            .chain_update(key)
            .finalize();
        Self([digest[0], digest[1], digest[2], digest[3]])
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl std::str::FromStr for KeyId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = hex::decode(s).map_err(|_| format!("{s:?} is not a key id (8 hex digits)"))?;
        let bytes = bytes
            .try_into()
            .map_err(|_| format!("{s:?} is not a key id (8 hex digits)"))?;
        Ok(Self(bytes))
    }
}

/// How a stored value is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Sealed under this key.
    Sealed(KeyId),
    /// Stored before sealing existed.
    Plain,
}

impl Kept {
    /// How `value` is kept, read from its first bytes.
    pub fn of(value: &[u8]) -> Self {
        match value.strip_prefix(MAGIC) {
            Some(rest) if rest.len() >= ID_LEN => {
                Kept::Sealed(KeyId([rest[0], rest[1], rest[2], rest[3]]))
            }
            _ => Kept::Plain,
        }
    }
}

/// Why a sealed value cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the sealed value is cut short ({0} bytes)")]
    Truncated(usize),
    #[error("the value is sealed with key {0}, which the key file does not hold")]
    UnknownKey(KeyId),
    #[error(
        "the value sealed with key {0} does not open: it was altered, or is not what it is read as"
    )]
    Forged(KeyId),
}

/// Why a key file cannot be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the face key file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot write the face key file {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the face key file {path}, line {line}: {problem}")]
    Malformed {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("the face key file {0} holds no key")]
    Empty(PathBuf),
    #[error("the face key file {0} already exists")]
    Exists(PathBuf),
}

#[derive(Clone)]
struct FaceKey {
    id: KeyId,
    secret: [u8; 32],
    cipher: XChaCha20Poly1305,
}

impl FaceKey {
    fn new(secret: [u8; 32]) -> Self {
        Self {
            id: KeyId::of(&secret),
            cipher: XChaCha20Poly1305::new(&secret.into()),
            secret,
        }
    }
}

/// The keys faces are sealed with, oldest first; the last seals.
#[derive(Clone)]
pub struct FaceKeys {
    keys: Vec<FaceKey>,
}

impl fmt::Debug for FaceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<_> = self.ids().collect();
        f.debug_struct("FaceKeys").field("ids", &ids).finish()
    }
}

impl FaceKeys {
    /// One new random key.
    pub fn generate() -> Self {
        Self {
            keys: vec![FaceKey::new(random_secret())],
        }
    }

    /// Reads the key file at `path`.
    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| KeyFileError::Read {
            path: path.to_owned(),
            error,
        })?;
        Self::parse(&text).map_err(|(line, problem)| match line {
            0 => KeyFileError::Empty(path.to_owned()),
            line => KeyFileError::Malformed {
                path: path.to_owned(),
                line,
                problem,
            },
        })
    }

    /// Writes a new key file at `path` (mode 0600) holding one new key; refuses to replace
    /// one.
    pub fn create(path: &Path) -> Result<Self, KeyFileError> {
        let keys = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => KeyFileError::Exists(path.to_owned()),
            _ => KeyFileError::Write {
                path: path.to_owned(),
                error,
            },
        });
        let write = |mut file: std::fs::File| {
            file.write_all(keys.to_text().as_bytes())?;
            file.sync_all()
        };
        write(file?).map_err(|error| KeyFileError::Write {
            path: path.to_owned(),
            error,
        })?;
        Ok(keys)
    }

    /// Replaces the key file at `path` with these keys, atomically (a temporary file beside
    /// it, then a rename), mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), KeyFileError> {
        let partial = path.with_extension("partial");
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&partial)?;
            file.write_all(self.to_text().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&partial, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|error| KeyFileError::Write {
            path: path.to_owned(),
            error,
        })
    }

    /// These keys and a new one, which seals from now on.
    pub fn with_new_key(&self) -> Self {
        let mut keys: Vec<FaceKey> = self.keys.iter().map(|k| FaceKey::new(k.secret)).collect();
        keys.push(FaceKey::new(random_secret()));
        Self { keys }
    }

    /// These keys but `retired`; `None` when that would leave none, or `retired` seals.
    pub fn without(&self, retired: KeyId) -> Option<Self> {
        if retired == self.current() {
            return None;
        }
        let keys: Vec<FaceKey> = self
            .keys
            .iter()
            .filter(|k| k.id != retired)
            .map(|k| FaceKey::new(k.secret))
            .collect();
        Some(Self { keys })
    }

    /// Key `id` alone, if held.
    pub fn only(&self, id: KeyId) -> Option<Self> {
        let key = self.keys.iter().find(|k| k.id == id)?;
        Some(Self {
            keys: vec![FaceKey::new(key.secret)],
        })
    }

    /// These keys, then those of `other` these lack.
    pub fn joined(&self, other: &FaceKeys) -> Self {
        let keys = self
            .keys
            .iter()
            .chain(other.keys.iter().filter(|k| !self.holds(k.id)))
            .map(|k| FaceKey::new(k.secret))
            .collect();
        Self { keys }
    }

    /// The key that seals.
    pub fn current(&self) -> KeyId {
        self.sealing().id
    }

    /// Every key held, oldest first.
    pub fn ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys.iter().map(|k| k.id)
    }

    pub fn holds(&self, id: KeyId) -> bool {
        self.keys.iter().any(|k| k.id == id)
    }

    /// `plain` sealed under the current key, as `purpose`.
    pub fn seal(&self, purpose: Purpose, plain: &[u8]) -> Vec<u8> {
        let key = self.sealing();
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plain,
            aad: purpose.label(),
        };
        // Encryption fails only for a message longer than 256 GiB.
        let sealed = key
            .cipher
            .encrypt(&nonce, payload)
            .expect("a face is far below XChaCha20-Poly1305's message limit");
        let mut out = Vec::with_capacity(OVERHEAD + plain.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&key.id.0);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// What `stored` holds as `purpose`: opened when sealed, as it is when stored before
    /// sealing existed.
    pub fn open<'a>(&self, purpose: Purpose, stored: &'a [u8]) -> Result<Cow<'a, [u8]>, SealError> {
        let Kept::Sealed(id) = Kept::of(stored) else {
            return Ok(Cow::Borrowed(stored));
        };
        if stored.len() < OVERHEAD {
            return Err(SealError::Truncated(stored.len()));
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(SealError::UnknownKey(id))?;
        let (nonce, sealed) = stored[MAGIC.len() + ID_LEN..].split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: purpose.label(),
        };
        key.cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map(Cow::Owned)
            .map_err(|_| SealError::Forged(id))
    }

    /// `stored` sealed under the current key: `None` when it already is.
    pub fn reseal(&self, purpose: Purpose, stored: &[u8]) -> Result<Option<Vec<u8>>, SealError> {
        if Kept::of(stored) == Kept::Sealed(self.current()) {
            return Ok(None);
        }
        let plain = self.open(purpose, stored)?;
        Ok(Some(self.seal(purpose, &plain)))
    }

    fn sealing(&self) -> &FaceKey {
        self.keys.last().expect("a key file holds at least one key")
    }

    fn to_text(&self) -> String {
        let mut text = String::from(
            "# Rollcall face keys, oldest first; the last seals new faces. Keep this file off the\n\
             # database's disk and out of its backups: the faces sealed with a key are gone\n\
             # without it.\n",
        );
        for key in &self.keys {
            text.push_str(&format!("key {} {}\n", key.id, hex::encode(key.secret)));
        }
        text
    }

    /// Keys from a key file's text; on error, the line (1-based; 0 when there is no key) and
    /// what is wrong with it.
    fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |problem: &str| (n + 1, problem.to_owned());
            let mut words = line.split_whitespace();
            let (Some("key"), Some(id), Some(secret), None) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(bad("expected `key <id> <64 hex digits>`"));
            };
            let secret: [u8; 32] = hex::decode(secret)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad("the key is not 64 hex digits"))?;
            let key = FaceKey::new(secret);
            if id.parse::<KeyId>().ok() != Some(key.id) {
                return Err(bad(&format!(
                    "the key's id is {}, not {id}: the line was altered",
                    key.id
                )));
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err((0, String::new()));
        }
        Ok(Self { keys })
    }
}

fn random_secret() -> [u8; 32] {
    XChaCha20Poly1305::generate_key(&mut OsRng).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_purpose() {
        let keys = FaceKeys::generate();
        let face = b"a template's bytes".repeat(20);
        let sealed = keys.seal(Purpose::Template, &face);
        assert_eq!(sealed.len(), face.len() + OVERHEAD);
        assert!(!sealed.windows(18).any(|w| w == b"a template's bytes"));
        assert_eq!(Kept::of(&sealed), Kept::Sealed(keys.current()));
        assert_eq!(&*keys.open(Purpose::Template, &sealed).unwrap(), &face[..]);
        assert_eq!(
            keys.open(Purpose::Crop, &sealed),
            Err(SealError::Forged(keys.current()))
        );

        let other = FaceKeys::generate();
        assert_eq!(
            other.open(Purpose::Template, &sealed),
            Err(SealError::UnknownKey(keys.current()))
        );
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(matches!(
            keys.open(Purpose::Template, &altered),
            Err(SealError::Forged(_))
        ));
        assert_eq!(
            keys.open(Purpose::Template, &sealed[..20]),
            Err(SealError::Truncated(20))
        );
        // Two seals of one face differ (a fresh nonce each).
        assert_ne!(sealed, keys.seal(Purpose::Template, &face));
    }

    #[test]
    fn values_from_before_sealing_open_as_they_are_and_reseal() {
        let keys = FaceKeys::generate();
        let plain = [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3];
        assert_eq!(Kept::of(&plain), Kept::Plain);
        assert_eq!(&*keys.open(Purpose::Crop, &plain).unwrap(), &plain);
        let sealed = keys.reseal(Purpose::Crop, &plain).unwrap().unwrap();
        assert_eq!(&*keys.open(Purpose::Crop, &sealed).unwrap(), &plain);
        assert_eq!(keys.reseal(Purpose::Crop, &sealed).unwrap(), None);
    }

    #[test]
    fn rotation_keeps_old_values_readable_until_the_old_key_retires() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faces.key");
        let first = FaceKeys::create(&path).unwrap();
        assert!(matches!(
            FaceKeys::create(&path),
            Err(KeyFileError::Exists(_))
        ));
        let old = first.seal(Purpose::Gallery, b"gallery");

        let rotated = FaceKeys::load(&path).unwrap().with_new_key();
        rotated.save(&path).unwrap();
        let loaded = FaceKeys::load(&path).unwrap();
        assert_eq!(
            loaded.ids().collect::<Vec<_>>(),
            rotated.ids().collect::<Vec<_>>()
        );
        assert_ne!(loaded.current(), first.current());
        let resealed = loaded.reseal(Purpose::Gallery, &old).unwrap().unwrap();
        assert_eq!(Kept::of(&resealed), Kept::Sealed(loaded.current()));

        assert!(loaded.without(loaded.current()).is_none());
        let retired = loaded.without(first.current()).unwrap();
        assert_eq!(
            retired.open(Purpose::Gallery, &old),
            Err(SealError::UnknownKey(first.current()))
        );
        assert_eq!(
            &*retired.open(Purpose::Gallery, &resealed).unwrap(),
            b"gallery"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_says_which_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faces.key");
        let keys = FaceKeys::create(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();

        std::fs::write(&path, "# nothing\n").unwrap();
        assert!(matches!(FaceKeys::load(&path), Err(KeyFileError::Empty(_))));

        let altered = text.replace(&keys.current().to_string(), "00000000");
        std::fs::write(&path, altered).unwrap();
        let err = FaceKeys::load(&path).unwrap_err().to_string();
        assert!(err.contains("line 4") && err.contains("altered"), "{err}");

        std::fs::write(&path, "key 00000000 abcd\n").unwrap();
        let err = FaceKeys::load(&path).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("64 hex"), "{err}");
    }
}
