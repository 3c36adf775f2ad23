//! Classes, students, class membership and enrolment embeddings: who belongs where and what
//! their faces look like to the model. No names or photos leave the hub; devices get only ids
//! and embeddings (see `gallery`).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use rollcall_shared::{ClassId, Embedding, RecordId, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use rollcall_runtime::seal::Purpose;

use super::columns::id_col;
use super::columns::{embedding_col, readable, seal, seal_embedding};
use super::consent;
use super::error::StoreError;
use super::sql::{Param, ReadResult, Row, Sql, params};

mod contacts;
mod model_change;
mod references;

pub use contacts::{Contact, contact, contacts, set_contact};
pub use model_change::{embeddings_of_model, relabel_embedding};
pub use references::{class_reference, set_class_reference};

const INSERT_CLASS: &str =
    "INSERT INTO classes (id, name, teacher_id, created_at, code) VALUES (?1, ?2, ?3, ?4, ?5)";
const SELECT_CLASS: &str = "SELECT id, name, teacher_id, created_at, code FROM classes";
const UPDATE_CLASS: &str = "UPDATE classes SET name = ?2, teacher_id = ?3, code = ?4 WHERE id = ?1";
const CLASS_BY_CODE: &str = "SELECT id FROM classes WHERE code = ?1";
const DELETE_CLASS: &str = "DELETE FROM classes WHERE id = ?1";
const INSERT_STUDENT: &str = "INSERT INTO students (id, name, external_ref, created_at, consent,
    year_group, form, born_on, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const SELECT_STUDENT: &str = "SELECT id, name, external_ref, created_at, consent, year_group,
    form, born_on, active FROM students";
const UPDATE_STUDENT: &str = "UPDATE students SET name = ?2, external_ref = ?3 WHERE id = ?1";
const SET_PROFILE: &str =
    "UPDATE students SET year_group = ?2, form = ?3, born_on = ?4, active = ?5 WHERE id = ?1";
const DELETE_STUDENT: &str = "DELETE FROM students WHERE id = ?1";
const ADD_MEMBER: &str = "INSERT INTO class_members (class_id, student_id, joined_on)
    VALUES (?1, ?2, ?3) ON CONFLICT (class_id, student_id) DO NOTHING";
const REMOVE_MEMBER: &str = "DELETE FROM class_members WHERE class_id = ?1 AND student_id = ?2";
const MEMBERS: &str = "SELECT s.id AS id, s.name AS name, s.external_ref AS external_ref,
    s.created_at AS created_at, s.consent AS consent, s.year_group AS year_group,
    s.form AS form, s.born_on AS born_on, s.active AS active FROM students s
    JOIN class_members m ON m.student_id = s.id WHERE m.class_id = ?1 ORDER BY s.name, s.id";
// The same, for a session on ?2: members who had joined by then (a NULL day: always).
const MEMBERS_ON: &str = "SELECT s.id AS id, s.name AS name, s.external_ref AS external_ref,
    s.created_at AS created_at, s.consent AS consent, s.year_group AS year_group,
    s.form AS form, s.born_on AS born_on, s.active AS active FROM students s
    JOIN class_members m ON m.student_id = s.id
    WHERE m.class_id = ?1 AND (m.joined_on IS NULL OR m.joined_on <= ?2)
    ORDER BY s.name, s.id";
const CLASSES_OF: &str =
    "SELECT class_id FROM class_members WHERE student_id = ?1 ORDER BY class_id";
