//! The outbox: attendance records committed to SQLite before they are published, deleted only
//! when the hub's `RecordAck` names them. Disk use is bounded by [`policy`](super::policy),
//! which also keeps a reserve of the disk free so acknowledged records can always be deleted.
//!
//! Owns the `outbox` table. It must not talk to the network: the link decides when to
//! publish (see [`delivery`](super::delivery)). Calls block on SQLite: use it from the
//! pipeline thread or `spawn_blocking`, never directly on the executor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rollcall_runtime::seal::Purpose;
use rollcall_runtime::sqlite::{is_disk_full, write_transaction};
use rollcall_shared::{
    AttendanceRecord, Decision, Limits, Message, RecordId, UnixMillis, decode, encode,
};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::policy::{Admission, DISK_RESERVE, admit, disk_full};
use crate::daemon::db::{Db, DbError};

const INSERT: &str =
    "INSERT OR IGNORE INTO outbox (id, created_ms, decision, has_thumbnail, payload)
     VALUES (?1, ?2, ?3, ?4, ?5)";
const USED_BYTES: &str = "SELECT COALESCE(SUM(length(payload)), 0) FROM outbox";
const COUNT: &str = "SELECT COUNT(*) FROM outbox";
const SELECT_PAYLOAD: &str = "SELECT payload FROM outbox WHERE id = ?1";
const SELECT_IDS: &str = "SELECT id FROM outbox ORDER BY id";
const DELETE: &str = "DELETE FROM outbox WHERE id = ?1";
const OLDEST_WITH_THUMBNAIL: &str =
    "SELECT id, payload FROM outbox WHERE has_thumbnail = 1 ORDER BY id LIMIT ?1";
const EXPIRED_THUMBNAILS: &str =
    "SELECT id, payload FROM outbox WHERE has_thumbnail = 1 AND created_ms < ?1";
const UPDATE_PAYLOAD: &str = "UPDATE outbox SET payload = ?2, has_thumbnail = 0 WHERE id = ?1";

/// A stored record's id bytes and its encoded payload, sealed.
type IdAndPayload = (Vec<u8>, Vec<u8>);

/// Why the outbox failed. Records already committed stay committed.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("record cannot be encoded: {0}")]
    Encode(#[from] rollcall_shared::EncodeError),
}

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> Self {
        OutboxError::Db(DbError::Sqlite(e))
    }
}

/// What happened to a record handed to [`Outbox::commit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    Stored,
    /// Kept although the outbox is over its budget.
    StoredOverBudget,
    /// Refused (an Unknown record with the outbox full); counted.
    Refused,
    /// Not stored: the disk is full (storing it would eat into the reserve the outbox needs
    /// to drain); counted and logged.
    DiskFull,
}

/// What the outbox has had to shed since the daemon started; logged by the link's heartbeat
/// whenever it grows.
#[derive(Debug, Default)]
pub struct OutboxStats {
    pub thumbnails_dropped: AtomicU64,
    pub refused_unknown: AtomicU64,
    pub over_budget: AtomicU64,
    pub refused_disk_full: AtomicU64,
}

/// The counters of [`OutboxStats`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shed {
    pub thumbnails_dropped: u64,
    pub refused_unknown: u64,
    pub over_budget: u64,
    pub refused_disk_full: u64,
}

impl OutboxStats {
    pub fn snapshot(&self) -> Shed {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Shed {
            thumbnails_dropped: read(&self.thumbnails_dropped),
            refused_unknown: read(&self.refused_unknown),
            over_budget: read(&self.over_budget),
            refused_disk_full: read(&self.refused_disk_full),
        }
    }
}

/// The outbox over the shared database.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
    max_bytes: u64,
    disk_reserve: u64,
    pub stats: Arc<OutboxStats>,
}

impl Outbox {
    pub fn new(db: Db, max_bytes: u64) -> Self {
        Self {
            db,
            max_bytes,
            disk_reserve: DISK_RESERVE,
            stats: Arc::default(),
        }
    }

    /// The same outbox keeping `bytes` of its disk free instead of [`DISK_RESERVE`].
    pub fn with_disk_reserve(mut self, bytes: u64) -> Self {
        self.disk_reserve = bytes;
        self
    }

    /// Durably stores `record` (or refuses it by the disk policy).
    pub fn commit(&self, record: &AttendanceRecord) -> Result<Committed, OutboxError> {
        let mut record = record.clone();
        let mut room_made = false;
        loop {
            let encoded = encode(&Message::Record(record.clone()), Limits::FROM_DEVICE)?;
            let payload = self.db.seal(Purpose::Record, &encoded);
            let used: i64 = self.db.lock()?.query_row(USED_BYTES, [], |r| r.get(0))?;
            let len = payload.len() as u64;
            match admit(record.decision, used as u64, len, self.max_bytes, room_made) {
                Admission::Store => return self.insert(&record, payload, Committed::Stored),
                Admission::MakeRoom => {
                    let need = (used as u64 + len).saturating_sub(self.max_bytes);
                    let freed = self.drop_thumbnails(need)?;
                    if freed < need && record.thumbnail.take().is_some() {
                        self.count(&self.stats.thumbnails_dropped);
                    }
                    room_made = true;
                }
                Admission::StoreOverBudget => {
                    self.count(&self.stats.over_budget);
                    tracing::error!(record = %record.id, used, "outbox over its budget; keeping the record anyway");
                    return self.insert(&record, payload, Committed::StoredOverBudget);
                }
                Admission::Refuse => {
                    self.count(&self.stats.refused_unknown);
                    tracing::warn!(record = %record.id, used, "outbox full: Unknown record refused");
                    return Ok(Committed::Refused);
                }
            }
        }
    }

