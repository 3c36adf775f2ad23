//! Pupils leaving during the day at reception: `POST /sign-outs` signs one out with a reason
//! (a medical appointment, ill, collected by a named adult), `POST /sign-outs/{id}/sign-in`
//! back in, and `GET /sign-outs` lists a day's (the school's today unless `?day`), each with
//! the pupil's name. Any member of staff may: reception is often an office's laptop. The rules
//! (what the lessons in between get) are [`rollcall_school::sign_outs`].

use rollcall_shared::StudentId;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_school::sign_outs::{self, Leaving};
use rollcall_store::sign_outs::{self as stored, Reason, SignOut};
use rollcall_store::{Sql, school};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeavingBody {
    student: StudentId,
    reason: Reason,
    collected_by: Option<String>,
    note: Option<String>,
}

/// A sign-out as the page shows it: with the pupil's name.
fn named(c: &dyn Sql, s: SignOut) -> Result<Value, ApiError> {
    let name = school::student(c, s.student)?.name;
    let mut v = json!(s);
    v["name"] = json!(name);
    Ok(v)
}

pub async fn sign_out(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: LeavingBody = req.json()?;
    let leaving = Leaving {
        reason: body.reason,
        collected_by: body.collected_by,
        note: body.note,
    };
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let write = move |tx: &dyn Sql| {
        let out = sign_outs::sign_out(tx, &who, body.student, leaving, &rules, now)?;
        named(tx, out)
    };
    Reply::created(hub.write(write).await?)
}

pub async fn sign_in(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("id", "sign-out")?;
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let write = move |tx: &dyn Sql| {
        let back = sign_outs::sign_in(tx, &who, id, &rules, now)?;
        named(tx, back)
    };
    Reply::ok(hub.write(write).await?)
}

pub async fn list(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let day = req.query_day("day")?.unwrap_or_else(|| hub.today());
    let read = move |c: &dyn Sql| {
        let listed = stored::on_day(c, day)?
            .into_iter()
            .map(|s| named(c, s))
            .collect::<Result<Vec<_>, _>>()?;
        let out = listed.iter().filter(|s| s["back_at"].is_null()).count();
        Ok::<_, ApiError>(json!({"day": day, "out": out, "sign_outs": listed}))
    };
    Reply::ok(hub.read(read).await?)
}
