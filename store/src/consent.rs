//! Consent to recognise a student's face: the state each student is in (a column of
//! `students`, read wherever faces are used), and every change to it with who said so and the
//! signed form's reference (`consent_changes`, never updated). The rules — what a state allows,
//! what a change must say, what it erases — are `rollcall_school::consent`'s; this module is their SQL.

use std::collections::HashMap;

use chrono::NaiveDate;
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::{Deserialize, Serialize};

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const SELECT_STATE: &str = "SELECT consent FROM students WHERE id = ?1";
const SET_STATE: &str = "UPDATE students SET consent = ?2 WHERE id = ?1";
const INSERT_CHANGE: &str = "INSERT INTO consent_changes
    (student_id, state, by_whom, signed_on, reference, note, recorded_by, recorded_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const HISTORY: &str = "SELECT student_id, state, by_whom, signed_on, reference, note,
    recorded_by, recorded_at FROM consent_changes WHERE student_id = ?1 ORDER BY id";
const IN_CLASS: &str = "SELECT s.id AS id, s.consent AS consent FROM students s
    JOIN class_members m ON m.student_id = s.id WHERE m.class_id = ?1";
const ERASE_TEMPLATES: &str = "DELETE FROM embeddings WHERE student_id = ?1";
/// Per class and state: students still at school, and how many of them have faces held.
const COVERAGE: &str = "SELECT c.id AS class_id, c.name AS class_name, s.consent AS consent,
    count(*) AS students,
    sum(CASE WHEN EXISTS (SELECT 1 FROM embeddings e WHERE e.student_id = s.id)
        THEN 1 ELSE 0 END) AS with_faces
    FROM classes c JOIN class_members m ON m.class_id = c.id JOIN students s ON s.id = m.student_id
    WHERE s.left_at IS NULL
    GROUP BY c.id, c.name, s.consent ORDER BY c.name, c.id";

/// Where a student's consent stands. Only [`State::Given`] lets the hub hold, learn or send
/// their face.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Nobody has asked the family yet (every student at first).
    #[default]
    NotAsked,
    /// The consent form went home; no answer yet.
    Requested,
    /// A parent consented in writing, and the student does not object.
    Given,
    /// A parent said no.
    Refused,
    /// A parent withdrew consent given before.
    Withdrawn,
    /// The student objects (overriding any parent's consent).
    Objected,
}

impl State {
    pub const ALL: [State; 6] = [
        State::NotAsked,
        State::Requested,
        State::Given,
        State::Refused,
        State::Withdrawn,
        State::Objected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::NotAsked => "not_asked",
            State::Requested => "requested",
            State::Given => "given",
            State::Refused => "refused",
            State::Withdrawn => "withdrawn",
            State::Objected => "objected",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One change of a student's consent, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub student: StudentId,
    pub state: State,
    /// Who gave, refused, withdrew or objected ("Jane Doe (mother)", "the student").
    pub by: Option<String>,
    /// The date on the signed form.
    pub signed_on: Option<NaiveDate>,
    /// The signed form's reference in the school's files.
    pub reference: Option<String>,
    pub note: Option<String>,
    /// The admin who recorded it (`user:<id>`, or the roster import).
    pub recorded_by: String,
    pub recorded_at: UnixMillis,
}

/// One class's students by consent state (students who left are not counted).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassCoverage {
    pub class_id: ClassId,
    pub class_name: String,
    pub students: u64,
    /// Students in each state; every state is present.
    pub by_state: HashMap<State, u64>,
    /// Students whose faces the hub holds though their consent is not given (from before
    /// consent was recorded): they are sent to no door unit, and wait for an answer.
    pub faces_without_consent: u64,
}

pub(super) fn state_col(r: &Row, col: &str) -> ReadResult<State> {
    let text: String = r.get(col)?;
    State::parse(&text).ok_or_else(|| r.malformed(col, format!("bad consent state {text:?}")))
}

/// `student`'s state; [`StoreError::NotFound`] when there is no such student.
pub fn state_of(sql: &dyn Sql, student: StudentId) -> Result<State, StoreError> {
    let state = sql.query_opt(SELECT_STATE, params![student.to_string()], |r| {
        state_col(r, "consent")
    })?;
    state.ok_or(StoreError::NotFound("student"))
}

/// Records `change` in the history and makes it the student's state.
pub fn record(sql: &dyn Sql, change: &Change) -> Result<(), StoreError> {
    let student = change.student.to_string();
    let state = change.state.as_str();
    if sql.execute(SET_STATE, params![student, state])? == 0 {
        return Err(StoreError::NotFound("student"));
    }
    let signed_on = change.signed_on.map(|d| d.to_string());
    sql.execute(
        INSERT_CHANGE,
        params![
            student,
            state,
            change.by,
            signed_on,
            change.reference,
            change.note,
            change.recorded_by,
            change.recorded_at
        ],
    )?;
    Ok(())
}

/// Every change of `student`'s consent, oldest first.
pub fn history(sql: &dyn Sql, student: StudentId) -> Result<Vec<Change>, StoreError> {
    let rows = sql.query_map(HISTORY, params![student.to_string()], |r| {
        let signed_on: Option<String> = r.get("signed_on")?;
        Ok(Change {
            student: id_col(r, "student_id")?,
            state: state_col(r, "state")?,
            by: r.get("by_whom")?,
            signed_on: signed_on.and_then(|d| d.parse().ok()),
            reference: r.get("reference")?,
            note: r.get("note")?,
            recorded_by: r.get("recorded_by")?,
            recorded_at: r.get("recorded_at")?,
        })
    })?;
    readable(rows, "consent change")
}

/// The state of each student in `class`.
pub fn in_class(sql: &dyn Sql, class: ClassId) -> Result<HashMap<StudentId, State>, StoreError> {
    let rows = sql.query_map(IN_CLASS, params![class.to_string()], |r| {
        Ok((id_col(r, "id")?, state_col(r, "consent")?))
    })?;
    Ok(readable(rows, "student's consent")?.into_iter().collect())
}

/// Deletes every template (and its enrolment crop) of `student`. Returns how many.
pub fn erase_templates(sql: &dyn Sql, student: StudentId) -> Result<usize, StoreError> {
    sql.execute(ERASE_TEMPLATES, params![student.to_string()])
}

/// Consent coverage of every class with students, by name.
pub fn coverage(sql: &dyn Sql) -> Result<Vec<ClassCoverage>, StoreError> {
    let rows = sql.query_map(COVERAGE, params![], |r| {
        let count = |col| r.get::<i64>(col).map(|n| n.max(0) as u64);
        Ok((
            id_col::<ClassId>(r, "class_id")?,
            r.get::<String>("class_name")?,
            state_col(r, "consent")?,
            count("students")?,
            count("with_faces")?,
        ))
    })?;
    let mut classes: Vec<ClassCoverage> = Vec::new();
    for (class_id, class_name, state, students, with_faces) in readable(rows, "coverage")? {
        if classes.last().is_none_or(|c| c.class_id != class_id) {
            classes.push(ClassCoverage {
                class_id,
                class_name,
                students: 0,
                by_state: State::ALL.into_iter().map(|s| (s, 0)).collect(),
                faces_without_consent: 0,
            });
        }
        if let Some(class) = classes.last_mut() {
            class.students += students;
            *class.by_state.entry(state).or_default() += students;
            if state != State::Given {
                class.faces_without_consent += with_faces;
            }
        }
    }
    Ok(classes)
}

#[cfg(test)]
mod tests;