const INSERT_EMBEDDING: &str = "INSERT INTO embeddings
    (id, student_id, model, embedding, quality, thumbnail, created_at, figures, source, record_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const LEARNED: &str = "SELECT id, created_at FROM embeddings
    WHERE student_id = ?1 AND model = ?2 AND source IN ('review', 'door')
    ORDER BY created_at, id";
const DELETE_EMBEDDING: &str = "DELETE FROM embeddings WHERE id = ?1";
const UNLEARN: &str = "DELETE FROM embeddings WHERE record_id = ?1";
const SET_PHOTO: &str = "UPDATE embeddings SET photo_sha256 = ?2 WHERE id = ?1";
const HAS_PHOTO: &str = "SELECT 1 FROM embeddings WHERE student_id = ?1 AND photo_sha256 = ?2";
const SELECT_EMBEDDINGS: &str = "SELECT id, model, embedding, quality, created_at, active
    FROM embeddings WHERE student_id = ?1 ORDER BY created_at, id";
// Every active template of model ?1 of the active students whose consent is ?2, each
// student's oldest first.
const MATCHABLE_TEMPLATES: &str = "SELECT e.id AS id, e.student_id AS student_id,
    e.embedding AS embedding FROM embeddings e JOIN students s ON s.id = e.student_id
    WHERE e.model = ?1 AND e.active = 1 AND s.active = 1 AND s.consent = ?2
    ORDER BY e.student_id, e.created_at, e.id";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Class {
    pub id: ClassId,
    pub name: String,
    pub teacher_id: Option<Uuid>,
    pub created_at: UnixMillis,
    /// The school's short code for the class (`7B/Ma2`), unique in the school, as its
    /// timetable and information system write it; `None` when it has none.
    pub code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Student {
    pub id: StudentId,
    pub name: String,
    pub external_ref: Option<String>,
    pub created_at: UnixMillis,
    /// Where their consent to face recognition stands (a new student is
    /// [`consent::State::NotAsked`]); changed only through `rollcall_school::consent`, which keeps the
    /// history.
    pub consent: consent::State,
    #[serde(flatten)]
    pub profile: Profile,
}

/// What the school says of a student beyond their name and its reference for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    /// As the school writes it: `Year 9`, `9`, `Grade 4`.
    pub year_group: Option<String>,
    /// The form, tutor group or department.
    pub form: Option<String>,
    pub born_on: Option<NaiveDate>,
    /// An inactive student stays on the roll with their classes and history, but is not
    /// expected at lessons and is in no door unit's gallery (long illness, a suspended place,
    /// not yet started).
    pub active: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            year_group: None,
            form: None,
            born_on: None,
            active: true,
        }
    }
}

/// A change to a [`Profile`]: each field `None` is left as it is (a PATCH that does not name
/// it, a roster file without its column); `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub year_group: Option<Option<String>>,
    pub form: Option<Option<String>>,
    pub born_on: Option<Option<NaiveDate>>,
    pub active: Option<bool>,
}

impl ProfileChange {
    /// `profile` with this change made.
    pub fn applied_to(&self, profile: &Profile) -> Profile {
        Profile {
            year_group: self
                .year_group
                .clone()
                .unwrap_or(profile.year_group.clone()),
            form: self.form.clone().unwrap_or(profile.form.clone()),
            born_on: self.born_on.unwrap_or(profile.born_on),
            active: self.active.unwrap_or(profile.active),
        }
    }

    /// What the change makes different in `from`, in words (`year group 9 → 10`), for a
    /// roster import's plan.
    pub fn described(&self, from: &Profile) -> Vec<String> {
        let to = self.applied_to(from);
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        let mut said = Vec::new();
        if to.year_group != from.year_group {
            let (a, b) = (shown(&from.year_group), shown(&to.year_group));
            said.push(format!("year group {a} → {b}"));
        }
        if to.form != from.form {
            said.push(format!("form {} → {}", shown(&from.form), shown(&to.form)));
        }
        if to.born_on != from.born_on {
            let day = |d: Option<NaiveDate>| shown(&d.map(|d| d.to_string()));
            said.push(format!(
                "date of birth {} → {}",
                day(from.born_on),
                day(to.born_on)
            ));
        }
        if to.active != from.active {
            said.push(
                if to.active {
                    "active again"
                } else {
                    "made inactive"
                }
                .into(),
            );
        }
        said
    }
}

/// One enrolment embedding. The thumbnail is stored but not listed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Enrolment {
    pub id: Uuid,
    pub model: String,
    pub embedding: Embedding,
    pub quality: Option<f64>,
    pub created_at: UnixMillis,
    /// A template switched off (a bad photo) is kept but matched against nowhere.
    pub active: bool,
}

/// Where a gallery template came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An enrolment photo.
    Photo,
    /// The embeddings endpoint.
    Api,
    /// A door unit's record that a teacher approved or reassigned.
    Review,
    /// A door unit's Confident capture, close to the student it named.
    Door,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Photo => "photo",
            Source::Api => "api",
            Source::Review => "review",
            Source::Door => "door",
        }
    }
}

