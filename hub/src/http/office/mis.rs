//! The office's view of write-back to the MIS (`[mis]`, `crate::mis`), for admins:
//!
//! - `GET /mis`: the connector, the last write the MIS took, how many days are pending,
//!   written and refused, the days failing (retried) and refused (with the MIS's words), the
//!   same for the lesson registers' marks (`lessons`), and the code table with the codes in
//!   use that it does not map.
//! - `POST /mis/try`: **Try the connection**, a harmless call that says whether the
//!   credentials and the school's id work (200 either way: the answer is the MIS's).
//! - `GET /mis/codes`: the code table beside Rollcall's codes and the MIS's own.
//! - `PUT /mis/codes` with `{"code", "mis_code"}`, `DELETE /mis/codes?code=`: map one of
//!   Rollcall's codes to the MIS's, or stop. A day refused for want of that mapping is
//!   written again.
//! - `POST /mis/days/{student}/{day}/again`: write that day again now (once its cause is
//!   fixed: the pupil's MIS reference set, the MIS's period reopened).
//! - `POST /mis/lessons/{slot}/{day}/{student}/again`: the same for a pupil's mark in one
//!   lesson (once the class's MIS reference is set, or the MIS's timetable has the lesson).
//! - `POST /mis/compare?day=`: read the day back from the MIS and compare it now (it is done
//!   by itself every night after `mis.compare_at`).
//! - `GET /mis/differences?from&to[&open=true][&format=csv]`: what the comparisons found.
//! - `POST /mis/differences/{student}/{day}/ours`: write Rollcall's marks again;
//!   `…/theirs`: take the MIS's into Rollcall's register (the lessons amended).
//!
//! Every change is audited.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use crate::mis::Connector;
use rollcall_school::csv;
use rollcall_school::mis::{self as rules, Taker};
use rollcall_school::principal::Principal;
use rollcall_shared::StudentId;
use rollcall_store::audit::{self, Change};
use rollcall_store::mis::lessons;
use rollcall_store::mis::{self as outbox, CodeMapping, Difference, Status};
use rollcall_store::{Sql, register, users};
use uuid::Uuid;

/// Most failing or refused days listed.
const LISTED: usize = 200;
/// Longest MIS code (an Ed-Fi descriptor URI).
const MAX_MIS_CODE: usize = 306;

/// The connector, or a 409 saying how to set one up.
fn connector(hub: &Hub) -> Result<&Connector, ApiError> {
    hub.mis.as_ref().ok_or_else(|| {
        ApiError::Conflict(
            "write-back to the MIS is not set up: add [mis.wonde] or [mis.edfi] to hub.toml \
             (docs/MIS.md)"
                .into(),
        )
    })
}

/// `GET /mis` (see the module docs).
pub async fn status(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let name = hub.mis.as_ref().map(Connector::name);
    let days_back = hub.config.mis.days_back;
    let found = hub
        .read(move |c| {
            let table = outbox::codes(c)?;
            let used = unmapped(c, &table)?;
            Ok::<_, ApiError>(json!({
                "counts": outbox::counts(c)?,
                "failing": outbox::failing(c, LISTED)?,
                "refused": outbox::in_status(c, Status::Refused, LISTED)?,
                "lessons": {
                    "counts": lessons::counts(c)?,
                    "failing": lessons::failing(c, LISTED)?,
                    "refused": lessons::in_status(c, Status::Refused, LISTED)?,
                },
                "codes": table,
                "unmapped": used,
            }))
        })
        .await?;
    let lessons_on = hub.config.mis.lessons;
    let mut reply = json!({"connector": name, "days_back": days_back, "lessons_on": lessons_on});
    if let (Value::Object(all), Value::Object(more)) = (&mut reply, found) {
        all.extend(more);
    }
    Reply::ok(reply)
}

/// The codes a statutory mark can carry that the table does not map.
fn unmapped(c: &dyn Sql, table: &[CodeMapping]) -> Result<Vec<String>, ApiError> {
    Ok(rules::sendable_codes(register::codes(c)?)
        .into_iter()
        .filter(|code| !table.iter().any(|m| m.code == code.code))
        .map(|code| code.code)
        .collect())
}

/// `POST /mis/try`.
pub async fn try_connection(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let connector = connector(hub)?;
    let answer = connector.try_connection().await;
    tracing::info!(by = %who.actor(), mis = connector.name(), ok = answer.is_ok(), "tried the MIS");
    Reply::ok(match answer {
        Ok(said) => json!({"ok": true, "connector": connector.name(), "said": said}),
        Err(e) => json!({"ok": false, "connector": connector.name(), "said": e.to_string()}),
    })
}

