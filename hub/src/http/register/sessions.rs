//! Sessions of a day, a session's roster, and teachers' mark overrides (with a reason), one
//! at a time or the lesson's unmarked pupils at once ("all present except…"); the rules are
//! [`rollcall_school::marks`].

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::Deserialize;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::marks::{self, NewMark, Taken, Target};
use rollcall_school::principal::Principal;
use rollcall_school::session_rosters;
use rollcall_store::Sql;
use rollcall_store::marks::Mark;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkBody {
    mark: Mark,
    reason: String,
}

/// The sessions `who` may see on `?date` (the hub's today unless said), with their rosters.
pub async fn of_day(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let day = match req.query_day("date")? {
        Some(d) => d,
        None => rules.local_day(now),
    };
    let read = move |c: &dyn Sql| {
        let slots = access::slots(c, &w)?;
        let classes = access::class_ids(c, &w)?;
        let sessions = session_rosters::sessions_between(c, (&classes, &slots), day, day)?;
        let views: Result<Vec<_>, _> = sessions
            .iter()
            .map(|s| session_rosters::view(c, s, &rules, now))
            .collect();
        Ok::<_, ApiError>(views?)
    };
    Reply::ok(hub.read(read).await?)
}

pub async fn roster(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let (slot, day) = (req.id("slot", "session")?, req.day("day")?);
    Reply::ok(
        hub.read(move |c| roster_of(c, &w, slot, day, &rules, now))
            .await?,
    )
}

/// A teacher's override of one student's mark, with a reason.
pub async fn set_mark(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: MarkBody = req.json()?;
    let reason = input::text("reason", body.reason.trim(), input::MAX_TEXT)?;
    if reason.is_empty() {
        return Err(ApiError::bad("reason: an override needs a reason"));
    }
    let body = MarkBody {
        reason: reason.to_owned(),
        ..body
    };
    change_mark(hub, req, who, Some(body)).await
}

pub async fn clear_mark(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    change_mark(hub, req, who, None).await
}

async fn change_mark(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    body: Option<MarkBody>,
) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let (slot, day) = (req.id("slot", "session")?, req.day("day")?);
    let student = req.id("student", "student")?;
    let actor = who.actor();
    let new = body.map(|b| NewMark {
        mark: b.mark,
        reason: b.reason,
    });
    let write = move |tx: &dyn Sql| {
        let at = Target { slot, day, student };
        marks::change(tx, &w, at, new, &actor, now)?;
        roster_of(tx, &w, slot, day, &rules, now)
    };
    Reply::ok(hub.write(move |tx| write(tx)).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakenBody {
    #[serde(default)]
    present: Vec<StudentId>,
    #[serde(default)]
    absent: Vec<StudentId>,
    #[serde(default)]
    late: Vec<StudentId>,
}

/// "All present except…": marks the lesson's unmarked pupils at once ([`marks::take`]);
/// answers the roster after.
pub async fn take(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: TakenBody = req.json()?;
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let (slot, day) = (req.id("slot", "session")?, req.day("day")?);
    let taken = Taken {
        present: body.present,
        absent: body.absent,
        late: body.late,
    };
    let actor = who.actor();
    let write = move |tx: &dyn Sql| {
        marks::take(tx, &w, (slot, day), &taken, (&rules, &actor, now))?;
        roster_of(tx, &w, slot, day, &rules, now)
    };
    Reply::ok(hub.write(write).await?)
}

/// The roster of a session `who` may see.
pub fn roster_of(
    conn: &dyn Sql,
    who: &Principal,
    slot: Uuid,
    day: NaiveDate,
    rules: &rollcall_school::attendance::Rules,
    now: UnixMillis,
) -> Result<session_rosters::SessionRoster, ApiError> {
    let session = session_rosters::session(conn, slot, day)?;
    access::class(conn, who, session.slot.class_id)?;
    Ok(session_rosters::session_roster(conn, &session, rules, now)?)
}
