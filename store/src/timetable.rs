//! The timetable (which class meets in which room when) and the school calendar (terms and
//! holidays). Sessions are derived from these by `attendance`; nothing here knows about marks.
//!
//! A slot runs from `valid_from` to `valid_until` (both optional, inclusive): a change to the
//! timetable takes effect from a date by ending the old slot the day before and starting a new
//! one ([`split_slot`]), so the sessions before that date stay as they were.

use chrono::NaiveDate;
use rollcall_shared::ClassId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::columns::id_col;
use super::error::StoreError;
use super::sql::Column;
use super::sql::{Param, ReadResult, Row, Sql, params};

const INSERT_SLOT: &str = "INSERT INTO timetable
    (id, class_id, room, weekday, start_minute, end_minute, valid_from, valid_until)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const UPDATE_SLOT: &str = "UPDATE timetable SET class_id = ?2, room = ?3, weekday = ?4,
    start_minute = ?5, end_minute = ?6, valid_from = ?7, valid_until = ?8 WHERE id = ?1";
const END_SLOT: &str = "UPDATE timetable SET valid_until = ?2 WHERE id = ?1";
const DELETE_SLOT: &str = "DELETE FROM timetable WHERE id = ?1";
const SELECT_SLOT: &str = "SELECT id, class_id, room, weekday, start_minute, end_minute,
    valid_from, valid_until FROM timetable";
const RUNNING_SINCE: &str = "(valid_until IS NULL OR valid_until >= ?2)";
const ORDER_SLOTS: &str = "ORDER BY weekday, start_minute, room, id";
const INSERT_TERM: &str =
    "INSERT INTO terms (id, name, first_day, last_day) VALUES (?1, ?2, ?3, ?4)";
const UPDATE_TERM: &str = "UPDATE terms SET name = ?2, first_day = ?3, last_day = ?4 WHERE id = ?1";
const DELETE_TERM: &str = "DELETE FROM terms WHERE id = ?1";
const SELECT_TERM: &str = "SELECT id, name, first_day, last_day FROM terms";
const ORDER_TERMS: &str = "ORDER BY first_day";
const INSERT_HOLIDAY: &str = "INSERT INTO holidays (day, name) VALUES (?1, ?2)";
const UPDATE_HOLIDAY: &str = "UPDATE holidays SET name = ?2 WHERE day = ?1";
const DELETE_HOLIDAY: &str = "DELETE FROM holidays WHERE day = ?1";
const SELECT_HOLIDAY: &str = "SELECT day, name FROM holidays";
const ORDER_HOLIDAYS: &str = "ORDER BY day";

/// One weekly meeting of a class, in the site's local time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub id: Uuid,
    pub class_id: ClassId,
    pub room: String,
    /// ISO weekday, 1 = Monday.
    pub weekday: u8,
    pub start_minute: u16,
    pub end_minute: u16,
    /// The first day the slot runs; `None`: since before the register began.
    pub valid_from: Option<NaiveDate>,
    /// The last day it runs; `None`: until changed.
    pub valid_until: Option<NaiveDate>,
}

impl Slot {
    /// Whether the slot is in the timetable on `day` (whatever the weekday).
    pub fn runs_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_until.is_none_or(|u| day <= u)
    }
}

/// A school term: sessions happen only inside a term (when any term is defined).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    #[serde(default = "Uuid::now_v7")]
    pub id: Uuid,
    pub name: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// A day without sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub day: NaiveDate,
    pub name: String,
}

fn slot_row(r: &Row) -> ReadResult<Slot> {
    SlotColumns::of(r)?.read(r)
}

/// Where the columns of [`SELECT_SLOT`] are, found by name once per query: a by-name `get`
/// scans the column names each time, and the gallery pusher reads every slot of a room for
/// each door unit it plans for.
struct SlotColumns {
    id: usize,
    class_id: usize,
    room: usize,
    weekday: usize,
    start_minute: usize,
    end_minute: usize,
    valid_from: usize,
    valid_until: usize,
}

