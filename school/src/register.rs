//! Closing sessions: turning the live roster into the register. The register's rules; its SQL
//! is `rollcall_store::register`, its routes `rollcall_hub::http::register`; the hub's leader
//! calls [`close_due`] every `register.check_every_secs`.
//!
//! While a session is open its marks are computed from records and teachers' marks, so a
//! review changes them at once. `register.close_after_minutes` after it ends, the session is
//! closed: every student then in the class gets an entry with a code (from [`entry_code`]),
//! its source and the records that evidence it, and from then on it is read from the register,
//! never recomputed. Later changes to the timetable, the class, the calendar, records
//! (retention, erasure) do not reach it; only an amendment, which keeps what it replaces.
//!
//! The closer walks forward from the last day it finished (`register_progress`), so a hub
//! that was down closes the sessions it missed, late, and never skips one. Its first pass
//! starts from today: sessions before the register existed stay computed, as they were.
//!
//! A record can reach the hub after its session closed: a door unit that was offline sends
//! its outbox when it is back, a teacher reviews a face the next morning. When the entry is
//! still the automatic absence, [`admit_late`] amends it as the system, saying why; an entry
//! a person already amended is theirs and is left alone.

use rollcall_shared::{ModelId, UnixMillis};
use serde::Serialize;

use crate::attendance::{self, Rules, Session};
use crate::closed_set::{self, Naming};
use crate::principal::SYSTEM_USER;
use crate::review::ACCEPTED;
use crate::session_rosters::{Loaded, calendar, hhmm};
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::{Mark, Source};
use rollcall_store::register::{self, Amendment, ClosedSession, LateEvidence, NewEntry};
use rollcall_store::{Sql, StoreError, school, timetable};

/// Most days one pass walks (a hub off for longer catches up over several passes).
const MAX_DAYS_PER_PASS: usize = 400;

/// How far back a late record still amends an automatic absence: a door unit's outbox holds
/// a month, a review queue less.
const LATE_EVIDENCE_DAYS: u64 = 31;

/// The code a closed entry is written with, and its source, from its live roster line.
///
/// A record makes `/` (present) or `L` (late); a teacher's mark before closing makes the
/// default code of that mark; nothing at all makes `N`, "no reason yet provided", which the
/// school then amends to the reason it learns. A student there who left before the end
/// (`left_at`) is `LE` whichever made them present. The source says which of the three it was.
pub fn entry_code(
    source: Source,
    mark: Option<Mark>,
    left_at: Option<UnixMillis>,
) -> (&'static str, Source) {
    match (source, mark) {
        (Source::Override | Source::Record, Some(Mark::Present | Mark::Late))
            if left_at.is_some() =>
        {
            (register::LEFT_EARLY, source)
        }
        (Source::Override, Some(mark)) => (default_code(mark), Source::Override),
        (Source::Record, Some(Mark::Late)) => ("L", Source::Record),
        (Source::Record, _) => ("/", Source::Record),
        (Source::Override | Source::Closed | Source::Open, _) => ("N", Source::Closed),
    }
}

/// The codes of the reasons a family gives for an absence (ill, a medical or dental
/// appointment, religious observance, another authorised reason): a mark set by hand when the
/// office accepts the family's reason carries one, and the register is written with it.
pub const REASON_CODES: [&str; 4] = ["I", "M", "R", "C"];

/// `code` if it is one of [`REASON_CODES`].
pub fn reason_code(code: &str) -> Option<&'static str> {
    REASON_CODES.into_iter().find(|c| *c == code)
}

/// The code a teacher's plain mark stands for.
pub fn default_code(mark: Mark) -> &'static str {
    match mark {
        Mark::Present => "/",
        Mark::Late => "L",
        Mark::Excused => "C",
        Mark::Absent => "O",
        Mark::NotRequired => "X",
    }
}

/// A session just closed, as a webhook receiver sees it: ids and codes, never names.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Closed {
    pub slot_id: uuid::Uuid,
    pub day: chrono::NaiveDate,
    pub class_id: rollcall_shared::ClassId,
    pub room: String,
    pub starts_at: UnixMillis,
    pub ends_at: UnixMillis,
    pub entries: Vec<ClosedEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClosedEntry {
    pub student: rollcall_shared::StudentId,
    pub code: &'static str,
    pub source: Source,
}

