//! Backups of the hub's database, taken while it serves, and restoring one.
//!
//! A backup is one self-contained SQLite file, copied with SQLite's online backup API from one
//! read snapshot: the database as of one commit, while ingest and review go on (never a file
//! copy, which could catch a page half-written or miss the write-ahead log). It is written
//! under a `.partial` name, synced, then renamed, so a power cut never leaves half a backup
//! under the final name; then it is checked like a file about to be restored.
//!
//! Restoring refuses while a hub serves the data directory (`serve` holds its
//! [`DataDirLock`]) and checks the file first (SQLite's integrity check, a hub schema this
//! build knows). The database it replaces is not deleted: it is renamed
//! `hub.sqlite3.before-restore-<time>` beside the new one.
//!
//! The database holds everything the school entered and every record, its faces sealed
//! (`store::keys`). Made once by `init`, and not in a backup: the key file that opens the
//! faces (`faces.key`: a backup without it yields no face; the hub restored from it starts
//! only once that file, or `faces.key.retired` for a backup older than a rotation, is put
//! back, or the faces are given up with `faces-key lost`), the token signing key (`jwt.key`; a
//! restore into a new directory makes a new one, and everyone signs in again) and the
//! door-unit CA (`device-ca.*`, only with client certificates), which an admin copies once
//! (docs/OPERATIONS.md).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rollcall_shared::UnixMillis;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::auth::key::{KEY_FILE, SigningKey};
use crate::config::BackupConfig;
use rollcall_store::{DATABASE_FILE, schema_version};

/// The file `serve` locks in its data directory.
pub const LOCK_FILE: &str = "hub.lock";

/// Scheduled backups are named `hub-<UTC time>.sqlite3`, which sorts by age.
const SCHEDULED_PREFIX: &str = "hub-";
const SCHEDULED_SUFFIX: &str = ".sqlite3";
const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Why a backup or a restore did not happen. Nothing is replaced or deleted on any of them.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{} is not a usable hub backup: {reason}", path.display())]
    NotABackup { path: PathBuf, reason: String },
    #[error(
        "a hub is serving {} (it holds {LOCK_FILE}); stop it first (systemctl stop rollcall-hub)",
        .0.display()
    )]
    Running(PathBuf),
    #[error("{} already exists: a backup never overwrites a file", .0.display())]
    Exists(PathBuf),
    #[error("making a signing key for the restored hub: {0}")]
    Key(#[from] crate::auth::key::KeyError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sql(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// What a checked backup file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub path: PathBuf,
    pub bytes: u64,
    /// The hub schema version (migrations applied).
    pub schema: usize,
    pub records: u64,
    pub students: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} bytes, schema version {}, {} records, {} students",
            self.path.display(),
            self.bytes,
            self.schema,
            self.records,
            self.students
        )
    }
}

/// A hub serving a data directory: held by `serve` for as long as it runs, and released by
/// the system when the process ends however it ends.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock of `data_dir`, or [`BackupError::Running`] when a hub holds it.
    pub fn acquire(data_dir: &Path) -> Result<Self, BackupError> {
        let path = data_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(BackupError::Running(data_dir.to_owned())),
            Err(TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }
}

/// Copies the database at `database` into the new file `to`, while a hub may be serving it,
/// and checks the copy.
pub fn take(database: &Path, to: &Path) -> Result<Summary, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql(database))?;
    source
        .busy_timeout(rollcall_runtime::sqlite::BUSY_TIMEOUT)
        .map_err(sql(database))?;
    write_copy(&source, to)?;
    check(to)
}

/// Copies `source` into `to` through `to.partial`: synced, then renamed into place.
fn write_copy(source: &Connection, to: &Path) -> Result<(), BackupError> {
    let partial = partial_path(to);
    remove_if_present(&partial)?;
    {
        let mut copy = Connection::open(&partial).map_err(sql(&partial))?;
        copy_all(source, &mut copy).map_err(sql(&partial))?;
        // The copy takes the source's WAL flag; a backup is one file, with no log beside it.
        copy.pragma_update(None, "journal_mode", "DELETE")
            .map_err(sql(&partial))?;
    }
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io(&partial))?;
    std::fs::rename(&partial, to).map_err(io(to))?;
    sync_dir(to)
}

/// Every page of `source` into `target`, in one step: one read snapshot, so the copy is
/// consistent however much is written meanwhile (SQLite restarts a stepwise copy when the
/// source changes, which under steady ingest might never finish).
fn copy_all(source: &Connection, target: &mut Connection) -> rusqlite::Result<()> {
    let backup = Backup::new(source, target)?;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // A checkpoint or another writer holds a lock for a moment.
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Opens `path` read-only and checks it is a whole hub database this build can run.
pub fn check(path: &Path) -> Result<Summary, BackupError> {
    let not = |reason: String| BackupError::NotABackup {
        path: path.to_owned(),
        reason,
    };
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    let holds = rollcall_store::backup_file::inspect(path).map_err(not)?;
    if holds.schema > schema_version() {
        return Err(not(format!(
            "its schema version {} is newer than this build's {}: restore it with the \
             newer program",
            holds.schema,
            schema_version()
        )));
    }
    Ok(Summary {
        path: path.to_owned(),
        bytes,
        schema: holds.schema,
        records: holds.records,
        students: holds.students,
    })
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub summary: Summary,
    /// Where the database it replaced now is (none when there was none).
    pub kept: Option<PathBuf>,
    /// Whether a new token signing key was made (a new data directory).
    pub new_key: bool,
}

/// Replaces the database of `data_dir` (made if missing, mode 0700) with the backup `file`. Refuses
/// while a hub serves the directory; checks the file before touching anything.
pub fn restore(file: &Path, data_dir: &Path, now: UnixMillis) -> Result<Restored, BackupError> {
    crate::setup::create_data_dir(data_dir).map_err(io(data_dir))?;
    let _serving = DataDirLock::acquire(data_dir)?;
    let summary = check(file)?;
    let database = data_dir.join(DATABASE_FILE);
    let incoming = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    let source =
        Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql(file))?;
    write_copy(&source, &incoming)?;
    let kept = match database.exists() {
        true => Some(set_aside(&database, now)?),
        false => None,
    };
    std::fs::rename(&incoming, &database).map_err(io(&database))?;
    sync_dir(&database)?;
    let new_key = !data_dir.join(KEY_FILE).exists();
    if new_key {
        SigningKey::create(data_dir)?;
    }
    Ok(Restored {
        summary,
        kept,
        new_key,
    })
}

