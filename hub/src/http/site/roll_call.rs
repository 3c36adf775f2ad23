//! The emergency roll call (`rollcall_school::roll_call`), for every signed-in user: in an
//! evacuation any member of staff may hold the list.
//!
//! - `GET /roll-call`: the roll call under way, with its list as ticked so far; else who would
//!   be on it now. `?find=` (two letters or more) also answers the students of that name not
//!   on the list, for one who turns up unexpected.
//! - `POST /roll-calls` (`kind`: `drill` or `emergency`): starts one with everyone expected now
//!   (409 while another is under way). Audited.
//! - `PUT /roll-calls/{id}/people/{student}` (`here`: true or false): ticks a student off at the
//!   assembly point, or back; a student not on the list who turns up is added, marked as not
//!   expected. 409 once it has ended.
//! - `PUT /roll-calls/{id}/visitors/{visitor}` (`here`): the same for a visitor signed in at
//!   reception (listed in their own group, `visitors`, with their own counts).
//! - `PUT /roll-calls/{id}/staff/{member}` (`here`): the same for a member of staff (`staff`).
//! - `POST /roll-calls/{id}/end`: ends it, with its counts. Audited.
//! - `GET /roll-calls?limit=` and `GET /roll-calls/{id}`: the record of past drills.

use rollcall_shared::{StudentId, UnixMillis};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::attendance::Rules;
use rollcall_school::principal::Principal;
use rollcall_school::roll_call::{self, expected};
use rollcall_school::session_rosters::hhmm;
use rollcall_store::audit::{self, Change};
use rollcall_store::roll_calls::{self, Group, Kind, RollCall};
use rollcall_store::{Sql, school, visitors};

/// Most past roll calls listed at once.
const MAX_LIST: u32 = 500;

/// Most students `?find=` answers.
const MAX_FOUND: usize = 20;

/// `GET /roll-call`.
pub async fn now(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let (rules, now) = (hub.config.rules(), hub.now());
    let find = match req.query::<String>("find")? {
        Some(f) if f.trim().chars().count() >= 2 => {
            Some(input::text("find", f.trim(), 64)?.to_lowercase())
        }
        Some(_) => return Err(ApiError::bad("?find: at least two letters of a name")),
        None => None,
    };
    Reply::ok(hub.read(move |c| live(c, &rules, now, find)).await?)
}

