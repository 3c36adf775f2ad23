//! Pupils signed out at reception during the day and back in (issue 70): who, why (a medical
//! appointment, ill, collected by a named adult), when they left and came back, and who signed
//! each. Plain reads and writes; what a sign-out does to the register is
//! `rollcall_school::sign_outs`'.

use chrono::NaiveDate;
use rollcall_shared::{Direction, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sightings::Movement;
use super::sql::{ReadResult, Row, Sql, params};

/// Where reception's movements are said to happen, in the on-site list and a pupil's day.
pub const RECEPTION: &str = "Reception";

const INSERT: &str = "INSERT INTO sign_outs (id, student_id, day, out_at, reason, collected_by,
    note, signed_out_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const SELECT: &str = "SELECT id, student_id, day, out_at, reason, collected_by, note,
    signed_out_by, back_at, signed_in_by FROM sign_outs";
const SIGN_IN: &str = "UPDATE sign_outs SET back_at = ?2, signed_in_by = ?3
    WHERE id = ?1 AND back_at IS NULL";
const PURGE: &str = "DELETE FROM sign_outs WHERE out_at < ?1";

/// Why a pupil left during the day: each has the register's code of the same reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A medical or dental appointment.
    Medical,
    /// Ill: sent home.
    Ill,
    /// Collected by a named adult for another reason the school allows.
    Collected,
}

impl Reason {
    pub const ALL: [Reason; 3] = [Reason::Medical, Reason::Ill, Reason::Collected];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Medical => "medical",
            Reason::Ill => "ill",
            Reason::Collected => "collected",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One pupil's time away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignOut {
    pub id: Uuid,
    pub student: StudentId,
    pub day: NaiveDate,
    pub out_at: UnixMillis,
    pub reason: Reason,
    /// The adult who collected them (always for `collected`).
    pub collected_by: Option<String>,
    pub note: Option<String>,
    pub signed_out_by: String,
    pub back_at: Option<UnixMillis>,
    pub signed_in_by: Option<String>,
}

impl SignOut {
    /// Reception's movements of it: out, and back in when they came back.
    pub fn movements(&self) -> Vec<Movement> {
        let moved = |at, direction| Movement {
            student: self.student,
            at,
            room: RECEPTION.into(),
            direction: Some(direction),
        };
        let mut moves = vec![moved(self.out_at, Direction::Out)];
        moves.extend(self.back_at.map(|at| moved(at, Direction::In)));
        moves
    }
}

fn sign_out(row: &Row) -> ReadResult<SignOut> {
    let reason: String = row.get("reason")?;
    Ok(SignOut {
        id: id_col(row, "id")?,
        student: id_col(row, "student_id")?,
        day: id_col(row, "day")?,
        out_at: row.get("out_at")?,
        reason: Reason::parse(&reason)
            .ok_or_else(|| row.malformed("reason", format!("unknown reason {reason:?}")))?,
        collected_by: row.get("collected_by")?,
        note: row.get("note")?,
        signed_out_by: row.get("signed_out_by")?,
        back_at: row.get("back_at")?,
        signed_in_by: row.get("signed_in_by")?,
    })
}

pub fn insert(sql: &dyn Sql, s: &SignOut) -> Result<(), StoreError> {
    let p = params![
        s.id.to_string(),
        s.student.to_string(),
        s.day.to_string(),
        s.out_at,
        s.reason.as_str(),
        s.collected_by,
        s.note,
        s.signed_out_by
    ];
    sql.execute(INSERT, p)?;
    Ok(())
}

/// Notes them back; whether they were still out.
pub fn sign_in(sql: &dyn Sql, id: Uuid, at: UnixMillis, by: &str) -> Result<bool, StoreError> {
    Ok(sql.execute(SIGN_IN, params![id.to_string(), at, by])? == 1)
}

pub fn get(sql: &dyn Sql, id: Uuid) -> Result<SignOut, StoreError> {
    let query = format!("{SELECT} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "sign-out", sign_out)
}

/// The sign-outs of `day`, first out first.
pub fn on_day(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<SignOut>, StoreError> {
    let query = format!("{SELECT} WHERE day = ?1 ORDER BY out_at, id");
    readable(
        sql.query_map(&query, params![day.to_string()], sign_out)?,
        "sign-out",
    )
}

/// `student`'s sign-out not yet ended, on any day.
pub fn still_out(sql: &dyn Sql, student: StudentId) -> Result<Option<SignOut>, StoreError> {
    let query = format!("{SELECT} WHERE student_id = ?1 AND back_at IS NULL ORDER BY out_at DESC");
    let rows = readable(
        sql.query_map(&query, params![student.to_string()], sign_out)?,
        "sign-out",
    )?;
    Ok(rows.into_iter().next())
}

/// Reception's movements of `day`, oldest first, to merge with the doors'.
pub fn movements(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<Movement>, StoreError> {
    let mut moves: Vec<Movement> = on_day(sql, day)?
        .iter()
        .flat_map(SignOut::movements)
        .collect();
    moves.sort_by_key(|m| m.at);
    Ok(moves)
}

/// Deletes the sign-outs that began before `before`; how many.
pub fn purge(sql: &dyn Sql, before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![before])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};
    use crate::imports;

    #[test]
    fn a_pupil_signed_out_and_back_in_moves_out_and_in_at_reception() {
        each(|db| {
            let bo = write(db, |sql| {
                imports::insert_student(sql, "S2", "Bo", UnixMillis(1))
            })
            .unwrap();
            let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
            let out = SignOut {
                id: Uuid::now_v7(),
                student: bo,
                day,
                out_at: UnixMillis(1_000),
                reason: Reason::Medical,
                collected_by: Some("Mum".into()),
                note: Some("dentist".into()),
                signed_out_by: "user:rita".into(),
                back_at: None,
                signed_in_by: None,
            };
            write(db, |sql| insert(sql, &out)).unwrap();
            assert_eq!(read(db, |sql| still_out(sql, bo)), Some(out.clone()));
            assert!(
                write(db, |sql| sign_in(
                    sql,
                    out.id,
                    UnixMillis(5_000),
                    "user:rita"
                ))
                .unwrap()
            );
            assert!(
                !write(db, |sql| sign_in(
                    sql,
                    out.id,
                    UnixMillis(6_000),
                    "user:rita"
                ))
                .unwrap(),
                "back once"
            );
            assert_eq!(read(db, |sql| still_out(sql, bo)), None);
            let moves = read(db, |sql| movements(sql, day));
            assert_eq!(
                moves.iter().map(|m| (m.at, m.leaves())).collect::<Vec<_>>(),
                [(UnixMillis(1_000), true), (UnixMillis(5_000), false)]
            );
            assert_eq!(
                read(db, |sql| get(sql, out.id)).back_at,
                Some(UnixMillis(5_000))
            );
            assert_eq!(write(db, |sql| purge(sql, UnixMillis(2_000))).unwrap(), 1);
        });
    }
}
