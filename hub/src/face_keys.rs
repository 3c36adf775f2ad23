//! What an admin does with the keys that seal faces (`rollcall-hub faces-key …`), beside a
//! hub that serves: rotating them and accepting that one is lost. The sealing itself is
//! [`rollcall_runtime::seal`]; which columns hold faces, and the SQL, [`rollcall_store::keys`].
//!
//! A rotation, in order:
//! 1. a new key joins the key file and seals from then on (a serving hub reads the file again
//!    as its next transaction starts);
//! 2. every face is sealed again under it, a short transaction at a time;
//! 3. once the serving hub's transactions that began before have surely ended ([`IN_FLIGHT`]),
//!    a second pass catches any face they sealed with the old key;
//! 4. the old keys leave the key file for `<key file>.retired` (a backup from before the
//!    rotation needs them) and the database records them as retired.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rollcall_runtime::seal::{FaceKeys, KeyFileError, KeyId};
use rollcall_runtime::{Clock, SystemClock};
use serde_json::json;

use crate::config::Config;
use crate::setup::{self, CLI_ACTOR, SetupError};
use rollcall_store::audit::{self, Change};
use rollcall_store::keys::{self, Census, Forgotten, Pass};
use rollcall_store::{Db, StoreError};

/// How long a serving hub's transaction that began before the new key file may still be
/// sealing with the old key: far longer than any of them takes.
pub const IN_FLIGHT: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a key command did not finish.
#[derive(Debug, thiserror::Error)]
pub enum FaceKeysError {
    #[error(transparent)]
    File(#[from] KeyFileError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{0} faces are still sealed with the old keys (they do not open: see the log); the old \
         keys stay in the key file"
    )]
    Unsealed(u64),
}

/// What the key file and the database say.
#[derive(Debug)]
pub struct Status {
    pub file: PathBuf,
    /// The file's keys, oldest first; the last seals.
    pub held: Vec<KeyId>,
    /// The keys the database names as in use.
    pub in_use: Vec<KeyId>,
    /// How each column's faces are kept.
    pub census: BTreeMap<String, Census>,
}

pub fn status(config: &Config) -> Result<Status, FaceKeysError> {
    let file = config.face_key_path();
    let held = FaceKeys::load(&file)?.ids().collect();
    let db = setup::open_unadmitted(config)?;
    let (in_use, census) =
        db.read_blocking(|sql| Ok::<_, StoreError>((keys::in_use(sql)?, keys::census(sql)?)))?;
    Ok(Status {
        file,
        held,
        in_use,
        census,
    })
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub added: KeyId,
    /// Faces sealed again (`None`: asked not to).
    pub resealed: Option<Resealed>,
}

/// What sealing everything under the newest key did.
#[derive(Debug)]
pub struct Resealed {
    pub pass: Pass,
    /// Keys that left the key file.
    pub retired: Vec<KeyId>,
    /// Where they are kept.
    pub kept_in: Option<PathBuf>,
}

/// Adds a key to `config`'s key file, then (unless `reseal` is false) [`reseal`]s.
pub fn rotate(config: &Config, reseal_now: bool) -> Result<Rotated, FaceKeysError> {
    let file = config.face_key_path();
    let keys = FaceKeys::load(&file)?.with_new_key();
    keys.save(&file)?;
    let added = keys.current();
    tracing::info!(key = %added, "face key added");
    let db = setup::open_store(config)?;
    audit(&db, "faces.key_added", json!({"key": added.to_string()}))?;
    let resealed = match reseal_now {
        true => Some(reseal_with(&db, &file)?),
        false => None,
    };
    Ok(Rotated { added, resealed })
}

/// Seals every face under the newest key of `config`'s key file, then retires the others.
pub fn reseal(config: &Config) -> Result<Resealed, FaceKeysError> {
    let db = setup::open_store(config)?;
    reseal_with(&db, &config.face_key_path())
}