/// Closes every session that ended more than `grace_ms` before `now` and is not closed yet,
/// from the day after the last finished one through today. Returns what it closed. With
/// `jointly` (the face model whose templates count), each lesson's cards are first named
/// together a last time (`crate::closed_set::lesson`).
pub fn close_due(
    conn: &dyn Sql,
    rules: &Rules,
    grace_ms: i64,
    now: UnixMillis,
    jointly: Option<&ModelId>,
) -> Result<Vec<Closed>, StoreError> {
    let today = rules.local_day(now);
    let slots = timetable::all_slots(conn)?;
    let calendar = calendar(conn)?;
    let Some(mut finished) = register::closed_through(conn)?.or_else(|| today.pred_opt()) else {
        return Ok(Vec::new());
    };
    let mut closed = Vec::new();
    let days = finished
        .iter_days()
        .skip(1)
        .take_while(|d| *d <= today)
        .take(MAX_DAYS_PER_PASS);
    let mut contiguous = true;
    for day in days {
        let mut all_closed = true;
        for session in attendance::sessions_on(day, &slots, &calendar) {
            if register::session(conn, session.slot.id, day)?.is_some() {
                continue;
            }
            if now.0 >= session.ends_at(rules).0.saturating_add(grace_ms) {
                if let Some(model) = jointly {
                    name_jointly(conn, &session, &Naming { rules, model, now });
                }
                closed.push(close(conn, &session, rules, now)?);
            } else {
                all_closed = false;
            }
        }
        // Today stays open to sessions added to it later; an earlier day is finished once
        // every one of its sessions is closed.
        contiguous &= all_closed && day < today;
        if contiguous {
            finished = day;
        }
    }
    register::set_closed_through(conn, finished)?;
    Ok(closed)
}

/// Names a lesson's cards together a last time before its register is written. A failure is
/// logged and the register written all the same: the cards then wait for a teacher.
fn name_jointly(conn: &dyn Sql, session: &Session, naming: &Naming<'_>) {
    if let Err(e) = conn.attempt(|sql| closed_set::lesson(sql, session, naming).map(drop)) {
        tracing::warn!(
            room = session.slot.room,
            day = %session.day,
            "the lesson's cards were not named together before closing: {e}"
        );
    }
}