    fn count(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn insert(
        &self,
        r: &AttendanceRecord,
        payload: Vec<u8>,
        outcome: Committed,
    ) -> Result<Committed, OutboxError> {
        let decision = match r.decision {
            Decision::Confident => 0,
            Decision::Uncertain => 1,
            Decision::Unknown => 2,
        };
        let room = self.db.room()?;
        if disk_full(room, payload.len() as u64, self.disk_reserve) {
            return Ok(self.refuse_disk_full(r.id, room));
        }
        let row = params![
            r.id.0.as_bytes().as_slice(),
            r.captured_at,
            decision,
            r.thumbnail.is_some(),
            payload
        ];
        match self.db.lock()?.execute(INSERT, row) {
            Ok(_) => Ok(outcome),
            // Something else filled the disk: the same answer, the transaction rolled back.
            Err(e) if is_disk_full(&e) => Ok(self.refuse_disk_full(r.id, room)),
            Err(e) => Err(e.into()),
        }
    }

    fn refuse_disk_full(&self, id: RecordId, room: u64) -> Committed {
        self.count(&self.stats.refused_disk_full);
        tracing::error!(
            record = %id,
            room,
            reserve = self.disk_reserve,
            "disk full: record not stored; the records already in the outbox are kept, and \
             new ones are stored again once the hub has acknowledged enough of them"
        );
        Committed::DiskFull
    }

    /// Drops thumbnails of the oldest records until `need` bytes are freed or none are left.
    fn drop_thumbnails(&self, need: u64) -> Result<u64, OutboxError> {
        let mut freed = 0;
        while freed < need {
            let batch = self.rows(OLDEST_WITH_THUMBNAIL, 16)?;
            if batch.is_empty() {
                break;
            }
            for row in batch {
                if freed >= need {
                    break;
                }
                freed += self.strip(vec![row])?;
            }
        }
        Ok(freed)
    }

    /// Deletes thumbnails of records captured before `cutoff` (retention); returns how many.
    pub fn expire_thumbnails(&self, cutoff: UnixMillis) -> Result<usize, OutboxError> {
        let rows = self.rows(EXPIRED_THUMBNAILS, cutoff.0)?;
        let n = rows.len();
        self.strip(rows)?;
        Ok(n)
    }

    fn rows(&self, sql: &str, arg: i64) -> Result<Vec<IdAndPayload>, OutboxError> {
        let conn = self.db.lock()?;
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([arg], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let rows: Vec<_> = rows.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Re-encodes each record without its thumbnail; returns the bytes freed.
    fn strip(&self, rows: Vec<IdAndPayload>) -> Result<u64, OutboxError> {
        let mut freed = 0;
        for (id, payload) in rows {
            let encoded = self.db.unseal(Purpose::Record, &payload)?;
            let Ok(Message::Record(mut record)) = decode(&encoded, Limits::FROM_DEVICE) else {
                return Err(DbError::Corrupt("an outbox row does not decode".into()).into());
            };
            record.thumbnail = None;
            let encoded = encode(&Message::Record(record), Limits::FROM_DEVICE)?;
            let smaller = self.db.seal(Purpose::Record, &encoded);
            freed += payload.len().saturating_sub(smaller.len()) as u64;
            self.db
                .lock()?
                .execute(UPDATE_PAYLOAD, params![id, smaller])?;
            self.count(&self.stats.thumbnails_dropped);
        }
        Ok(freed)
    }

    /// The encoded message of `id`, if the outbox still holds it.
    pub fn payload(&self, id: RecordId) -> Result<Option<Vec<u8>>, OutboxError> {
        let row: Option<Vec<u8>> = self
            .db
            .lock()?
            .query_row(SELECT_PAYLOAD, [id.0.as_bytes().as_slice()], |r| r.get(0))
            .optional()?;
        Ok(row
            .map(|sealed| self.db.unseal(Purpose::Record, &sealed))
            .transpose()?)
    }

    /// Every record held, oldest first.
    pub fn ids(&self) -> Result<Vec<RecordId>, OutboxError> {
        let conn = self.db.lock()?;
        let mut stmt = conn.prepare_cached(SELECT_IDS)?;
        let ids = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for id in ids {
            let id = Uuid::from_slice(&id?).map_err(|e| DbError::Corrupt(e.to_string()))?;
            out.push(RecordId(id));
        }
        Ok(out)
    }

    /// Deletes acknowledged records in one transaction; returns how many were held. If the
    /// disk is full (something other than the outbox filled it), the write-ahead log is
    /// checkpointed and truncated to make room, and the delete tried once more.
    pub fn delete(&self, ids: &[RecordId]) -> Result<usize, OutboxError> {
        match self.delete_once(ids) {
            Err(OutboxError::Db(e)) if e.is_disk_full() => {
                tracing::warn!("disk full while deleting acknowledged records: checkpointing");
                self.db.checkpoint()?;
                self.delete_once(ids)
            }
            done => done,
        }
    }

    fn delete_once(&self, ids: &[RecordId]) -> Result<usize, OutboxError> {
        let mut conn = self.db.lock()?;
        let tx = write_transaction(&mut conn)?;
        let mut n = 0;
        for id in ids {
            n += tx.execute(DELETE, [id.0.as_bytes().as_slice()])?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Records held (unacknowledged).
    pub fn depth(&self) -> Result<u32, OutboxError> {
        let n: i64 = self.db.lock()?.query_row(COUNT, [], |r| r.get(0))?;
        Ok(n as u32)
    }

    /// Bytes the outbox can still grow into on its disk.
    pub fn room(&self) -> Result<u64, OutboxError> {
        Ok(self.db.room()?)
    }

    pub fn used_bytes(&self) -> Result<u64, OutboxError> {
        let n: i64 = self.db.lock()?.query_row(USED_BYTES, [], |r| r.get(0))?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests;
