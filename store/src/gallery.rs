//! The last gallery state sent to each device, so the next update can be a delta against it.
//! Stored as postcard bytes of the entries, timetable and staff, sealed (it holds every
//! template sent); the version has its own column. A state stored before gates held staff
//! (entries and timetable only) reads as one without staff.

use rollcall_runtime::seal::Purpose;
use rollcall_shared::{
    DeviceId, GalleryEntry, GalleryState, GalleryVersion, ModelId, StaffEntry, StaffId, StudentId,
    TimetableSlot, UnixMillis,
};

use super::columns::{readable, seal, unseal};
use super::error::StoreError;
use super::sql::{Sql, params};

const SELECT: &str = "SELECT version, state FROM device_galleries WHERE device_id = ?1";
const ALL_STATES: &str = "SELECT device_id, state FROM device_galleries";
const SET_STATE: &str = "UPDATE device_galleries SET state = ?2 WHERE device_id = ?1";
const UPSERT: &str = "INSERT INTO device_galleries (device_id, version, state, sent_at)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id) DO UPDATE SET version = excluded.version,
    state = excluded.state, sent_at = excluded.sent_at";

type Stored = (Vec<GalleryEntry>, Vec<TimetableSlot>, Vec<StaffEntry>);
/// What was stored before gates held staff.
type StoredBefore = (Vec<GalleryEntry>, Vec<TimetableSlot>);

/// The state last sent to `device`, if any.
pub fn last_sent(
    sql: &dyn Sql,
    device: DeviceId,
    model: &ModelId,
) -> Result<Option<GalleryState>, StoreError> {
    let row: Option<(u64, Vec<u8>)> = sql.query_opt(SELECT, params![device.to_string()], |r| {
        Ok((r.get("version")?, r.get("state")?))
    })?;
    let Some((version, bytes)) = row else {
        return Ok(None);
    };
    let (entries, timetable, staff) = decode(sql, device, &bytes)?;
    let mut state = GalleryState::empty(model.clone());
    state.version = GalleryVersion(version);
    state.entries = entries.into_iter().map(|e| (e.student, e)).collect();
    state.timetable = timetable;
    state.staff = staff.into_iter().map(|e| (e.member, e)).collect();
    Ok(Some(state))
}

pub fn save_sent(
    sql: &dyn Sql,
    device: DeviceId,
    state: &GalleryState,
    at: UnixMillis,
) -> Result<(), StoreError> {
    let stored: (Vec<&GalleryEntry>, &Vec<TimetableSlot>, Vec<&StaffEntry>) = (
        state.entries.values().collect(),
        &state.timetable,
        state.staff.values().collect(),
    );
    let bytes = encode(sql, &stored)?;
    sql.execute(
        UPSERT,
        params![device.to_string(), state.version.0, bytes, at],
    )?;
    Ok(())
}

/// Blanks `student`'s templates in every state remembered as sent, so the hub keeps no copy
/// of an erased face; their entry stays, so the next update to each door unit still removes
/// them there. Returns how many states held them.
pub fn forget_faces(sql: &dyn Sql, student: StudentId) -> Result<usize, StoreError> {
    let rows = sql.query_map(ALL_STATES, params![], |r| {
        Ok((r.get::<String>("device_id")?, r.get::<Vec<u8>>("state")?))
    })?;
    let mut forgotten = 0;
    for (device, bytes) in readable(rows, "gallery state")? {
        let (mut entries, timetable, staff) = decode(sql, &device, &bytes)?;
        let held = entries
            .iter_mut()
            .filter(|e| e.student == student && !e.embeddings.is_empty());
        let mut changed = false;
        for entry in held {
            entry.embeddings.clear();
            changed = true;
        }
        if changed {
            let bytes = encode(sql, &(entries, timetable, staff))?;
            sql.execute(SET_STATE, params![device, bytes])?;
            forgotten += 1;
        }
    }
    Ok(forgotten)
}

/// [`forget_faces`] for a member of staff: their templates blanked in every state remembered
/// as sent (a gate's), their entry kept for the next delta to remove. Returns how many.
pub fn forget_staff_faces(sql: &dyn Sql, member: StaffId) -> Result<usize, StoreError> {
    let rows = sql.query_map(ALL_STATES, params![], |r| {
        Ok((r.get::<String>("device_id")?, r.get::<Vec<u8>>("state")?))
    })?;
    let mut forgotten = 0;
    for (device, bytes) in readable(rows, "gallery state")? {
        let (entries, timetable, mut staff) = decode(sql, &device, &bytes)?;
        let held = staff
            .iter_mut()
            .find(|e| e.member == member && !e.embeddings.is_empty());
        if let Some(entry) = held {
            entry.embeddings.clear();
            let bytes = encode(sql, &(entries, timetable, staff))?;
            sql.execute(SET_STATE, params![device, bytes])?;
            forgotten += 1;
        }
    }
    Ok(forgotten)
}

fn encode(sql: &dyn Sql, stored: &impl serde::Serialize) -> Result<Vec<u8>, StoreError> {
    let bytes = postcard::to_stdvec(stored)
        .map_err(|e| StoreError::Corrupt(format!("encoding gallery state: {e}")))?;
    Ok(seal(sql, Purpose::Gallery, &bytes))
}

fn decode(
    sql: &dyn Sql,
    device: impl std::fmt::Display,
    stored: &[u8],
) -> Result<Stored, StoreError> {
    let bytes = unseal(sql, Purpose::Gallery, stored)?;
    match postcard::from_bytes::<Stored>(&bytes) {
        Ok(state) => Ok(state),
        Err(e) => match postcard::from_bytes::<StoredBefore>(&bytes) {
            Ok((entries, timetable)) => Ok((entries, timetable, Vec::new())),
            Err(_) => Err(StoreError::Corrupt(format!(
                "gallery state of {device}: {e}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use rollcall_shared::{ClassId, EMBEDDING_DIM, Embedding};

    use super::*;

    #[test]
    fn the_last_state_sent_comes_back_and_the_next_replaces_it() {
        crate::engines::each(|db| {
            let (device, model) = (DeviceId::random(), ModelId::new("m").unwrap());
            let student = StudentId::random();
            let mut state = GalleryState::empty(model.clone());
            state.version = GalleryVersion(7);
            let entry = GalleryEntry {
                student,
                classes: vec![ClassId::random()],
                embeddings: vec![Embedding([0.5; EMBEDDING_DIM])],
            };
            state.entries.insert(student, entry);
            state.timetable.push(TimetableSlot {
                class: ClassId::random(),
                weekday: 2,
                start_minute: 540,
                end_minute: 600,
            });
            db.write_blocking(|sql| {
                assert_eq!(last_sent(sql, device, &model)?, None);
                crate::fixtures::register_device_in(sql, device);
                save_sent(sql, device, &state, UnixMillis(1))?;
                assert_eq!(last_sent(sql, device, &model)?.as_ref(), Some(&state));
                // An erased student's templates go; their entry stays for the next delta.
                assert_eq!(forget_faces(sql, student)?, 1);
                assert_eq!(forget_faces(sql, student)?, 0, "nothing left to forget");
                let forgotten = last_sent(sql, device, &model)?.unwrap();
                assert!(forgotten.entries[&student].embeddings.is_empty());
                assert_eq!(forgotten.timetable, state.timetable);
                state.version = GalleryVersion(8);
                state.entries.clear();
                save_sent(sql, device, &state, UnixMillis(2))?;
                assert_eq!(last_sent(sql, device, &model)?, Some(state));
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}