/// `GET /mis/codes`: the table, Rollcall's codes, and the MIS's (or why they could not be
/// read).
pub async fn codes(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let connector = connector(hub)?;
    let (table, ours) = hub
        .read(|c| {
            let ours = rules::sendable_codes(register::codes(c)?);
            Ok::<_, ApiError>((outbox::codes(c)?, ours))
        })
        .await?;
    let theirs = connector.codes().await;
    let (mis, mis_error) = match theirs {
        Ok(codes) => (
            codes
                .into_iter()
                .map(|c| json!({"code": c.code, "meaning": c.meaning}))
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Reply::ok(json!({
        "table": table,
        "rollcall": ours,
        "mis": mis,
        "mis_error": mis_error,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingBody {
    code: String,
    mis_code: String,
}

/// `PUT /mis/codes` with `{"code", "mis_code"}`.
pub async fn set_code(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body = req.json::<MappingBody>()?;
    let code = body.code.trim().to_owned();
    let mis_code = body.mis_code.trim().to_owned();
    let fits = (1..=MAX_MIS_CODE).contains(&mis_code.chars().count());
    if !fits || mis_code.chars().any(char::is_control) {
        return Err(ApiError::bad(format!(
            "mis_code: the MIS's code as it writes it, 1 to {MAX_MIS_CODE} characters on one line"
        )));
    }
    let (actor, now) = (who.actor(), hub.now());
    let mapping = hub
        .write(move |tx| {
            let sendable = rules::sendable_codes(register::codes(tx)?);
            if !sendable.iter().any(|c| c.code == code) {
                return Err(ApiError::NotFound(format!(
                    "a code a morning or afternoon mark can carry named {:?} (GET /mis/codes \
                     lists them)",
                    crate::http::input::clip(&code)
                )));
            }
            let before = outbox::codes(tx)?.into_iter().find(|m| m.code == code);
            let mapping = CodeMapping { code, mis_code };
            outbox::set_code(tx, &mapping, &actor, now)?;
            let again = outbox::again_refused_with(tx, &mapping.code, now)?
                + lessons::again_refused_with(tx, &mapping.code, now)?;
            audit::log(
                tx,
                Change {
                    actor: &actor,
                    action: "mis.code_set",
                    target: format!("mis_code:{}", mapping.code),
                    before: before.map(|b| json!(b)),
                    after: Some(json!({"mapping": mapping, "written_again": again})),
                    at: now,
                },
            )?;
            Ok::<_, ApiError>(mapping)
        })
        .await?;
    Reply::ok(mapping)
}

/// `DELETE /mis/codes?code=`.
pub async fn delete_code(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let code: String = req.require("code")?;
    let (actor, now) = (who.actor(), hub.now());
    hub.write(move |tx| {
        let before = outbox::codes(tx)?
            .into_iter()
            .find(|m| m.code == code)
            .ok_or_else(|| ApiError::NotFound(format!("a mapping of the code {code:?}")))?;
        outbox::delete_code(tx, &code)?;
        audit::log(
            tx,
            Change {
                actor: &actor,
                action: "mis.code_delete",
                target: format!("mis_code:{code}"),
                before: Some(json!(before)),
                after: None,
                at: now,
            },
        )?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(Reply::NoContent)
}

/// `POST /mis/days/{student}/{day}/again`: the day, pending again.
pub async fn again(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let day = req.day("day")?;
    let (actor, now) = (who.actor(), hub.now());
    let row = hub
        .write(move |tx| {
            let before = outbox::day(tx, student, day)?
                .ok_or_else(|| ApiError::NotFound(format!("a day of marks for the MIS ({day})")))?;
            outbox::again(tx, (student, day), now)?;
            audit::log(
                tx,
                Change {
                    actor: &actor,
                    action: "mis.again",
                    target: format!("mis:{student}:{day}"),
                    before: Some(json!({"status": before.status, "error": before.last_error})),
                    after: None,
                    at: now,
                },
            )?;
            Ok::<_, ApiError>(outbox::day(tx, student, day)?)
        })
        .await?;
    Reply::ok(row)
}

/// `POST /mis/lessons/{slot}/{day}/{student}/again`: the pupil's mark in the lesson, pending
/// again.
pub async fn again_lesson(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let slot: Uuid = req.id("slot", "lesson")?;
    let day = req.day("day")?;
    let student: StudentId = req.id("student", "student")?;
    let key = (slot, day, student);
    let (actor, now) = (who.actor(), hub.now());
    let row = hub
        .write(move |tx| {
            let before = lessons::lesson(tx, key)?.ok_or_else(|| {
                ApiError::NotFound(format!("a lesson mark for the MIS (that pupil, {day})"))
            })?;
            lessons::again(tx, key, now)?;
            audit::log(
                tx,
                Change {
                    actor: &actor,
                    action: "mis.again",
                    target: format!("mis:{student}:{day}:session:{slot}"),
                    before: Some(json!({"status": before.status, "error": before.last_error})),
                    after: None,
                    at: now,
                },
            )?;
            Ok::<_, ApiError>(lessons::lesson(tx, key)?)
        })
        .await?;
    Reply::ok(row)
}

/// `POST /mis/compare?day=` (today when not given).
pub async fn compare(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let connector = connector(hub)?;
    let day = req.query_day("day")?.unwrap_or_else(|| hub.today());
    let compared = crate::mis::compare(&hub.db, connector, day, hub.now())
        .await
        .map_err(|e| match e {
            crate::mis::CompareError::Mis(e) => ApiError::BadGateway(e.to_string()),
            crate::mis::CompareError::Store(e) => e.into(),
        })?;
    tracing::info!(by = %who.actor(), %day, differences = compared.differences, "compared with the MIS");
    Reply::ok(compared)
}

/// `GET /mis/differences?from&to[&open=true][&format=csv]`: the last week unless said.
pub async fn differences(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let to = req.query_day("to")?.unwrap_or_else(|| hub.today());
    let from = req
        .query_day("from")?
        .unwrap_or_else(|| to - chrono::Days::new(6));
    if from > to {
        return Err(ApiError::bad("from: on or before to"));
    }
    let open = req.query::<bool>("open")?.unwrap_or(false);
    let found = hub
        .read(move |c| Ok::<_, ApiError>(outbox::differences(c, (from, to), open)?))
        .await?;
    if req.wants_csv() {
        return Ok(Reply::csv(
            format!("mis-differences-{from}-{to}.csv"),
            differences_csv(&found),
        ));
    }
    Reply::ok(json!({"from": from, "to": to, "differences": found}))
}

fn differences_csv(found: &[Difference]) -> String {
    let mut out = csv::line(&[
        "day",
        "student",
        "reference",
        "name",
        "ours_am",
        "theirs_am",
        "ours_pm",
        "theirs_pm",
        "settled",
        "settled_by",
    ]);
    for d in found {
        fn text(v: &Option<String>) -> &str {
            v.as_deref().unwrap_or_default()
        }
        let (day, student) = (d.day.to_string(), d.student.to_string());
        out.push_str(&csv::line(&[
            &day,
            &student,
            text(&d.external_ref),
            &d.name,
            text(&d.ours_am),
            text(&d.theirs_am),
            text(&d.ours_pm),
            text(&d.theirs_pm),
            text(&d.settled),
            text(&d.settled_by),
        ]));
    }
    out
}

/// The open difference of the path's pupil and day.
fn open_difference(
    tx: &dyn Sql,
    req_key: (StudentId, chrono::NaiveDate),
) -> Result<Difference, ApiError> {
    let (student, day) = req_key;
    let found = outbox::difference(tx, student, day)?
        .ok_or_else(|| ApiError::NotFound(format!("a difference with the MIS on {day}")))?;
    if let Some(how) = &found.settled {
        return Err(ApiError::Conflict(format!(
            "already settled ({how}) by {}",
            found.settled_by.as_deref().unwrap_or("someone")
        )));
    }
    Ok(found)
}

/// `POST /mis/differences/{student}/{day}/ours`: Rollcall's marks written again.
pub async fn keep_ours(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    connector(hub)?;
    let key = (req.id("student", "student")?, req.day("day")?);
    let (actor, now) = (who.actor(), hub.now());
    let settled = hub
        .write(move |tx| {
            let d = open_difference(tx, key)?;
            outbox::again(tx, key, now)?;
            outbox::settle(tx, key, "ours", &actor, now)?;
            settled_audit(tx, &actor, &d, "ours", now)?;
            Ok::<_, ApiError>(outbox::difference(tx, key.0, key.1)?)
        })
        .await?;
    Reply::ok(settled)
}

/// `POST /mis/differences/{student}/{day}/theirs`: the MIS's marks taken into the register.
pub async fn take_theirs(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    connector(hub)?;
    let key = (req.id("student", "student")?, req.day("day")?);
    let rule = hub
        .config
        .register
        .statutory
        .rule()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (rules_now, now, w) = (hub.config.rules(), hub.now(), who.clone());
    let settled = hub
        .write(move |tx| {
            let d = open_difference(tx, key)?;
            let user = users::by_id(tx, w.user_id)?;
            let taker = Taker {
                actor: w.actor(),
                username: w.username.clone(),
                name: user.display_name,
                role: w.role.as_str().to_owned(),
            };
            let table = rules::code_table(outbox::codes(tx)?);
            let amended = rules::take_theirs(tx, &d, &table, (&rules_now, &rule), &taker, now)
                .map_err(|e| match e {
                    rules::TakeError::Store(e) => e.into(),
                    other => ApiError::Conflict(other.to_string()),
                })?;
            outbox::settle(tx, key, "theirs", &taker.actor, now)?;
            settled_audit(tx, &taker.actor, &d, "theirs", now)?;
            Ok::<_, ApiError>(json!({
                "difference": outbox::difference(tx, key.0, key.1)?,
                "amended": amended.iter().map(|(slot, code)| json!({"slot": slot, "code": code})).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Reply::ok(settled)
}

fn settled_audit(
    tx: &dyn Sql,
    actor: &str,
    d: &Difference,
    how: &str,
    now: rollcall_shared::UnixMillis,
) -> Result<(), ApiError> {
    audit::log(
        tx,
        Change {
            actor,
            action: "mis.settle",
            target: format!("mis:{}:{}", d.student, d.day),
            before: Some(json!(d)),
            after: Some(json!({"settled": how})),
            at: now,
        },
    )?;
    Ok(())
}