fn reseal_with(db: &Db, file: &Path) -> Result<Resealed, FaceKeysError> {
    let mut pass = keys::reseal(db)?;
    std::thread::sleep(IN_FLIGHT);
    let second = keys::reseal(db)?;
    pass.changed += second.changed;
    pass.unreadable = second.unreadable;
    if second.unreadable > 0 {
        return Err(FaceKeysError::Unsealed(second.unreadable));
    }
    let keys = FaceKeys::load(file)?;
    let old: Vec<KeyId> = keys.ids().filter(|id| *id != keys.current()).collect();
    if old.is_empty() {
        return Ok(Resealed {
            pass,
            retired: old,
            kept_in: None,
        });
    }
    let kept_in = retired_file(file);
    keep_retired(&keys, &old, &kept_in)?;
    let mut remaining = FaceKeys::load(file)?;
    for id in &old {
        if let Some(without) = remaining.without(*id) {
            remaining = without;
        }
    }
    remaining.save(file)?;
    let now = SystemClock.now();
    db.write_blocking(|sql| {
        for id in &old {
            keys::retire(sql, *id, now)?;
        }
        let retired: Vec<String> = old.iter().map(ToString::to_string).collect();
        audit::log(
            sql,
            Change {
                actor: CLI_ACTOR,
                action: "faces.key_retired",
                target: "face_keys".into(),
                before: None,
                after: Some(json!({"retired": retired, "resealed": pass.changed})),
                at: now,
            },
        )
    })?;
    Ok(Resealed {
        pass,
        retired: old,
        kept_in: Some(kept_in),
    })
}

/// Where retired keys are kept: `<key file>.retired`, beside it.
pub fn retired_file(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".retired");
    PathBuf::from(name)
}

/// Appends the lines of `old` from the key file to `kept_in` (mode 0600).
fn keep_retired(keys: &FaceKeys, old: &[KeyId], kept_in: &Path) -> Result<(), KeyFileError> {
    let mut retired = match FaceKeys::load(kept_in) {
        Ok(previous) => Some(previous),
        Err(KeyFileError::Read { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
            None
        }
        Err(e) => return Err(e),
    };
    for only in old.iter().filter_map(|id| keys.only(*id)) {
        retired = Some(match retired {
            Some(held) => held.joined(&only),
            None => only,
        });
    }
    match retired {
        Some(retired) => retired.save(kept_in),
        None => Ok(()),
    }
}

/// What the faces under keys the key file lacks are (see [`forget_lost`]).
pub fn lost_census(config: &Config) -> Result<(Vec<KeyId>, BTreeMap<String, u64>), FaceKeysError> {
    let keys = FaceKeys::load(&config.face_key_path())?;
    let db = setup::open_unadmitted(config)?;
    let census = db.read_blocking(keys::census)?;
    let in_use = db.read_blocking(keys::in_use)?;
    let lost: Vec<KeyId> = in_use.into_iter().filter(|id| !keys.holds(*id)).collect();
    let counts = census
        .into_iter()
        .map(|(column, c)| {
            let n = c
                .sealed
                .iter()
                .filter(|(id, _)| !keys.holds(**id))
                .map(|(_, n)| n)
                .sum();
            (column, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok((lost, counts))
}

/// Erases every face sealed with a key the key file lacks, and retires those keys: the hub
/// starts again, every student's face must be enrolled again, the register is whole.
pub fn forget_lost(config: &Config) -> Result<Forgotten, FaceKeysError> {
    let db = setup::open_unadmitted(config)?;
    let now = SystemClock.now();
    let forgotten = db.write_blocking(|sql| {
        let forgotten = keys::forget_lost(sql, now)?;
        audit::log(
            sql,
            Change {
                actor: CLI_ACTOR,
                action: "faces.key_lost",
                target: "face_keys".into(),
                before: None,
                after: Some(json!(forgotten)),
                at: now,
            },
        )?;
        Ok::<_, StoreError>(forgotten)
    })?;
    Ok(forgotten)
}

fn audit(db: &Db, action: &'static str, after: serde_json::Value) -> Result<(), StoreError> {
    let now = SystemClock.now();
    db.write_blocking(|sql| {
        audit::log(
            sql,
            Change {
                actor: CLI_ACTOR,
                action,
                target: "face_keys".into(),
                before: None,
                after: Some(after),
                at: now,
            },
        )
    })
}
