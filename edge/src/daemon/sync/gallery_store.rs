//! Keeping the gallery across restarts, and applying hub updates to disk and memory together.
//!
//! Owns the `gallery` table: one row holding the whole state as an encoded snapshot, written
//! in one transaction, so a crash leaves either the old or the new gallery, never a mix. And
//! the `site` table: the time zone the timetable's times are in and what becomes of faces that
//! match nobody, as the hub last said them; and the `unit_settings` table: the settings the hub
//! chose for this unit that it last took.
//! A stored gallery of another model id is ignored: the device starts empty and asks the
//! hub for a full snapshot.

use rollcall_runtime::seal::Purpose;
use rollcall_shared::{
    GalleryError, GalleryState, GalleryUpdate, Limits, Message, ModelId, SiteZone, UnitSettings,
    UnknownFaces, decode, encode,
};
use rusqlite::{OptionalExtension, params};

use crate::daemon::db::{Db, DbError};

const SELECT: &str = "SELECT model, snapshot FROM gallery WHERE slot = 1";
const UPSERT: &str = "INSERT INTO gallery (slot, model, version, snapshot) VALUES (1, ?1, ?2, ?3)
     ON CONFLICT (slot) DO UPDATE SET model = ?1, version = ?2, snapshot = ?3";

const SELECT_ZONE: &str = "SELECT timezone FROM site WHERE slot = 1";
const SELECT_UNKNOWN_FACES: &str = "SELECT unknown_faces FROM site WHERE slot = 1";
const SELECT_UNIT_SETTINGS: &str = "SELECT version, toml FROM unit_settings WHERE slot = 1";
const UPSERT_UNIT_SETTINGS: &str = "INSERT INTO unit_settings (slot, version, toml)
     VALUES (1, ?1, ?2) ON CONFLICT (slot) DO UPDATE SET version = ?1, toml = ?2";
const UPSERT_SITE: &str = "INSERT INTO site (slot, timezone, unknown_faces) VALUES (1, ?1, ?2)
     ON CONFLICT (slot) DO UPDATE SET timezone = ?1, unknown_faces = ?2";

