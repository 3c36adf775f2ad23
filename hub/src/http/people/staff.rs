//! Staff (`rollcall_school::staff` has the rules): the Staff page's list with each member's day,
//! the office's changes (admins), a CSV file of staff, reception signing them in and out, and
//! a day's log as JSON or CSV.
//!
//! - `GET /staff?day=`: every member with where the log puts them now and their first in and
//!   last out on the day (today unless given); e-mail, phone, consent and how many faces are
//!   enrolled for admins only (the faces themselves: `staff_faces`).
//! - `POST /staff`, `PUT /staff/{id}`, `DELETE /staff/{id}` (admins): one member.
//! - `POST /staff/import` (admins): a CSV file as the body (`personnel_code,name,…`), all rows
//!   or none (422 listing every bad row).
//! - `POST /staff/sign-in`, `POST /staff/sign-out`: by `code` or `staff` (id); any signed-in
//!   member of staff, as reception is often a teacher's or an office's laptop.
//! - `GET /staff/log?day=` (`?format=csv`): the day's comings and goings, oldest first.

use std::collections::HashMap;

use chrono::NaiveDate;
use rollcall_shared::{Direction, UnixMillis};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::attendance::Rules;
use rollcall_school::csv;
use rollcall_school::principal::Principal;
use rollcall_school::staff::{self, Details, StaffError, Who};
use rollcall_store::staff::{self as stored, Entry, Source, StaffMember};
use rollcall_store::staff_faces as faces;
use rollcall_store::{Sql, devices};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    personnel_code: String,
    name: String,
    department: Option<String>,
    position: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

impl From<MemberBody> for Details {
    fn from(b: MemberBody) -> Self {
        Details {
            code: b.personnel_code,
            name: b.name,
            department: b.department,
            position: b.position,
            email: b.email,
            phone: b.phone,
            active: b.active,
        }
    }
}

/// Who is signing: their personnel code, or their id from the list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningBody {
    code: Option<String>,
    staff: Option<Uuid>,
}

pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (rules, now, admin) = (hub.config.rules(), hub.now(), who.is_admin());
    let day = req.query_day("day")?.unwrap_or(rules.local_day(now));
    Reply::ok(hub.read(move |c| day_list(c, &rules, day, admin)).await?)
}

fn day_list(conn: &dyn Sql, rules: &Rules, day: NaiveDate, admin: bool) -> Result<Value, ApiError> {
    let (from, to) = (rules.instant(day, 0), rules.instant(day, 24 * 60));
    let entries = stored::entries(conn, from, to)?;
    let latest = stored::latest(conn)?;
    let mut on_site = 0;
    let (consents, faces): (HashMap<_, _>, HashMap<_, _>) = match admin {
        true => (
            faces::consents(conn)?.into_iter().collect(),
            faces::face_counts(conn)?.into_iter().collect(),
        ),
        false => Default::default(),
    };
    let members: Vec<Value> = stored::list(conn)?
        .into_iter()
        .map(|m| {
            let last = latest.iter().find(|e| e.staff == m.id);
            let here = last.is_some_and(|e| e.direction == Direction::In);
            on_site += usize::from(here);
            let theirs = || entries.iter().filter(|e| e.staff == m.id);
            let first_in = theirs()
                .find(|e| e.direction == Direction::In)
                .map(|e| e.at);
            let last_out = theirs()
                .filter(|e| e.direction == Direction::Out)
                .map(|e| e.at)
                .next_back();
            let mut line = json!({
                "id": m.id,
                "personnel_code": m.code,
                "name": m.name,
                "department": m.department,
                "position": m.position,
                "active": m.active,
                "on_site": here,
                "since": last.map(|e| e.at),
                "first_in": first_in,
                "last_out": last_out,
            });
            if admin {
                line["email"] = json!(m.email);
                line["phone"] = json!(m.phone);
                line["consent"] = json!(consents.get(&m.id));
                line["faces"] = json!(faces.get(&m.id).copied().unwrap_or(0));
            }
            line
        })
        .collect();
    let mut listed = json!({"day": day, "on_site": on_site, "staff": members});
    if admin {
        // Codes that name two people (from before codes were compared whatever their case).
        let clashes: Vec<Vec<Value>> = staff::clashes(conn)?
            .into_iter()
            .map(|group| {
                let each =
                    |m: StaffMember| json!({"id": m.id, "name": m.name, "personnel_code": m.code});
                group.into_iter().map(each).collect()
            })
            .collect();
        listed["code_clashes"] = json!(clashes);
    }
    Ok(listed)
}

