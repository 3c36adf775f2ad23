//! `POST /calendar/preview`: what a change to the terms or holidays would do to the sessions
//! still to come, before an admin saves it. The comparison is `attendance::preview`, the same
//! rule the hub runs the day by; closed sessions are in the register and no calendar change
//! touches them, so only sessions that have not yet ended are reported.

use std::collections::HashMap;

use chrono::NaiveDate;
use rollcall_shared::{ClassId, UnixMillis};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::timetable::{HolidayBody, TermBody};
use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::attendance::preview::{self, Change, Diff};
use rollcall_school::attendance::{Rules, Session};
use rollcall_school::principal::Principal;
use rollcall_school::session_rosters::{self, hhmm};
use rollcall_store::{Sql, school, timetable};

/// The most sessions listed on each side; the counts are always whole.
pub const MAX_LISTED: usize = 200;

/// Said with every preview, so nobody fears for the register.
const NOTE: &str = "Closed (past) sessions are kept in the register as written; \
    only sessions that have not yet ended are affected.";

/// The proposed change: exactly one of these keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Body {
    Holiday(HolidayBody),
    RemoveHoliday(String),
    Term(TermBody),
    RemoveTerm(Uuid),
}

impl Body {
    fn into_change(self) -> Result<Change, ApiError> {
        Ok(match self {
            Body::Holiday(h) => Change::AddHoliday(h.into_holiday()?),
            Body::RemoveHoliday(day) => Change::RemoveHoliday(input::day("remove_holiday", &day)?),
            Body::Term(t) => Change::PutTerm(t.into_term()?),
            Body::RemoveTerm(id) => Change::RemoveTerm(id),
        })
    }
}

pub async fn preview(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let change = req.json::<Body>()?.into_change()?;
    let (rules, now) = (hub.config.rules(), hub.now());
    Reply::ok(hub.read(move |c| answer(c, &change, &rules, now)).await?)
}

/// The preview of `change` at `now`: the days compared and the sessions added and removed.
fn answer(c: &dyn Sql, change: &Change, rules: &Rules, now: UnixMillis) -> Result<Value, ApiError> {
    match change {
        Change::RemoveHoliday(day) => drop(timetable::holiday(c, *day)?),
        Change::RemoveTerm(id) => drop(timetable::term(c, *id)?),
        _ => {}
    }
    let before = session_rosters::calendar(c)?;
    let after = change.apply(&before);
    let today = rules.local_day(now);
    let Some(days) = preview::window(change.reach(&before), today) else {
        return Ok(shape(None, &Diff::default(), &HashMap::new()));
    };
    let mut diff = preview::diff(days, &timetable::all_slots(c)?, &before, &after);
    let ahead = |s: &Session| s.ends_at(rules) > now;
    diff.added.retain(ahead);
    diff.removed.retain(ahead);
    let names = school::classes(c)?.into_iter().map(|k| (k.id, k.name));
    Ok(shape(Some(days), &diff, &names.collect()))
}

fn shape(
    days: Option<(NaiveDate, NaiveDate)>,
    diff: &Diff,
    names: &HashMap<ClassId, String>,
) -> Value {
    let side = |list: &[Session]| {
        let shown: Vec<Value> = list
            .iter()
            .take(MAX_LISTED)
            .map(|s| listed(s, names))
            .collect();
        json!({ "count": list.len(), "sessions": shown })
    };
    json!({
        "from": days.map(|d| d.0),
        "to": days.map(|d| d.1),
        "added": side(&diff.added),
        "removed": side(&diff.removed),
        "note": NOTE,
    })
}

fn listed(s: &Session, names: &HashMap<ClassId, String>) -> Value {
    json!({
        "day": s.day,
        "slot_id": s.slot.id,
        "class_id": s.slot.class_id,
        "class_name": names.get(&s.slot.class_id),
        "room": s.slot.room,
        "start": hhmm(s.slot.start_minute),
        "end": hhmm(s.slot.end_minute),
    })
}
