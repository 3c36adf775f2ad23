//! Writing the register back to the school's MIS (issue 69): which marks the MIS should hold,
//! in whose codes, and how long to wait after a failed write. The hub's task
//! (`rollcall_hub::mis`) calls these and does the talking; the outbox is
//! [`rollcall_store::mis`].
//!
//! - **What is written**: each pupil's statutory day ([`crate::statutory`]), its AM and PM
//!   marks, as soon as either is decided (the deciding lesson's register has closed), and
//!   again whenever either changes: an amendment, a late arrival's evidence, a register
//!   closed later. [`read`] and [`put`] put the marks of the last `days_back` days into the outbox; a
//!   day whose marks are what the outbox holds is left alone, so a pass that finds nothing
//!   new writes nothing.
//! - **Newest wins**: the outbox keeps one row per pupil and day with a version; a write is
//!   recorded against the version it carried, and the MIS's copy is replaced whole (both
//!   sessions) each time, so an old write landing late is overwritten by the next.
//! - **Never doubled**: every try of a version carries the same key ([`write_key`]), and both
//!   connectors write by the mark's natural key (pupil, day, session), so a retry after a
//!   timeout replaces rather than adds.
//! - **Never lost, never forever**: a failure the MIS may get over (no answer, 429, 5xx, 401)
//!   is tried again after [`backoff`]; a refusal (unknown pupil, a code it does not allow, a
//!   closed period) or a mark Rollcall cannot send ([`Unsendable`]) is listed for the office
//!   with the reason and not tried again until the office says so.
//! - **Lessons too**: with `mis.lessons`, each pupil's mark in each closed lesson is put
//!   into the lessons' outbox the same way, and written to the MIS's lesson register.
//! - **Compared every night**: [`differences`] sets what the MIS holds for a day beside what
//!   Rollcall wrote; the office settles each difference by writing Rollcall's marks again, or
//!   by taking the MIS's into Rollcall's register ([`take_theirs`]: the lesson each session's
//!   mark was made from is amended, with the reason saying so).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use rollcall_shared::StudentId;
use rollcall_shared::UnixMillis;
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::Mark;
use rollcall_store::mis::lessons::{self, LessonKey, OutboxLesson};
use rollcall_store::mis::{self as outbox, CodeMapping, Difference, OutboxDay, Status};
use rollcall_store::register::{self, Amendment, Code, Stamp};
use rollcall_store::{Sql, StoreError};
use serde_json::json;
use uuid::Uuid;

use crate::attendance::Rules;
use crate::statutory::{self, Half, SessionRule};

/// The first wait after a failed write.
const FIRST_WAIT: Duration = Duration::from_secs(60);
/// The longest wait between two tries: a failing MIS is tried at least this often.
const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);

/// What one gathering put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gathered {
    /// Pupil-days whose marks are new or changed: to be written.
    pub changed: usize,
    /// Pupils' lesson marks that are new or changed (when lessons are written back).
    pub lessons_changed: usize,
    /// The register's stamp over the days gathered: while it stays the same, so do the marks.
    pub stamp: Stamp,
}

/// What is written back: the statutory sessions always, the lesson registers when the school
/// says so (`mis.lessons`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registers {
    Sessions,
    SessionsAndLessons,
}

/// A day's (AM, PM) marks in Rollcall's codes.
type Halves = (Option<String>, Option<String>);

/// The marks the MIS should hold that the outboxes do not hold as they are: what a gathering
/// puts. Read apart from the putting ([`read`], then [`put`]), so the reading and the
/// comparing, nearly all of a gathering's work, hold no write lock. Only the leader's task puts
/// marks, so nothing can put another between the two.
#[derive(Clone, Debug, PartialEq)]
pub struct Marks {
    /// The register's stamp over the days read.
    pub stamp: Stamp,
    /// Each pupil-day whose marks changed: (AM, PM) in Rollcall's codes, oldest day first.
    days: Vec<((StudentId, NaiveDate), Halves)>,
    /// Each pupil's lesson mark that changed, when lessons are written back.
    lessons: Vec<(LessonKey, String)>,
}

