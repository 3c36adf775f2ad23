//! Staff's faces (migration 36): each member's consent to be recognised at the gates (a column
//! of `staff`, every change kept in `staff_consent_changes`), and their enrolment templates
//! (`staff_faces`, sealed as students' are). What a gate is sent is [`gallery`]: active members
//! whose consent is given, with templates of the gate's model. The rules — which states a
//! member may be in, what a refusal erases — are `rollcall_school::staff_faces`'.

use chrono::NaiveDate;
use rollcall_runtime::seal::Purpose;
use rollcall_shared::gallery::MAX_EMBEDDINGS_PER_STUDENT;
use rollcall_shared::{Embedding, StaffEntry, StaffId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{embedding_col, id_col, readable, seal, seal_embedding, unseal};
use super::consent::{State, state_col};
use super::error::StoreError;
use super::sql::{Sql, params};

const SELECT_STATE: &str = "SELECT consent FROM staff WHERE id = ?1";
const SET_STATE: &str = "UPDATE staff SET consent = ?2 WHERE id = ?1";
const INSERT_CHANGE: &str = "INSERT INTO staff_consent_changes
    (staff_id, state, signed_on, reference, note, recorded_by, recorded_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const HISTORY: &str = "SELECT state, signed_on, reference, note, recorded_by, recorded_at
    FROM staff_consent_changes WHERE staff_id = ?1 ORDER BY id";
const INSERT_FACE: &str = "INSERT INTO staff_faces
    (id, staff_id, model, embedding, thumbnail, figures, photo_sha256, created_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const SAME_PHOTO: &str = "SELECT id FROM staff_faces WHERE staff_id = ?1 AND photo_sha256 = ?2";
const LIST: &str = "SELECT id, model, figures, thumbnail IS NOT NULL AS has_thumbnail, created_at
    FROM staff_faces WHERE staff_id = ?1 ORDER BY created_at, id";
const THUMBNAIL: &str = "SELECT thumbnail FROM staff_faces WHERE staff_id = ?1 AND id = ?2";
const DELETE_FACE: &str = "DELETE FROM staff_faces WHERE staff_id = ?1 AND id = ?2";
const ERASE: &str = "DELETE FROM staff_faces WHERE staff_id = ?1";
/// The templates a gate may be sent, newest last, member by member.
const SENDABLE: &str = "SELECT f.staff_id, f.id, f.embedding FROM staff_faces f
    JOIN staff s ON s.id = f.staff_id
    WHERE s.active = 1 AND s.consent = 'given' AND f.model = ?1
    ORDER BY f.staff_id, f.created_at, f.id";
const ALL_STATES: &str = "SELECT id, consent FROM staff";
const WITH_FACES: &str = "SELECT staff_id, count(*) AS faces FROM staff_faces GROUP BY staff_id";

/// One change of a member's consent, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsentChange {
    pub staff: Uuid,
    pub state: State,
    /// The date on the signed form.
    pub signed_on: Option<NaiveDate>,
    /// The signed form's reference in the school's files.
    pub reference: Option<String>,
    pub note: Option<String>,
    /// The admin who recorded it (`user:<id>`).
    pub recorded_by: String,
    pub recorded_at: UnixMillis,
}

/// `member`'s consent; [`StoreError::NotFound`] when there is no such member.
pub fn consent_of(sql: &dyn Sql, member: Uuid) -> Result<State, StoreError> {
    let state = sql.query_opt(SELECT_STATE, params![member.to_string()], |r| {
        state_col(r, "consent")
    })?;
    state.ok_or(StoreError::NotFound("member of staff"))
}

/// Records `change` in the history and makes it the member's state.
pub fn record_consent(sql: &dyn Sql, change: &ConsentChange) -> Result<(), StoreError> {
    let (member, state) = (change.staff.to_string(), change.state.as_str());
    if sql.execute(SET_STATE, params![member, state])? == 0 {
        return Err(StoreError::NotFound("member of staff"));
    }
    let signed_on = change.signed_on.map(|d| d.to_string());
    let row = params![
        member,
        state,
        signed_on,
        change.reference,
        change.note,
        change.recorded_by,
        change.recorded_at
    ];
    sql.execute(INSERT_CHANGE, row)?;
    Ok(())
}

/// Every change of `member`'s consent, oldest first.
pub fn consent_history(sql: &dyn Sql, member: Uuid) -> Result<Vec<ConsentChange>, StoreError> {
    let rows = sql.query_map(HISTORY, params![member.to_string()], |r| {
        let signed_on: Option<String> = r.get("signed_on")?;
        Ok(ConsentChange {
            staff: member,
            state: state_col(r, "state")?,
            signed_on: signed_on.and_then(|d| d.parse().ok()),
            reference: r.get("reference")?,
            note: r.get("note")?,
            recorded_by: r.get("recorded_by")?,
            recorded_at: r.get("recorded_at")?,
        })
    })?;
    readable(rows, "staff consent change")
}

/// A new enrolment template of a member.
#[derive(Debug)]
pub struct NewFace<'a> {
    pub staff: Uuid,
    pub model: &'a str,
    pub embedding: &'a Embedding,
    pub thumbnail: Option<&'a [u8]>,
    /// The photo's quality figures (JSON).
    pub figures: Option<String>,
    /// SHA-256 of the photo's bytes: the same photo is enrolled once.
    pub photo_sha256: &'a str,
    pub at: UnixMillis,
}

/// What became of a photo offered for a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    New(Uuid),
    /// This very photo was enrolled before, as this face.
    Already(Uuid),
}

