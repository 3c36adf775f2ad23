//! One-off registers (trips, clubs, exams, detentions): `GET /activities` lists a day's (the
//! school's today unless `?day`), `POST /activities` makes one with its pupils,
//! `GET`/`DELETE /activities/{id}` reads or cancels one, `POST /activities/{id}/pupils` adds
//! pupils and `DELETE …/pupils/{student}` takes one off, `PUT …/pupils/{student}` marks one,
//! and `POST /activities/{id}/register` takes the whole register at once ("all present
//! except…"). Any member of staff; the rules, and what a trip does to the lessons it covers,
//! are [`rollcall_school::activities`].

use rollcall_shared::StudentId;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::activities::{self, NewActivity, Register};
use rollcall_school::principal::Principal;
use rollcall_store::Sql;
use rollcall_store::activities::{self as stored, Kind};
use rollcall_store::marks::Mark;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBody {
    kind: Kind,
    title: String,
    day: Option<String>,
    start: String,
    end: String,
    place: Option<String>,
    owner: Option<Uuid>,
    #[serde(default)]
    pupils: Vec<StudentId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PupilsBody {
    students: Vec<StudentId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkBody {
    mark: Option<Mark>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    #[serde(default)]
    absent: Vec<StudentId>,
    #[serde(default)]
    late: Vec<StudentId>,
}

fn too_many(n: usize) -> Result<(), ApiError> {
    match n > activities::MAX_PUPILS {
        true => Err(ApiError::bad(format!(
            "at most {} pupils at once",
            activities::MAX_PUPILS
        ))),
        false => Ok(()),
    }
}

pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let w = who.clone();
    let day = req.query_day("day")?.unwrap_or_else(|| hub.today());
    let read = move |c: &dyn Sql| {
        let listed = stored::on_day(c, day)?
            .into_iter()
            .map(|a| activities::listed(c, &w, a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, ApiError>(json!({"day": day, "activities": listed}))
    };
    Reply::ok(hub.read(read).await?)
}

pub async fn create(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: NewBody = req.json()?;
    too_many(body.pupils.len())?;
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let day = match body.day.as_deref() {
        Some(day) => input::day("day", day)?,
        None => rules.local_day(now),
    };
    let new = NewActivity {
        kind: body.kind,
        title: body.title,
        day,
        start_minute: input::minute_of_day("start", &body.start)?,
        end_minute: input::minute_of_day("end", &body.end)?,
        place: body.place,
        owner: body.owner,
        pupils: body.pupils,
    };
    let write = move |tx: &dyn Sql| activities::create(tx, &who, new, &rules, now);
    Reply::created(hub.write(write).await?)
}

pub async fn one(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (id, w): (Uuid, _) = (req.id("id", "activity")?, who.clone());
    let read = move |c: &dyn Sql| activities::listed(c, &w, stored::get(c, id)?);
    Reply::ok(hub.read(read).await?)
}

pub async fn cancel(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "activity")?;
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    hub.write(move |tx: &dyn Sql| activities::cancel(tx, &who, id, &rules, now))
        .await?;
    Ok(Reply::NoContent)
}

pub async fn add(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "activity")?;
    let body: PupilsBody = req.json()?;
    too_many(body.students.len())?;
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let write = move |tx: &dyn Sql| activities::add(tx, &who, id, &body.students, &rules, now);
    Reply::ok(hub.write(write).await?)
}

pub async fn remove(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "activity")?;
    let student: StudentId = req.id("student", "student")?;
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let write = move |tx: &dyn Sql| activities::remove(tx, &who, id, student, &rules, now);
    Reply::ok(hub.write(write).await?)
}

pub async fn mark(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "activity")?;
    let student: StudentId = req.id("student", "student")?;
    let body: MarkBody = req.json()?;
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let write = move |tx: &dyn Sql| activities::mark(tx, &who, id, student, body.mark, &rules, now);
    Reply::ok(hub.write(write).await?)
}

pub async fn take(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "activity")?;
    let body: RegisterBody = req.json()?;
    too_many(body.absent.len() + body.late.len())?;
    let register = Register {
        absent: body.absent,
        late: body.late,
    };
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let write = move |tx: &dyn Sql| activities::take(tx, &who, id, &register, &rules, now);
    Reply::ok(hub.write(write).await?)
}