/// Every pupil's statutory marks of the `days_back` days up to `today`, and with
/// [`Registers::SessionsAndLessons`] every closed lesson's marks (see the module docs), that
/// the outboxes do not hold as they are. The marks are made from the register alone: when its
/// stamp over those days is `seen` (the last gathering's), nothing can have changed, none is
/// read and `None` is returned.
pub fn read(
    conn: &dyn Sql,
    (rules, rule, registers): (&Rules, &SessionRule, Registers),
    (today, days_back): (NaiveDate, u16),
    seen: Option<Stamp>,
    now: UnixMillis,
) -> Result<Option<Marks>, StoreError> {
    let since = today
        .checked_sub_days(Days::new(u64::from(days_back.max(1)) - 1))
        .unwrap_or(today);
    let stamp = register::stamp(conn, since)?;
    if seen == Some(stamp) {
        return Ok(None);
    }
    let lessons = match registers {
        Registers::SessionsAndLessons => {
            lessons::changed(conn, since, lessons::marks(conn, (since, today))?)?
        }
        Registers::Sessions => Vec::new(),
    };
    let held = outbox::held(conn, since)?;
    let mut days = Vec::new();
    for pupil in statutory::of_school(conn, (since, today), (rules, rule), now)? {
        for day in pupil.days {
            let key = (pupil.student, day.day);
            let marks = (day.am.map(|m| m.code), day.pm.map(|m| m.code));
            if marks != (None, None) && held.get(&key) != Some(&marks) {
                days.push((key, marks));
            }
        }
    }
    days.sort_unstable_by_key(|((student, day), _)| (*day, *student));
    Ok(Some(Marks {
        stamp,
        days,
        lessons,
    }))
}

/// Puts `marks` into the outboxes: each pupil-day and pupil-lesson gets a new version,
/// pending. Returns how many.
pub fn put(tx: &dyn Sql, marks: &Marks, now: UnixMillis) -> Result<Gathered, StoreError> {
    for ((student, day), (am, pm)) in &marks.days {
        outbox::put(tx, (*student, *day), (am.as_deref(), pm.as_deref()), now)?;
    }
    lessons::put(tx, &marks.lessons, now)?;
    Ok(Gathered {
        changed: marks.days.len(),
        lessons_changed: marks.lessons.len(),
        stamp: marks.stamp,
    })
}

/// Why a day cannot be sent as it is: said to the office, who can fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unsendable {
    #[error(
        "{0} has no reference in the MIS: import the roster from the MIS, or give the pupil \
         their MIS reference on their page"
    )]
    NoReference(String),
    #[error("Rollcall's code '{0}' has no MIS code: add it to the code table")]
    Unmapped(String),
    #[error(
        "class {0} has no reference in the MIS: import the roster from the MIS, or give the \
         class its MIS reference on the MIS page"
    )]
    NoClassReference(String),
}

/// The codes a statutory mark can carry, so the ones the code table maps: every code offered
/// today but `LE` (a session's mark is present for it), and the afternoon's present `\`.
pub fn sendable_codes(register_codes: Vec<Code>) -> Vec<Code> {
    let afternoon = Code {
        code: statutory::present_code(Half::Pm).to_owned(),
        meaning: "Present (the afternoon session's mark)".into(),
        mark: Mark::Present,
        retired: false,
    };
    register_codes
        .into_iter()
        .filter(|c| !c.retired && c.code != register::LEFT_EARLY)
        .chain(std::iter::once(afternoon))
        .collect()
}

/// The code table as the connector needs it: Rollcall's code to the MIS's.
pub fn code_table(mappings: Vec<CodeMapping>) -> HashMap<String, String> {
    mappings.into_iter().map(|m| (m.code, m.mis_code)).collect()
}