/// A new enrolment embedding: a photo's, the API's, or one learned from a record.
#[derive(Debug)]
pub struct NewEnrolment<'a> {
    pub student: StudentId,
    pub model: &'a str,
    pub embedding: &'a Embedding,
    pub quality: Option<f64>,
    pub thumbnail: Option<&'a [u8]>,
    /// Quality figures of a photo enrolment, as JSON.
    pub figures: Option<String>,
    pub source: Source,
    /// The record a learned template came from.
    pub record: Option<RecordId>,
    pub at: UnixMillis,
}

fn class_row(r: &Row) -> ReadResult<Class> {
    let teacher: Option<String> = r.get("teacher_id")?;
    Ok(Class {
        id: id_col(r, "id")?,
        name: r.get("name")?,
        teacher_id: teacher.and_then(|t| t.parse().ok()),
        created_at: r.get("created_at")?,
        code: r.get("code")?,
    })
}

fn student_row(r: &Row) -> ReadResult<Student> {
    Ok(Student {
        id: id_col(r, "id")?,
        name: r.get("name")?,
        external_ref: r.get("external_ref")?,
        created_at: r.get("created_at")?,
        consent: consent::state_col(r, "consent")?,
        profile: Profile {
            year_group: r.get("year_group")?,
            form: r.get("form")?,
            born_on: r
                .get::<Option<String>>("born_on")?
                .and_then(|d| d.parse().ok()),
            active: r.get::<i64>("active")? != 0,
        },
    })
}

pub fn insert_class(sql: &dyn Sql, c: &Class) -> Result<(), StoreError> {
    code_is_free(sql, c)?;
    let teacher = c.teacher_id.map(|t| t.to_string());
    sql.execute(
        INSERT_CLASS,
        params![c.id.to_string(), c.name, teacher, c.created_at, c.code],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "class name"))?;
    Ok(())
}

pub fn update_class(sql: &dyn Sql, c: &Class) -> Result<(), StoreError> {
    code_is_free(sql, c)?;
    let teacher = c.teacher_id.map(|t| t.to_string());
    sql.execute(
        UPDATE_CLASS,
        params![c.id.to_string(), c.name, teacher, c.code],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "class name"))?;
    Ok(())
}

/// Refuses `c`'s code when another class has it, naming that class (the unique index would
/// only say that some constraint failed).
fn code_is_free(sql: &dyn Sql, c: &Class) -> Result<(), StoreError> {
    let Some(code) = &c.code else { return Ok(()) };
    match class_by_code(sql, code)? {
        Some(other) if other != c.id => Err(StoreError::Conflict(format!(
            "class code {code:?} is already {:?}'s",
            class(sql, other)?.name
        ))),
        _ => Ok(()),
    }
}

/// The class whose code is `code`, if one has it.
pub fn class_by_code(sql: &dyn Sql, code: &str) -> Result<Option<ClassId>, StoreError> {
    let rows = sql.query_map(CLASS_BY_CODE, params![code], |r| id_col(r, "id"))?;
    Ok(readable(rows, "class id")?.pop())
}

pub fn delete_class(sql: &dyn Sql, id: ClassId) -> Result<(), StoreError> {
    sql.execute(DELETE_CLASS, params![id.to_string()])?;
    Ok(())
}