impl SlotColumns {
    fn of(row: &Row) -> ReadResult<Self> {
        let at = |name: &str| name.index(row);
        Ok(Self {
            id: at("id")?,
            class_id: at("class_id")?,
            room: at("room")?,
            weekday: at("weekday")?,
            start_minute: at("start_minute")?,
            end_minute: at("end_minute")?,
            valid_from: at("valid_from")?,
            valid_until: at("valid_until")?,
        })
    }

    fn read(&self, r: &Row) -> ReadResult<Slot> {
        Ok(Slot {
            id: id_col(r, self.id)?,
            class_id: id_col(r, self.class_id)?,
            room: r.get(self.room)?,
            weekday: r.get(self.weekday)?,
            start_minute: r.get(self.start_minute)?,
            end_minute: r.get(self.end_minute)?,
            valid_from: optional_date_col(r, self.valid_from)?,
            valid_until: optional_date_col(r, self.valid_until)?,
        })
    }
}

/// Every slot `query` selects with `params`.
fn slots(sql: &dyn Sql, query: &str, params: &[&dyn Param]) -> Result<Vec<Slot>, StoreError> {
    let rows = sql.rows(query, params)?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns = SlotColumns::of(first)?;
    Ok(rows
        .iter()
        .map(|r| columns.read(r))
        .collect::<Result<_, _>>()?)
}

pub fn insert_slot(sql: &dyn Sql, s: &Slot) -> Result<(), StoreError> {
    with_slot_params(s, |p| sql.execute(INSERT_SLOT, p))?;
    Ok(())
}

pub fn update_slot(sql: &dyn Sql, s: &Slot) -> Result<(), StoreError> {
    match with_slot_params(s, |p| sql.execute(UPDATE_SLOT, p))? {
        0 => Err(StoreError::NotFound("timetable slot")),
        _ => Ok(()),
    }
}

/// Calls `f` with the parameters of [`INSERT_SLOT`] and [`UPDATE_SLOT`] for `s`.
fn with_slot_params<T>(s: &Slot, f: impl FnOnce(&[&dyn Param]) -> T) -> T {
    let (id, class_id) = (s.id.to_string(), s.class_id.to_string());
    let valid_from = s.valid_from.map(|d| d.to_string());
    let valid_until = s.valid_until.map(|d| d.to_string());
    f(params![
        id,
        class_id,
        s.room,
        s.weekday,
        s.start_minute,
        s.end_minute,
        valid_from,
        valid_until
    ])
}

/// Ends `old` on the day before `new` starts (`new.valid_from`, which a replacement has) and
/// adds `new`: the change takes effect from that day, the sessions before it keep `old`.
pub fn split_slot(sql: &dyn Sql, old: Uuid, new: &Slot) -> Result<(), StoreError> {
    let last = new.valid_from.and_then(|d| d.pred_opt());
    end_slot(sql, old, last.unwrap_or(NaiveDate::MIN))?;
    insert_slot(sql, new)
}

/// The slot `id` runs through `last` and no further.
pub fn end_slot(sql: &dyn Sql, id: Uuid, last: NaiveDate) -> Result<(), StoreError> {
    match sql.execute(END_SLOT, params![id.to_string(), last.to_string()])? {
        0 => Err(StoreError::NotFound("timetable slot")),
        _ => Ok(()),
    }
}

pub fn delete_slot(sql: &dyn Sql, id: Uuid) -> Result<(), StoreError> {
    sql.execute(DELETE_SLOT, params![id.to_string()])?;
    Ok(())
}