/// `d`'s pupil reference and its AM and PM marks in the MIS's codes.
pub fn in_mis_codes(
    d: &OutboxDay,
    table: &HashMap<String, String>,
) -> Result<(String, Option<String>, Option<String>), Unsendable> {
    let reference = d
        .external_ref
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Unsendable::NoReference(d.name.clone()))?;
    let map = |code: &Option<String>| {
        code.as_ref()
            .map(|c| {
                table
                    .get(c)
                    .cloned()
                    .ok_or_else(|| Unsendable::Unmapped(c.clone()))
            })
            .transpose()
    };
    Ok((reference.to_owned(), map(&d.am)?, map(&d.pm)?))
}

/// A pupil's lesson mark as the MIS takes it: the pupil's and the class's references, and
/// the mark in the MIS's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonInMis {
    pub pupil: String,
    pub class: String,
    pub code: String,
}

/// `l` in the MIS's terms. A pupil who left early (`LE`) was at the lesson: the MIS's
/// registers, England's codes among them, have no code for leaving early, so the lesson is
/// written as present (`/`'s mapping).
pub fn lesson_in_mis_codes(
    l: &OutboxLesson,
    table: &HashMap<String, String>,
) -> Result<LessonInMis, Unsendable> {
    let reference = |r: &Option<String>| {
        r.as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
    };
    let pupil =
        reference(&l.external_ref).ok_or_else(|| Unsendable::NoReference(l.name.clone()))?;
    let class = reference(&l.class_ref)
        .ok_or_else(|| Unsendable::NoClassReference(l.class_name.clone()))?;
    let ours = if l.code == register::LEFT_EARLY {
        "/"
    } else {
        l.code.as_str()
    };
    let code = table
        .get(ours)
        .cloned()
        .ok_or_else(|| Unsendable::Unmapped(ours.to_owned()))?;
    Ok(LessonInMis { pupil, class, code })
}

/// The key every try of `l`'s version carries.
pub fn lesson_write_key(l: &OutboxLesson) -> String {
    format!("rollcall-{}-{}-{}-v{}", l.slot, l.day, l.student, l.version)
}

/// The key every try of `d`'s version carries.
pub fn write_key(d: &OutboxDay) -> String {
    format!("rollcall-{}-{}-v{}", d.student, d.day, d.version)
}

/// The wait before try `tries + 1` of a version that has failed `tries` times (1 or more):
/// 1, 2, 4 … minutes, at most an hour, and never less than the MIS asked for.
pub fn backoff(tries: i64, asked: Option<Duration>) -> Duration {
    let doublings = u32::try_from(tries.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT);
    asked.map_or(wait, |asked| wait.max(asked.min(LONGEST_WAIT)))
}

/// What the MIS holds for one pupil's day, by the pupil's reference: (AM, PM) in its codes.
pub type Held = HashMap<String, (Option<String>, Option<String>)>;

/// The days of `written` (one day's outbox rows) the MIS holds otherwise than Rollcall wrote
/// them, both sides in the MIS's codes. Only days the MIS took are compared: a day pending or
/// refused is already listed as such; a pupil the MIS marks but Rollcall has no mark for is
/// the MIS's own business. Returns how many pupils were compared, and the differences.
pub fn differences(
    written: &[OutboxDay],
    held: &Held,
    table: &HashMap<String, String>,
    now: UnixMillis,
) -> (usize, Vec<Difference>) {
    let mut compared = 0;
    let mut found = Vec::new();
    for d in written.iter().filter(|d| d.status == Status::Written) {
        let Ok((reference, am, pm)) = in_mis_codes(d, table) else {
            continue;
        };
        compared += 1;
        let (theirs_am, theirs_pm) = held.get(&reference).cloned().unwrap_or_default();
        if (&am, &pm) != (&theirs_am, &theirs_pm) {
            found.push(Difference {
                student: d.student,
                name: d.name.clone(),
                external_ref: d.external_ref.clone(),
                day: d.day,
                ours_am: am,
                ours_pm: pm,
                theirs_am,
                theirs_pm,
                found_at: now,
                settled: None,
                settled_by: None,
                settled_at: None,
            });
        }
    }
    (compared, found)
}