/// Stores a template of a member whose consent is given (else [`StoreError::Conflict`]).
pub fn insert_face(sql: &dyn Sql, f: &NewFace<'_>) -> Result<Saved, StoreError> {
    let state = consent_of(sql, f.staff)?;
    if state != State::Given {
        return Err(StoreError::Conflict(format!(
            "this member of staff's consent is {}: no face of theirs is kept",
            state.as_str()
        )));
    }
    let member = f.staff.to_string();
    let same = sql.query_opt(SAME_PHOTO, params![member, f.photo_sha256], |r| {
        id_col(r, "id")
    })?;
    if let Some(face) = same {
        return Ok(Saved::Already(face));
    }
    let id = Uuid::now_v7();
    let row = params![
        id.to_string(),
        member,
        f.model,
        seal_embedding(sql, f.embedding),
        f.thumbnail.map(|jpeg| seal(sql, Purpose::Crop, jpeg)),
        f.figures,
        f.photo_sha256,
        f.at
    ];
    sql.execute(INSERT_FACE, row)?;
    Ok(Saved::New(id))
}

/// Whether this very photo (its bytes' SHA-256) is enrolled for `member`.
pub fn has_photo(sql: &dyn Sql, member: Uuid, photo_sha256: &str) -> Result<bool, StoreError> {
    let p = params![member.to_string(), photo_sha256];
    Ok(sql
        .query_opt(SAME_PHOTO, p, |r| id_col::<Uuid>(r, "id"))?
        .is_some())
}

/// One of a member's templates, without the vector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaffFace {
    pub id: Uuid,
    pub model: String,
    pub figures: Option<serde_json::Value>,
    pub has_thumbnail: bool,
    pub created_at: UnixMillis,
}

/// Every template of `member`, oldest first.
pub fn faces(sql: &dyn Sql, member: Uuid) -> Result<Vec<StaffFace>, StoreError> {
    let rows = sql.query_map(LIST, params![member.to_string()], |r| {
        let figures: Option<String> = r.get("figures")?;
        Ok(StaffFace {
            id: id_col(r, "id")?,
            model: r.get("model")?,
            figures: figures.and_then(|f| serde_json::from_str(&f).ok()),
            has_thumbnail: r.get("has_thumbnail")?,
            created_at: r.get("created_at")?,
        })
    })?;
    readable(rows, "staff face")
}

/// Every member's consent.
pub fn consents(sql: &dyn Sql) -> Result<Vec<(Uuid, State)>, StoreError> {
    let rows = sql.query_map(ALL_STATES, &[], |r| {
        Ok((id_col(r, "id")?, state_col(r, "consent")?))
    })?;
    readable(rows, "staff consent")
}

/// How many templates each member with any has.
pub fn face_counts(sql: &dyn Sql) -> Result<Vec<(Uuid, u64)>, StoreError> {
    let rows = sql.query_map(WITH_FACES, &[], |r| {
        Ok((id_col(r, "staff_id")?, r.get::<i64>("faces")?.max(0) as u64))
    })?;
    readable(rows, "staff face count")
}

/// The thumbnail of one of `member`'s faces.
pub fn thumbnail(sql: &dyn Sql, member: Uuid, face: Uuid) -> Result<Vec<u8>, StoreError> {
    let p = params![member.to_string(), face.to_string()];
    let row: Option<Option<Vec<u8>>> = sql.query_opt(THUMBNAIL, p, |r| r.get("thumbnail"))?;
    let stored = row
        .flatten()
        .ok_or(StoreError::NotFound("face thumbnail"))?;
    unseal(sql, Purpose::Crop, &stored)
}

pub fn delete_face(sql: &dyn Sql, member: Uuid, face: Uuid) -> Result<(), StoreError> {
    match sql.execute(DELETE_FACE, params![member.to_string(), face.to_string()])? {
        0 => Err(StoreError::NotFound("face")),
        _ => Ok(()),
    }
}

/// Deletes every template of `member`, and blanks them in the galleries remembered as sent
/// to gates; returns how many templates there were.
pub fn erase(sql: &dyn Sql, member: Uuid) -> Result<usize, StoreError> {
    super::gallery::forget_staff_faces(sql, StaffId(member))?;
    sql.execute(ERASE, params![member.to_string()])
}

/// What a gate holds of the staff: every active member whose consent is given, with their
/// newest templates of `model` (at most [`MAX_EMBEDDINGS_PER_STUDENT`]), in id order.
pub fn gallery(sql: &dyn Sql, model: &str) -> Result<Vec<StaffEntry>, StoreError> {
    let rows = sql.query_map(SENDABLE, params![model], |r| {
        let face: Uuid = id_col(r, "id")?;
        let embedding = embedding_col(sql, r, "embedding", &format!("staff face {face}"))?;
        Ok((id_col::<Uuid>(r, "staff_id")?, embedding))
    })?;
    let mut entries: Vec<StaffEntry> = Vec::new();
    for (member, embedding) in readable(rows, "staff face")? {
        let member = StaffId(member);
        match entries.last_mut() {
            Some(last) if last.member == member => last.embeddings.push(embedding),
            _ => entries.push(StaffEntry {
                member,
                embeddings: vec![embedding],
            }),
        }
    }
    for entry in &mut entries {
        let skip = entry
            .embeddings
            .len()
            .saturating_sub(MAX_EMBEDDINGS_PER_STUDENT);
        entry.embeddings.drain(..skip);
    }
    entries.sort_by_key(|e| e.member);
    Ok(entries)
}