pub fn classes(sql: &dyn Sql) -> Result<Vec<Class>, StoreError> {
    let rows = sql.query_map(&format!("{SELECT_CLASS} ORDER BY name"), &[], class_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

pub fn class(sql: &dyn Sql, id: ClassId) -> Result<Class, StoreError> {
    let query = format!("{SELECT_CLASS} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "class", class_row)
}

pub fn insert_student(sql: &dyn Sql, s: &Student) -> Result<(), StoreError> {
    sql.execute(
        INSERT_STUDENT,
        params![
            s.id.to_string(),
            s.name,
            s.external_ref,
            s.created_at,
            s.consent.as_str(),
            s.profile.year_group,
            s.profile.form,
            s.profile.born_on.map(|d| d.to_string()),
            i64::from(s.profile.active),
        ],
    )?;
    Ok(())
}

pub fn update_student(sql: &dyn Sql, s: &Student) -> Result<(), StoreError> {
    sql.execute(
        UPDATE_STUDENT,
        params![s.id.to_string(), s.name, s.external_ref],
    )?;
    set_profile(sql, s.id, &s.profile)
}

/// Sets what the school says of `student` beyond their name.
pub fn set_profile(sql: &dyn Sql, student: StudentId, p: &Profile) -> Result<(), StoreError> {
    sql.execute(
        SET_PROFILE,
        params![
            student.to_string(),
            p.year_group,
            p.form,
            p.born_on.map(|d| d.to_string()),
            i64::from(p.active)
        ],
    )?;
    Ok(())
}

/// Deletes a student with their embeddings and memberships (cascades).
pub fn delete_student(sql: &dyn Sql, id: StudentId) -> Result<(), StoreError> {
    sql.execute(DELETE_STUDENT, params![id.to_string()])?;
    Ok(())
}

pub fn students(sql: &dyn Sql) -> Result<Vec<Student>, StoreError> {
    let query = format!("{SELECT_STUDENT} ORDER BY name, id");
    let rows = sql.query_map(&query, &[], student_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Which of `ids` are students on the roster, with where their consent stands: one query per
/// [`ROSTER_CHUNK`] ids (a batch of records asks for all its candidates at once).
pub fn on_roster(
    sql: &dyn Sql,
    ids: impl IntoIterator<Item = StudentId>,
) -> Result<HashMap<StudentId, consent::State>, StoreError> {
    let ids: BTreeSet<String> = ids.into_iter().map(|id| id.to_string()).collect();
    let ids: Vec<String> = ids.into_iter().collect();
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROSTER_CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("?{n}")).collect();
        let query = format!(
            "SELECT id, consent FROM students WHERE id IN ({})",
            marks.join(", ")
        );
        let params: Vec<&dyn Param> = chunk.iter().map(|id| id as &dyn Param).collect();
        let rows = sql.query_map(&query, &params, |r| {
            Ok((id_col(r, "id")?, consent::state_col(r, "consent")?))
        })?;
        for row in rows {
            let (id, state) = row?;
            found.insert(id, state);
        }
    }
    Ok(found)
}

/// The most ids [`on_roster`] puts in one query, well under either engine's limit on
/// parameters.
const ROSTER_CHUNK: usize = 500;

pub fn student(sql: &dyn Sql, id: StudentId) -> Result<Student, StoreError> {
    let query = format!("{SELECT_STUDENT} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "student", student_row)
}

/// Notes when students left their last class (and forgets it for those back in one).
pub fn note_leavers(sql: &dyn Sql, now: UnixMillis) -> Result<(), StoreError> {
    sql.execute(
        "UPDATE students SET left_at = ?1 WHERE left_at IS NULL
         AND id NOT IN (SELECT student_id FROM class_members)",
        params![now],
    )?;
    sql.execute(
        "UPDATE students SET left_at = NULL WHERE left_at IS NOT NULL
         AND id IN (SELECT student_id FROM class_members)",
        &[],
    )?;
    Ok(())
}

/// Deletes the enrolment photos and templates of students who left before `left_before`.
pub fn purge_leavers_faces(sql: &dyn Sql, left_before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(
        "DELETE FROM embeddings WHERE student_id IN
         (SELECT id FROM students WHERE left_at < ?1)",
        params![left_before],
    )
}

/// Puts `student` in `class` from the school day `joined` (`None`: since before the register
/// began, as memberships made before days were kept). A member already is left as they were.
pub fn add_member(
    sql: &dyn Sql,
    class: ClassId,
    student: StudentId,
    joined: Option<NaiveDate>,
) -> Result<(), StoreError> {
    let joined = joined.map(|d| d.format("%Y-%m-%d").to_string());
    sql.execute(
        ADD_MEMBER,
        params![class.to_string(), student.to_string(), joined],
    )?;
    Ok(())
}

pub fn remove_member(sql: &dyn Sql, class: ClassId, student: StudentId) -> Result<(), StoreError> {
    sql.execute(
        REMOVE_MEMBER,
        params![class.to_string(), student.to_string()],
    )?;
    Ok(())
}

pub fn members(sql: &dyn Sql, class: ClassId) -> Result<Vec<Student>, StoreError> {
    let rows = sql.query_map(MEMBERS, params![class.to_string()], student_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// The members of `class` who had joined it by the school day `day`: whom its session that day
/// expects.
pub fn members_on(
    sql: &dyn Sql,
    class: ClassId,
    day: NaiveDate,
) -> Result<Vec<Student>, StoreError> {
    let day = day.format("%Y-%m-%d").to_string();
    let rows = sql.query_map(MEMBERS_ON, params![class.to_string(), day], student_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

pub fn classes_of(sql: &dyn Sql, student: StudentId) -> Result<Vec<ClassId>, StoreError> {
    let rows = sql.query_map(CLASSES_OF, params![student.to_string()], |r| {
        id_col(r, "class_id")
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Stores a template of `e.student`, who must have consent given: no path keeps a face
/// without it ([`StoreError::Conflict`] otherwise; `rollcall_school::consent` says so in the caller's
/// terms first).
pub fn insert_enrolment(sql: &dyn Sql, e: &NewEnrolment<'_>) -> Result<Uuid, StoreError> {
    let state = consent::state_of(sql, e.student)?;
    if state != consent::State::Given {
        let state = state.as_str();
        return Err(StoreError::Conflict(format!(
            "student {}'s consent is {state}: no face of theirs is kept",
            e.student
        )));
    }
    let id = Uuid::now_v7();
    sql.execute(
        INSERT_EMBEDDING,
        params![
            id.to_string(),
            e.student.to_string(),
            e.model,
            seal_embedding(sql, e.embedding),
            e.quality,
            e.thumbnail.map(|jpeg| seal(sql, Purpose::Crop, jpeg)),
            e.at,
            e.figures,
            e.source.as_str(),
            e.record.map(|r| r.to_string()),
        ],
    )?;
    Ok(id)
}

/// The templates learned for `student` under `model` (from reviews and door captures), oldest
/// first: `(id, created_at)`.
pub fn learned(
    sql: &dyn Sql,
    student: StudentId,
    model: &str,
) -> Result<Vec<(Uuid, UnixMillis)>, StoreError> {
    let rows = sql.query_map(LEARNED, params![student.to_string(), model], |r| {
        Ok((id_col(r, "id")?, r.get("created_at")?))
    })?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// Notes the SHA-256 (hex) of the photo the enrolment `face` came from.
pub fn set_photo(sql: &dyn Sql, face: Uuid, sha256: &str) -> Result<(), StoreError> {
    sql.execute(SET_PHOTO, params![face.to_string(), sha256])?;
    Ok(())
}

/// Whether `student` has an enrolment from the photo whose SHA-256 (hex) is `sha256`.
pub fn has_photo(sql: &dyn Sql, student: StudentId, sha256: &str) -> Result<bool, StoreError> {
    let rows = sql.rows(HAS_PHOTO, params![student.to_string(), sha256])?;
    Ok(!rows.is_empty())
}

/// Deletes the faces the gallery learned from `record`. Returns how many.
pub fn unlearn(sql: &dyn Sql, record: RecordId) -> Result<usize, StoreError> {
    sql.execute(UNLEARN, params![record.to_string()])
}

pub fn delete_enrolment(sql: &dyn Sql, id: Uuid) -> Result<(), StoreError> {
    sql.execute(DELETE_EMBEDDING, params![id.to_string()])?;
    Ok(())
}

/// Every enrolment embedding of `student`, oldest first; a row whose embedding is not one
/// descriptor long is logged and left out.
/// Every active template of `model` of the active students whose consent is `consent`, in
/// one read: `(student, embedding)`, each student's oldest first.
pub fn templates_of(
    sql: &dyn Sql,
    model: &str,
    consent: consent::State,
) -> Result<Vec<(StudentId, Embedding)>, StoreError> {
    let rows = sql.query_map(MATCHABLE_TEMPLATES, params![model, consent.as_str()], |r| {
        let id: Uuid = id_col(r, "id")?;
        let student: StudentId = id_col(r, "student_id")?;
        Ok((
            student,
            embedding_col(sql, r, "embedding", &format!("enrolment {id}"))?,
        ))
    })?;
    readable(rows, "enrolment")
}

pub fn enrolments(sql: &dyn Sql, student: StudentId) -> Result<Vec<Enrolment>, StoreError> {
    let rows = sql.query_map(SELECT_EMBEDDINGS, params![student.to_string()], |r| {
        let id: Uuid = id_col(r, "id")?;
        Ok(Enrolment {
            id,
            model: r.get("model")?,
            embedding: embedding_col(sql, r, "embedding", &format!("enrolment {id}"))?,
            quality: r.get("quality")?,
            created_at: r.get("created_at")?,
            active: r.get::<i64>("active")? != 0,
        })
    })?;
    readable(rows, "enrolment")
}

#[cfg(test)]
pub(super) mod tests;