pub async fn create(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let details: Details = req.json::<MemberBody>()?.into();
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| Ok::<_, ApiError>(staff::create(tx, &details, &actor, now)?);
    Reply::created(hub.write(write).await?)
}

pub async fn update(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "member of staff")?;
    let details: Details = req.json::<MemberBody>()?.into();
    let (actor, now) = (who.actor(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(staff::update(tx, id, &details, &actor, now)?);
    Reply::ok(hub.write(write).await?)
}

pub async fn delete(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "member of staff")?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| Ok::<_, ApiError>(staff::delete(tx, id, &actor, now)?);
    hub.write(write).await?;
    Ok(Reply::NoContent)
}

pub async fn import(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| ApiError::bad("the file is not UTF-8 text: save it as CSV UTF-8"))?
        .to_owned();
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| Ok::<_, ApiError>(staff::import_csv(tx, &text, &actor, now)?);
    Reply::ok(hub.write(write).await?)
}

pub async fn sign_in(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    sign(hub, req, who, Direction::In).await
}

pub async fn sign_out(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    sign(hub, req, who, Direction::Out).await
}

async fn sign(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    direction: Direction,
) -> Result<Reply, ApiError> {
    let body: SigningBody = req.json()?;
    let signing = match (body.code, body.staff) {
        (Some(code), None) => Who::Code(crate::http::input::text("code", &code, 64)?.to_owned()),
        (None, Some(id)) => Who::Id(id),
        _ => {
            return Err(ApiError::bad(
                "give the member's code or staff (their id), not both",
            ));
        }
    };
    let (actor, now) = (who.actor(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(staff::sign(tx, &signing, direction, &actor, now)?);
    Reply::ok(hub.write(write).await?)
}

pub async fn log(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let (rules, now) = (hub.config.rules(), hub.now());
    let day = req.query_day("day")?.unwrap_or(rules.local_day(now));
    let (from, to) = (rules.instant(day, 0), rules.instant(day, 24 * 60));
    let (entries, doors) = hub
        .read(move |c| {
            let names = devices::list(c)?
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect::<std::collections::HashMap<_, _>>();
            Ok::<_, ApiError>((stored::entries(c, from, to)?, names))
        })
        .await?;
    if req.wants_csv() {
        let mut out = csv::line(&[
            "personnel_code",
            "name",
            "time",
            "direction",
            "source",
            "door",
            "confidence",
            "recorded_by",
        ]);
        for e in &entries {
            out.push_str(&csv::line(&[
                &e.code,
                &e.name,
                &local_time(&rules, e.at),
                e.direction.as_str(),
                source(e),
                e.device
                    .and_then(|d| doors.get(&d))
                    .map_or("", String::as_str),
                &e.confidence.map_or(String::new(), |c| format!("{c:.3}")),
                e.recorded_by.as_deref().unwrap_or(""),
            ]));
        }
        return Ok(Reply::csv(format!("staff-{day}.csv"), out));
    }
    Reply::ok(json!({"day": day, "entries": entries}))
}

fn source(e: &Entry) -> &'static str {
    match e.source {
        Source::Reception => "reception",
        Source::Door => "door",
    }
}

/// `at` on the school's wall clock, `YYYY-MM-DD HH:MM`.
fn local_time(rules: &Rules, at: UnixMillis) -> String {
    let t = rules.zone.local(at.0);
    format!("{} {:02}:{:02}", t.date, t.minute / 60, t.minute % 60)
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::Invalid(m) => ApiError::BadRequest(m),
            StaffError::Rows(rows) => ApiError::BadRows(rows),
            StaffError::Conflict(m) => ApiError::Conflict(m),
            StaffError::Store(s) => s.into(),
        }
    }
}