fn live(
    conn: &dyn Sql,
    rules: &Rules,
    now: UnixMillis,
    find: Option<String>,
) -> Result<Value, ApiError> {
    let (current, people, visitors, staff) = match roll_calls::current(conn)? {
        Some(call) => {
            let people = roll_calls::people(conn, call.id)?;
            let visitors = roll_calls::visitors(conn, call.id)?;
            let staff = roll_calls::staff(conn, call.id)?;
            (Some(call), people, visitors, staff)
        }
        None => (
            None,
            expected(&roll_call::load(conn, rules, now)?.inputs()),
            roll_call::visitors_on_site(conn)?,
            roll_call::staff_on_site(conn)?,
        ),
    };
    let found: Vec<Value> = match find {
        Some(find) => school::students(conn)?
            .into_iter()
            .filter(|s| s.name.to_lowercase().contains(&find))
            .filter(|s| people.iter().all(|p| p.student != s.id))
            .take(MAX_FOUND)
            .map(|s| json!({"student": s.id, "name": s.name}))
            .collect(),
        None => Vec::new(),
    };
    Ok(json!({
        "now": now,
        "roll_call": current,
        "people": people,
        "visitors": visitors,
        "staff": staff,
        "found": found,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Start {
    kind: Kind,
}

/// `POST /roll-calls`.
pub async fn start(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: Start = req.json()?;
    let (rules, now, actor) = (hub.config.rules(), hub.now(), who.actor());
    let started = hub
        .write(move |tx| {
            if let Some(under_way) = roll_calls::current(tx)? {
                return Err(ApiError::Conflict(format!(
                    "a roll call is under way (started at {} by {}): end it first",
                    clock(&rules, under_way.started_at),
                    under_way.started_by
                )));
            }
            let people = expected(&roll_call::load(tx, &rules, now)?.inputs());
            let visitors = roll_call::visitors_on_site(tx)?;
            let staff = roll_call::staff_on_site(tx)?;
            let call = RollCall {
                id: Uuid::now_v7(),
                kind: body.kind,
                started_at: now,
                started_by: actor.clone(),
                ended_at: None,
                ended_by: None,
                people: 0,
                accounted: 0,
                visitors: 0,
                visitors_accounted: 0,
                staff: 0,
                staff_accounted: 0,
            };
            roll_calls::start(tx, &call, &people)?;
            for v in &visitors {
                roll_calls::add_to(tx, Group::Visitors, call.id, v.visitor, true)?;
            }
            for m in &staff {
                roll_calls::add_to(tx, Group::Staff, call.id, m.staff, true)?;
            }
            let change = Change {
                actor: &actor,
                action: "roll_call.start",
                target: format!("roll_call:{}", call.id),
                before: None,
                after: Some(json!({
                    "kind": call.kind,
                    "expected": people.len(),
                    "visitors": visitors.len(),
                    "staff": staff.len(),
                })),
                at: now,
            };
            audit::log(tx, change)?;
            listed(tx, call.id)
        })
        .await?;
    Reply::created(started)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tick {
    here: bool,
}

/// `PUT /roll-calls/{id}/people/{student}`.
pub async fn tick(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "roll call")?;
    let student: StudentId = req.id("student", "student")?;
    let body: Tick = req.json()?;
    let (rules, now, actor) = (hub.config.rules(), hub.now(), who.actor());
    let person = hub
        .write(move |tx| {
            let call = roll_calls::get(tx, id)?;
            if call.ended_at.is_some() {
                return Err(ApiError::Conflict("this roll call has ended".into()));
            }
            let listed = roll_calls::people(tx, id)?
                .into_iter()
                .any(|p| p.student == student);
            if !listed && body.here {
                // Someone nobody knew was in: on the list, not expected.
                let loaded = roll_call::load(tx, &rules, now)?;
                let person = roll_call::person(&loaded.inputs(), student, None, false)
                    .ok_or(ApiError::NotFound("student".into()))?;
                roll_calls::add(tx, id, &person)?;
            }
            let ticked = body.here.then_some((now, actor.as_str()));
            roll_calls::account(tx, id, student, ticked)?;
            let person = roll_calls::people(tx, id)?
                .into_iter()
                .find(|p| p.student == student);
            Ok::<_, ApiError>(person)
        })
        .await?;
    Reply::ok(person)
}

/// `PUT /roll-calls/{id}/visitors/{visitor}`.
pub async fn tick_visitor(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let visitor: Uuid = req.id("visitor", "visitor")?;
    tick_in(hub, req, who, Group::Visitors, visitor).await
}

/// `PUT /roll-calls/{id}/staff/{member}`.
pub async fn tick_staff(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let member: Uuid = req.id("member", "member of staff")?;
    tick_in(hub, req, who, Group::Staff, member).await
}

/// Ticks `person` of `group` off, or back; one not on the list who turns up (signed in after
/// the start, or never) is added, not expected. Answers their line.
async fn tick_in(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    group: Group,
    person: Uuid,
) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "roll call")?;
    let body: Tick = req.json()?;
    let (now, actor) = (hub.now(), who.actor());
    let line = hub
        .write(move |tx| {
            let call = roll_calls::get(tx, id)?;
            if call.ended_at.is_some() {
                return Err(ApiError::Conflict("this roll call has ended".into()));
            }
            if body.here {
                match group {
                    Group::Visitors => visitors::get(tx, person).map(drop)?,
                    Group::Staff => rollcall_store::staff::get(tx, person).map(drop)?,
                }
                roll_calls::add_to(tx, group, id, person, false)?;
            }
            let ticked = body.here.then_some((now, actor.as_str()));
            roll_calls::account_in(tx, group, id, person, ticked)?;
            let line = match group {
                Group::Visitors => json!(
                    roll_calls::visitors(tx, id)?
                        .into_iter()
                        .find(|v| v.visitor == person)
                ),
                Group::Staff => json!(
                    roll_calls::staff(tx, id)?
                        .into_iter()
                        .find(|m| m.staff == person)
                ),
            };
            Ok::<_, ApiError>(line)
        })
        .await?;
    Reply::ok(line)
}

/// `POST /roll-calls/{id}/end`.
pub async fn end(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "roll call")?;
    let (now, actor) = (hub.now(), who.actor());
    let ended = hub
        .write(move |tx| {
            if !roll_calls::end(tx, id, now, &actor)? {
                roll_calls::get(tx, id)?;
                return Err(ApiError::Conflict(
                    "this roll call has ended already".into(),
                ));
            }
            let call = roll_calls::get(tx, id)?;
            let change = Change {
                actor: &actor,
                action: "roll_call.end",
                target: format!("roll_call:{id}"),
                before: None,
                after: Some(json!({
                    "people": call.people,
                    "accounted": call.accounted,
                    "visitors": call.visitors,
                    "visitors_accounted": call.visitors_accounted,
                    "staff": call.staff,
                    "staff_accounted": call.staff_accounted,
                })),
                at: now,
            };
            audit::log(tx, change)?;
            Ok::<_, ApiError>(call)
        })
        .await?;
    Reply::ok(ended)
}

/// `GET /roll-calls?limit=`.
pub async fn list(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let limit = req.query::<u32>("limit")?.unwrap_or(50).clamp(1, MAX_LIST);
    Reply::ok(hub.read(move |c| roll_calls::list(c, limit)).await?)
}

/// `GET /roll-calls/{id}`.
pub async fn one(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "roll call")?;
    Reply::ok(hub.read(move |c| listed(c, id)).await?)
}

/// Roll call `id` with its students and its visitors.
fn listed(conn: &dyn Sql, id: Uuid) -> Result<Value, ApiError> {
    Ok(json!({
        "roll_call": roll_calls::get(conn, id)?,
        "people": roll_calls::people(conn, id)?,
        "visitors": roll_calls::visitors(conn, id)?,
        "staff": roll_calls::staff(conn, id)?,
    }))
}

/// `at` on the school's wall clock, `HH:MM`.
fn clock(rules: &Rules, at: UnixMillis) -> String {
    hhmm(rules.zone.local(at.0).minute)
}