pub fn slot(sql: &dyn Sql, id: Uuid) -> Result<Slot, StoreError> {
    let query = format!("{SELECT_SLOT} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "timetable slot", slot_row)
}

pub fn all_slots(sql: &dyn Sql) -> Result<Vec<Slot>, StoreError> {
    slots(sql, &format!("{SELECT_SLOT} {ORDER_SLOTS}"), &[])
}

/// The slots in `room` still running on `day` or later.
pub fn slots_in_room(sql: &dyn Sql, room: &str, day: NaiveDate) -> Result<Vec<Slot>, StoreError> {
    let query = format!("{SELECT_SLOT} WHERE room = ?1 AND {RUNNING_SINCE} {ORDER_SLOTS}");
    slots(sql, &query, params![room, day.to_string()])
}

pub fn slots_of_class(sql: &dyn Sql, class: ClassId) -> Result<Vec<Slot>, StoreError> {
    let query = format!("{SELECT_SLOT} WHERE class_id = ?1 {ORDER_SLOTS}");
    slots(sql, &query, params![class.to_string()])
}

pub fn insert_term(sql: &dyn Sql, t: &Term) -> Result<(), StoreError> {
    with_term_params(t, |p| sql.execute(INSERT_TERM, p))
        .map_err(|e| StoreError::conflict_on_unique(e, "a term with this id"))?;
    Ok(())
}

pub fn update_term(sql: &dyn Sql, t: &Term) -> Result<(), StoreError> {
    match with_term_params(t, |p| sql.execute(UPDATE_TERM, p))? {
        0 => Err(StoreError::NotFound("term")),
        _ => Ok(()),
    }
}

pub fn delete_term(sql: &dyn Sql, id: Uuid) -> Result<(), StoreError> {
    match sql.execute(DELETE_TERM, params![id.to_string()])? {
        0 => Err(StoreError::NotFound("term")),
        _ => Ok(()),
    }
}

/// Calls `f` with the parameters of [`INSERT_TERM`] and [`UPDATE_TERM`] for `t`.
fn with_term_params<T>(t: &Term, f: impl FnOnce(&[&dyn Param]) -> T) -> T {
    let (id, first_day, last_day) = (
        t.id.to_string(),
        t.first_day.to_string(),
        t.last_day.to_string(),
    );
    f(params![id, t.name, first_day, last_day])
}

fn term_row(r: &Row) -> ReadResult<Term> {
    Ok(Term {
        id: id_col(r, "id")?,
        name: r.get("name")?,
        first_day: date_col(r, "first_day")?,
        last_day: date_col(r, "last_day")?,
    })
}

pub fn term(sql: &dyn Sql, id: Uuid) -> Result<Term, StoreError> {
    let query = format!("{SELECT_TERM} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "term", term_row)
}

pub fn terms(sql: &dyn Sql) -> Result<Vec<Term>, StoreError> {
    let rows = sql.query_map(&format!("{SELECT_TERM} {ORDER_TERMS}"), &[], term_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

pub fn insert_holiday(sql: &dyn Sql, h: &Holiday) -> Result<(), StoreError> {
    sql.execute(INSERT_HOLIDAY, params![h.day.to_string(), h.name])
        .map_err(|e| StoreError::conflict_on_unique(e, "a holiday on this day"))?;
    Ok(())
}

pub fn update_holiday(sql: &dyn Sql, h: &Holiday) -> Result<(), StoreError> {
    match sql.execute(UPDATE_HOLIDAY, params![h.day.to_string(), h.name])? {
        0 => Err(StoreError::NotFound("holiday")),
        _ => Ok(()),
    }
}

pub fn delete_holiday(sql: &dyn Sql, day: NaiveDate) -> Result<(), StoreError> {
    match sql.execute(DELETE_HOLIDAY, params![day.to_string()])? {
        0 => Err(StoreError::NotFound("holiday")),
        _ => Ok(()),
    }
}

fn holiday_row(r: &Row) -> ReadResult<Holiday> {
    Ok(Holiday {
        day: date_col(r, "day")?,
        name: r.get("name")?,
    })
}

pub fn holiday(sql: &dyn Sql, day: NaiveDate) -> Result<Holiday, StoreError> {
    let query = format!("{SELECT_HOLIDAY} WHERE day = ?1");
    sql.query_one(&query, params![day.to_string()], "holiday", holiday_row)
}

pub fn holidays(sql: &dyn Sql) -> Result<Vec<Holiday>, StoreError> {
    let rows = sql.query_map(
        &format!("{SELECT_HOLIDAY} {ORDER_HOLIDAYS}"),
        &[],
        holiday_row,
    )?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

fn date_col(r: &Row, col: impl Column) -> ReadResult<NaiveDate> {
    id_col(r, col)
}

fn optional_date_col(r: &Row, col: impl Column) -> ReadResult<Option<NaiveDate>> {
    match r.get::<Option<String>>(col)? {
        None => Ok(None),
        Some(_) => date_col(r, col).map(Some),
    }
}

#[cfg(test)]
pub(super) mod tests;
