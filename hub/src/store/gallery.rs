//! The last gallery state sent to each device, so the next update can be a delta against it.
//! Stored as postcard bytes of the entries and timetable; the version has its own column.

use rollcall_shared::{
    DeviceId, GalleryEntry, GalleryState, GalleryVersion, ModelId, TimetableSlot, UnixMillis,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

const SELECT: &str = "SELECT version, state FROM device_galleries WHERE device_id = ?1";
const UPSERT: &str = "INSERT INTO device_galleries (device_id, version, state, sent_at)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id) DO UPDATE SET version = excluded.version,
    state = excluded.state, sent_at = excluded.sent_at";

type Stored = (Vec<GalleryEntry>, Vec<TimetableSlot>);

/// The state last sent to `device`, if any.
pub fn last_sent(
    conn: &Connection,
    device: DeviceId,
    model: &ModelId,
) -> Result<Option<GalleryState>, StoreError> {
    let row: Option<(u64, Vec<u8>)> = conn
        .query_row(SELECT, [device.to_string()], |r| {
            Ok((r.get("version")?, r.get("state")?))
        })
        .optional()?;
    let Some((version, bytes)) = row else {
        return Ok(None);
    };
    let (entries, timetable): Stored = postcard::from_bytes(&bytes)
        .map_err(|e| StoreError::Corrupt(format!("gallery state of {device}: {e}")))?;
    let mut state = GalleryState::empty(model.clone());
    state.version = GalleryVersion(version);
    state.entries = entries.into_iter().map(|e| (e.student, e)).collect();
    state.timetable = timetable;
    Ok(Some(state))
}

pub fn save_sent(
    conn: &Connection,
    device: DeviceId,
    state: &GalleryState,
    at: UnixMillis,
) -> Result<(), StoreError> {
    let stored: (Vec<&GalleryEntry>, &Vec<TimetableSlot>) =
        (state.entries.values().collect(), &state.timetable);
    let bytes = postcard::to_stdvec(&stored)
        .map_err(|e| StoreError::Corrupt(format!("encoding gallery state: {e}")))?;
    conn.execute(
        UPSERT,
        params![device.to_string(), state.version.0, bytes, at],
    )?;
    Ok(())
}