/// Renames `database`, with its write-ahead log and shared memory if any (SQLite finds them
/// by name), to `…before-restore-<time>`.
fn set_aside(database: &Path, now: UnixMillis) -> Result<PathBuf, BackupError> {
    let aside = database.with_file_name(format!("{DATABASE_FILE}.before-restore-{}", stamp(now)));
    for suffix in ["-wal", "-shm"] {
        let from = with_suffix(database, suffix);
        if from.exists() {
            std::fs::rename(&from, with_suffix(&aside, suffix)).map_err(io(&from))?;
        }
    }
    std::fs::rename(database, &aside).map_err(io(database))?;
    Ok(aside)
}

/// Takes a scheduled backup into `config.dir` when the newest there is older than
/// `config.every_hours`, then deletes the oldest beyond `config.keep`. Returns the new
/// backup's summary, or `None` when none was due.
pub fn scheduled(
    database: &Path,
    config: &BackupConfig,
    dir: &Path,
    now: UnixMillis,
) -> Result<Option<Summary>, BackupError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let existing = scheduled_in(dir)?;
    let every = i64::from(config.every_hours) * 3_600_000;
    // A name dated ahead of the clock (the clock was once wrong, or a file was copied in)
    // must not hold the schedule back until that date.
    let newest = existing.iter().rev().find(|(at, _)| *at <= now);
    if let Some((newest, _)) = newest
        && now.0.saturating_sub(newest.0) < every
    {
        return Ok(None);
    }
    let to = dir.join(format!(
        "{SCHEDULED_PREFIX}{}{SCHEDULED_SUFFIX}",
        stamp(now)
    ));
    let summary = take(database, &to)?;
    // Only backups dated at or before now count towards `keep`: one dated ahead is left
    // alone (it is not ours to judge) and must not push a real one out.
    let past: Vec<_> = scheduled_in(dir)?
        .into_iter()
        .filter(|(at, _)| *at <= now)
        .collect();
    let surplus = past.len().saturating_sub(config.keep as usize);
    for (_, old) in &past[..surplus] {
        std::fs::remove_file(old).map_err(io(old))?;
    }
    Ok(Some(summary))
}

/// One scheduled backup as listed.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Listed {
    pub file: String,
    /// When it was taken (the time in its name).
    pub at: UnixMillis,
    pub bytes: u64,
}

/// The scheduled backups in `dir`, newest first (none when the folder is not there yet).
pub fn listed(dir: &Path) -> Result<Vec<Listed>, BackupError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (at, path) in scheduled_in(dir)?.into_iter().rev() {
        let bytes = std::fs::metadata(&path).map_err(io(&path))?.len();
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned());
        out.push(Listed {
            file: file.unwrap_or_default(),
            at,
            bytes,
        });
    }
    Ok(out)
}

/// When the next scheduled backup is due: `every_hours` after the newest dated at or before
/// `now` (as [`scheduled`] judges), or now when there is none.
pub fn next_due(listed: &[Listed], config: &BackupConfig, now: UnixMillis) -> UnixMillis {
    let every = i64::from(config.every_hours) * 3_600_000;
    match listed.iter().find(|b| b.at <= now) {
        Some(newest) => UnixMillis(newest.at.0 + every),
        None => now,
    }
}

/// The scheduled backups in `dir`, oldest first, with the time in their names. Other files
/// are left alone.
fn scheduled_in(dir: &Path) -> Result<Vec<(UnixMillis, PathBuf)>, BackupError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let time = name
            .strip_prefix(SCHEDULED_PREFIX)
            .and_then(|n| n.strip_suffix(SCHEDULED_SUFFIX))
            .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, TIME_FORMAT).ok());
        if let Some(time) = time {
            found.push((UnixMillis(time.and_utc().timestamp_millis()), path));
        }
    }
    found.sort();
    Ok(found)
}

/// `now` as `20261123T224512Z`.
fn stamp(now: UnixMillis) -> String {
    DateTime::<Utc>::from_timestamp_millis(now.0)
        .unwrap_or_default()
        .format(TIME_FORMAT)
        .to_string()
}

fn partial_path(to: &Path) -> PathBuf {
    with_suffix(to, ".partial")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}

/// Makes a rename in the directory of `path` durable.
fn sync_dir(path: &Path) -> Result<(), BackupError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests;