/// Writes one session's register as its live roster stands at its end.
fn close(
    conn: &dyn Sql,
    session: &Session,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Closed, StoreError> {
    let loaded = Loaded::for_session(conn, session, rules)?;
    let ends_at = session.ends_at(rules);
    let rows = attendance::roster(session, rules, &loaded.evidence(), ends_at);
    let entries: Vec<NewEntry> = rows
        .into_iter()
        .zip(&loaded.students)
        .map(|(row, student)| {
            let given = row.code.as_deref().and_then(reason_code);
            let (code, source) = match (given, row.source, row.left_at) {
                (Some(code), Source::Override, None) => (code, Source::Override),
                _ => entry_code(row.source, row.mark, row.left_at),
            };
            NewEntry {
                student: row.student,
                student_name: student.name.clone(),
                code,
                source,
                first_seen_at: row.first_seen_at,
                evidence: loaded.records_of(row.student).collect(),
                reason: row.reason,
            }
        })
        .collect();
    let closed = ClosedSession {
        slot: session.slot.clone(),
        day: session.day,
        class_name: school::class(conn, session.slot.class_id)?.name,
        starts_at: session.starts_at(rules),
        ends_at,
        closed_at: now,
    };
    register::write(conn, &closed, &entries)?;
    tracing::info!(
        class = closed.class_name,
        room = closed.slot.room,
        day = %closed.day,
        students = entries.len(),
        "register closed"
    );
    for entry in &entries {
        for id in &entry.evidence {
            let _record = tracing::info_span!("record", %id).entered();
            let (student, code) = (entry.student, entry.code);
            tracing::info!(%student, code, day = %closed.day, "evidence of a register entry");
        }
    }
    Ok(Closed {
        slot_id: closed.slot.id,
        day: closed.day,
        class_id: closed.slot.class_id,
        room: closed.slot.room,
        starts_at: closed.starts_at,
        ends_at: closed.ends_at,
        entries: entries
            .iter()
            .map(|e| ClosedEntry {
                student: e.student,
                code: e.code,
                source: e.source,
            })
            .collect(),
    })
}

/// Amends, as the system, every automatic absence of the last [`LATE_EVIDENCE_DAYS`] that an
/// accepted record now contradicts. Returns the amendments made, with their entries.
pub fn admit_late(
    conn: &dyn Sql,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<(LateEvidence, Amendment)>, StoreError> {
    let since = rules
        .local_day(now)
        .checked_sub_days(chrono::Days::new(LATE_EVIDENCE_DAYS))
        .unwrap_or(chrono::NaiveDate::MIN);
    let early_ms = i64::from(rules.early_minutes) * 60_000;
    let mut done: Vec<(LateEvidence, Amendment)> = Vec::new();
    for late in register::late_evidence(conn, since, early_ms, ACCEPTED)? {
        let entry = (late.slot, late.day, late.student);
        if done
            .iter()
            .any(|(l, _)| (l.slot, l.day, l.student) == entry)
        {
            continue; // the earliest record already amended it
        }
        let amendment = late_amendment(&late, rules, now);
        register::amend(conn, entry, &amendment)?;
        audit::log(
            conn,
            Change {
                actor: SYSTEM_USER,
                action: "register.amend",
                target: format!("entry:{}:{}:{}", late.slot, late.day, late.student),
                before: None,
                after: Some(serde_json::json!(amendment)),
                at: now,
            },
        )?;
        let _record = tracing::info_span!("record", id = %late.record).entered();
        let (student, code) = (late.student, &amendment.code);
        tracing::info!(%student, code, day = %late.day, "arrived after the close: absence amended");
        done.push((late, amendment));
    }
    if !done.is_empty() {
        tracing::info!(
            entries = done.len(),
            "register: late records amended absences"
        );
    }
    Ok(done)
}

/// The amendment a late record makes: present, or late from `late_after_minutes` after the
/// start, as if it had arrived in time, with the reason saying when the door saw the student.
pub fn late_amendment(late: &LateEvidence, rules: &Rules, now: UnixMillis) -> Amendment {
    let late_from = UnixMillis(late.starts_at.0 + i64::from(rules.late_after_minutes) * 60_000);
    let code = if late.captured_at >= late_from {
        "L"
    } else {
        "/"
    };
    let seen = rules.zone.local(late.captured_at.0).minute;
    Amendment {
        code: code.to_owned(),
        reason: format!(
            "Seen at {} (record {}); the record reached the register after it closed",
            hhmm(seen),
            late.record
        ),
        by_user: SYSTEM_USER.to_owned(),
        by_name: "Rollcall".to_owned(),
        by_role: SYSTEM_USER.to_owned(),
        at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_take_their_code_from_how_the_mark_was_made() {
        assert_eq!(
            entry_code(Source::Record, Some(Mark::Present), None),
            ("/", Source::Record)
        );
        assert_eq!(
            entry_code(Source::Record, Some(Mark::Late), None),
            ("L", Source::Record)
        );
        assert_eq!(
            entry_code(Source::Override, Some(Mark::Excused), None),
            ("C", Source::Override)
        );
        assert_eq!(
            entry_code(Source::Override, Some(Mark::Absent), None),
            ("O", Source::Override)
        );
        assert_eq!(
            entry_code(Source::Closed, Some(Mark::Absent), None),
            ("N", Source::Closed)
        );
        let left = Some(UnixMillis(1));
        assert_eq!(
            entry_code(Source::Record, Some(Mark::Late), left),
            ("LE", Source::Record)
        );
        assert_eq!(
            entry_code(Source::Override, Some(Mark::Present), left),
            ("LE", Source::Override)
        );
        assert_eq!(
            entry_code(Source::Override, Some(Mark::Excused), left),
            ("C", Source::Override),
            "an excused student's leaving changes nothing"
        );
    }
}