/// Who takes the MIS's marks into the register.
#[derive(Clone, Debug)]
pub struct Taker {
    /// As the audit log names them.
    pub actor: String,
    pub username: String,
    pub name: String,
    pub role: String,
}

/// Why the MIS's marks cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum TakeError {
    #[error("the MIS has no {0} mark to take: write Rollcall's again instead")]
    NothingHeld(&'static str),
    #[error(
        "the MIS's code '{0}' is not in the code table: map one of Rollcall's codes to it first"
    )]
    NoCode(String),
    #[error("Rollcall has no {0} mark for that day any more: compare the day again")]
    NoLesson(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Takes the MIS's marks of `d` into Rollcall's register: for each session where the MIS's
/// code differs, the lesson its mark was made from is amended to the Rollcall code the table
/// maps to the MIS's (the lesson's own form of it: `/` for present in either session), by
/// `who`, audited. Returns the lessons amended, as (slot, code).
pub fn take_theirs(
    tx: &dyn Sql,
    d: &Difference,
    table: &HashMap<String, String>,
    (rules, rule): (&Rules, &SessionRule),
    who: &Taker,
    now: UnixMillis,
) -> Result<Vec<(Uuid, String)>, TakeError> {
    let marks = statutory::of_pupil(tx, d.student, d.day, (rules, rule), now)?;
    let halves = [
        ("morning", &d.ours_am, &d.theirs_am, marks.am),
        ("afternoon", &d.ours_pm, &d.theirs_pm, marks.pm),
    ];
    let mut amended = Vec::new();
    for (which, ours, theirs, mark) in halves {
        if ours == theirs {
            continue;
        }
        let theirs = theirs.as_deref().ok_or(TakeError::NothingHeld(which))?;
        let code = lesson_code(table, theirs)?;
        let slot = mark.ok_or(TakeError::NoLesson(which))?.from_slot;
        amend(tx, (slot, d.day, d.student), &code, who, now)?;
        amended.push((slot, code));
    }
    Ok(amended)
}

/// The Rollcall code a lesson is amended to so that its session's mark is the MIS's `theirs`.
fn lesson_code(table: &HashMap<String, String>, theirs: &str) -> Result<String, TakeError> {
    let mut ours: Vec<&str> = table
        .iter()
        .filter(|(_, mis)| mis.as_str() == theirs)
        .map(|(code, _)| code.as_str())
        .collect();
    ours.sort_unstable();
    // Either session's present code (`/` or `\`) is the lesson's `/`.
    let code = if ours.iter().any(|c| ["/", "\\"].contains(c)) {
        "/"
    } else {
        ours.first()
            .copied()
            .ok_or_else(|| TakeError::NoCode(theirs.to_owned()))?
    };
    Ok(code.to_owned())
}

fn amend(
    tx: &dyn Sql,
    (slot, day, student): (Uuid, chrono::NaiveDate, StudentId),
    code: &str,
    who: &Taker,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let before = register::entries(tx, slot, day)?
        .into_iter()
        .find(|e| e.student == student)
        .map(|e| e.code().to_owned());
    let amendment = Amendment {
        code: code.to_owned(),
        reason: "Taken from the MIS (the nightly comparison)".into(),
        by_user: who.username.clone(),
        by_name: who.name.clone(),
        by_role: who.role.clone(),
        at: now,
    };
    register::amend(tx, (slot, day, student), &amendment)?;
    audit::log(
        tx,
        Change {
            actor: &who.actor,
            action: "register.amend",
            target: format!("session:{slot}/{day}/student:{student}"),
            before: Some(json!({"code": before})),
            after: Some(json!(amendment)),
            at: now,
        },
    )
}

#[cfg(test)]
mod tests;