/// Why an update was not applied.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("gallery update refused: {0}")]
    Refused(#[from] GalleryError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("gallery cannot be encoded: {0}")]
    Encode(#[from] rollcall_shared::EncodeError),
}

impl From<rusqlite::Error> for SyncError {
    fn from(e: rusqlite::Error) -> Self {
        SyncError::Db(DbError::Sqlite(e))
    }
}

/// The gallery table.
#[derive(Debug, Clone)]
pub struct GalleryStore {
    db: Db,
    model: ModelId,
}

impl GalleryStore {
    pub fn new(db: Db, model: ModelId) -> Self {
        Self { db, model }
    }

    /// The stored gallery, or an empty one (no gallery yet, another model, unreadable).
    pub fn load(&self) -> Result<GalleryState, DbError> {
        let empty = GalleryState::empty(self.model.clone());
        let row: Option<(String, Vec<u8>)> = self
            .db
            .lock()?
            .query_row(SELECT, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((model, bytes)) = row else {
            return Ok(empty);
        };
        if model != self.model.as_str() {
            tracing::warn!(
                stored = model,
                "stored gallery is for another model; ignoring it"
            );
            return Ok(empty);
        }
        let opened = self.db.unseal(Purpose::Gallery, &bytes);
        let restored = match opened.map(|bytes| decode(&bytes, Limits::FROM_HUB)) {
            Ok(Ok(Message::Gallery(snapshot))) => empty.apply(&snapshot).ok(),
            _ => None,
        };
        Ok(restored.unwrap_or_else(|| {
            tracing::warn!("stored gallery is unreadable; starting empty");
            empty
        }))
    }

    /// Applies `update` on `current`, persists the result in one transaction and returns it.
    /// On any error the stored gallery is unchanged.
    pub fn apply(
        &self,
        current: &GalleryState,
        update: &GalleryUpdate,
    ) -> Result<GalleryState, SyncError> {
        let next = current.apply(update)?;
        self.save(&next)?;
        Ok(next)
    }

    /// The zone the hub last sent, when it is one this device's tz database knows.
    pub fn zone(&self) -> Result<Option<SiteZone>, DbError> {
        let name: Option<String> = self
            .db
            .lock()?
            .query_row(SELECT_ZONE, [], |r| r.get(0))
            .optional()?;
        Ok(name.and_then(|n| match SiteZone::named(&n) {
            Ok(zone) => Some(zone),
            Err(e) => {
                tracing::warn!("stored time zone ignored: {e}");
                None
            }
        }))
    }

    /// What the hub last said to do with faces that match nobody; until it has said, or when
    /// what is stored is unreadable, [`UnknownFaces::Discard`]: no face is kept without the
    /// school's say.
    pub fn unknown_faces(&self) -> Result<UnknownFaces, DbError> {
        let stored: Option<Option<String>> = self
            .db
            .lock()?
            .query_row(SELECT_UNKNOWN_FACES, [], |r| r.get(0))
            .optional()?;
        Ok(match stored.flatten().as_deref() {
            Some("keep") => UnknownFaces::Keep,
            _ => UnknownFaces::Discard,
        })
    }

    /// Keeps the school's settings as the hub sent them, in one row.
    pub fn save_site(&self, zone: &SiteZone, unknown_faces: UnknownFaces) -> Result<(), DbError> {
        let row = params![zone.name(), unknown_faces.as_str()];
        self.db.lock()?.execute(UPSERT_SITE, row)?;
        Ok(())
    }

    /// The settings from the hub this unit last took, if any.
    pub fn unit_settings(&self) -> Result<Option<UnitSettings>, DbError> {
        let row: Option<(i64, String)> = self
            .db
            .lock()?
            .query_row(SELECT_UNIT_SETTINGS, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map(|(version, toml)| UnitSettings {
            version: u64::try_from(version).unwrap_or(0),
            toml,
        }))
    }

    /// Keeps the settings from the hub this unit now runs with.
    pub fn save_unit_settings(&self, settings: &UnitSettings) -> Result<(), DbError> {
        let version = i64::try_from(settings.version).unwrap_or(i64::MAX);
        let row = params![version, settings.toml];
        self.db.lock()?.execute(UPSERT_UNIT_SETTINGS, row)?;
        Ok(())
    }

    fn save(&self, state: &GalleryState) -> Result<(), SyncError> {
        let snapshot = Message::Gallery(GalleryUpdate::snapshot(state));
        let bytes = self
            .db
            .seal(Purpose::Gallery, &encode(&snapshot, Limits::FROM_HUB)?);
        let mut conn = self.db.lock()?;
        let tx = rollcall_runtime::sqlite::write_transaction(&mut conn)?;
        let version = state.version.0 as i64;
        tx.execute(UPSERT, params![state.model.as_str(), version, bytes])?;
        tx.commit()?;
        forget_old_pages(&conn);
        Ok(())
    }
}

/// Moves the new gallery out of the write-ahead log into the file and empties the log, so the
/// old snapshot's pages (zeroed when freed: `secure_delete`) are gone from both: once the hub
/// has erased a student and this gallery dropped them, a copy of the SD card holds no face of
/// theirs. A reader in the way only delays it to the next gallery.
fn forget_old_pages(conn: &rusqlite::Connection) {
    match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(0) => {}
        Ok(_) => tracing::info!("the old gallery stays in the write-ahead log until the next"),
        Err(e) => tracing::warn!("checkpointing after a gallery: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use rollcall_shared::{
        ClassId, EMBEDDING_DIM, Embedding, GalleryEntry, GalleryVersion, StudentId,
    };

    use super::*;

    fn update_to(state: &GalleryState, version: u64) -> (GalleryState, GalleryUpdate) {
        let mut next = state.clone();
        next.version = GalleryVersion(version);
        let e = GalleryEntry {
            student: StudentId::random(),
            classes: vec![ClassId::random()],
            embeddings: vec![Embedding([0.5; EMBEDDING_DIM])],
        };
        next.entries.insert(e.student, e);
        let update = GalleryUpdate::delta(state, &next);
        (next, update)
    }

    #[test]
    fn the_school_settings_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.db");
        let store = GalleryStore::new(
            Db::open(&path, crate::daemon::db::test_keys()).unwrap(),
            ModelId::new("m").unwrap(),
        );
        assert_eq!(store.zone().unwrap(), None, "nothing until the hub says");
        assert_eq!(store.unknown_faces().unwrap(), UnknownFaces::Discard);
        assert_eq!(store.unit_settings().unwrap(), None);
        for version in [1, 2] {
            let settings = UnitSettings {
                version,
                toml: format!("[burst]\nframes = {}\n", version + 4),
            };
            store.save_unit_settings(&settings).unwrap();
        }
        let new_york = SiteZone::named("America/New_York").unwrap();
        store.save_site(&new_york, UnknownFaces::Discard).unwrap();
        let london = SiteZone::named("Europe/London").unwrap();
        store.save_site(&london, UnknownFaces::Keep).unwrap();
        drop(store);
        let store = GalleryStore::new(
            Db::open(&path, crate::daemon::db::test_keys()).unwrap(),
            ModelId::new("m").unwrap(),
        );
        assert_eq!(store.zone().unwrap().unwrap().name(), "Europe/London");
        let kept = store.unit_settings().unwrap().unwrap();
        assert_eq!(
            (kept.version, kept.toml.as_str()),
            (2, "[burst]\nframes = 6\n")
        );
        assert_eq!(store.unknown_faces().unwrap(), UnknownFaces::Keep);
        // A name this build's tz database does not know is ignored, not fatal.
        store
            .db
            .lock()
            .unwrap()
            .execute("UPDATE site SET timezone = 'Mars/Olympus'", [])
            .unwrap();
        assert_eq!(store.zone().unwrap(), None);
    }

    #[test]
    fn updates_survive_a_restart_and_bad_ones_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.db");
        let model = ModelId::new("m1").unwrap();
        let store = GalleryStore::new(
            Db::open(&path, crate::daemon::db::test_keys()).unwrap(),
            model.clone(),
        );
        let empty = store.load().unwrap();
        let (v1, u1) = update_to(&empty, 1);
        assert_eq!(store.apply(&empty, &u1).unwrap(), v1);
        let (_, u3) = update_to(&v1, 3);
        let gap = GalleryUpdate {
            base: Some(GalleryVersion(2)),
            ..u3
        };
        let err = store.apply(&v1, &gap).unwrap_err();
        assert!(
            matches!(err, SyncError::Refused(ref e) if e.needs_full_snapshot()),
            "{err}"
        );
        drop(store);
        let store = GalleryStore::new(
            Db::open(&path, crate::daemon::db::test_keys()).unwrap(),
            model,
        );
        assert_eq!(store.load().unwrap(), v1);
        let other = GalleryStore::new(
            Db::open(&path, crate::daemon::db::test_keys()).unwrap(),
            ModelId::new("m2").unwrap(),
        );
        assert_eq!(
            other.load().unwrap().version,
            GalleryVersion(0),
            "another model's gallery is ignored"
        );
    }
}
