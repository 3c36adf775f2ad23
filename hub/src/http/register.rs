//! The register: taking it, and the register once written.
//!
//! Taking it is the modules below: a teacher's day (`today`), a lesson's sessions and roster
//! and teachers' marks (`sessions`), the review queue read and decided (`review`), a lesson's
//! remaining cards beside its unmarked students (`closed_set`), class photos, and strangers'
//! cards, and one-off registers (trips, clubs, exams, detentions: `activities`). Here: the
//! register once written, amending a closed entry (a code and a reason, never an overwrite),
//! and the attendance codes an admin keeps.

pub(super) mod activities;
pub(super) mod class_photo;
pub(super) mod closed_set;
pub(super) mod review;
pub(super) mod sessions;
pub(super) mod strangers;
pub(super) mod today;

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::principal::Principal;
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::Mark;
use rollcall_store::register::{self, Amendment, Code};
use rollcall_store::{Sql, users};
use sessions::roster_of;

/// Longest code, in characters (`#`, `/`, `L`, or a school's own such as `AM`).
const MAX_CODE: usize = 4;
/// Longest meaning of a code.
const MAX_MEANING: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmendBody {
    code: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
    meaning: String,
    mark: Mark,
    /// Absent: a new code is in use, an existing one keeps its state.
    retired: Option<bool>,
}

/// Amends one student's entry in a closed session: the teacher of the class or an admin.
pub async fn amend(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: AmendBody = req.json()?;
    let reason = input::text("reason", body.reason.trim(), input::MAX_TEXT)?.to_owned();
    if reason.is_empty() {
        return Err(ApiError::bad("reason: an amendment needs a reason"));
    }
    let code = body.code.trim().to_owned();
    let (slot, day) = (req.id("slot", "session")?, req.day("day")?);
    let student: StudentId = req.id("student", "student")?;
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let write = move |tx: &dyn Sql| {
        append(tx, &w, (slot, day, student), &code, reason, now)?;
        roster_of(tx, &w, slot, day, &rules, now)
    };
    Reply::ok(hub.write(move |tx| write(tx)).await?)
}

fn append(
    tx: &dyn Sql,
    who: &Principal,
    (slot, day, student): (Uuid, NaiveDate, StudentId),
    code: &str,
    reason: String,
    now: UnixMillis,
) -> Result<(), ApiError> {
    let closed = register::session(tx, slot, day)?.ok_or_else(|| {
        ApiError::Conflict(
            "this session is not closed yet: set the mark instead \
             (PUT /sessions/{slot}/{day}/marks/{student})"
                .into(),
        )
    })?;
    access::class(tx, who, closed.slot.class_id)?;
    let code = register::code(tx, code).map_err(|_| {
        ApiError::bad(format!(
            "code: {:?} is not an attendance code (GET /codes lists them)",
            input::clip(code)
        ))
    })?;
    if code.retired {
        return Err(ApiError::bad(format!(
            "code: {:?} is retired ({}): pick another (GET /codes lists them)",
            code.code, code.meaning
        )));
    }
    let entry = register::entries(tx, slot, day)?
        .into_iter()
        .find(|e| e.student == student)
        .ok_or_else(|| ApiError::NotFound("register entry of this student".into()))?;
    let user = users::by_id(tx, who.user_id)?;
    let amendment = Amendment {
        code: code.code,
        reason,
        by_user: who.username.clone(),
        by_name: user.display_name,
        by_role: who.role.as_str().to_owned(),
        at: now,
    };
    register::amend(tx, (slot, day, student), &amendment)?;
    let change = Change {
        actor: &who.actor(),
        action: "register.amend",
        target: format!("session:{slot}/{day}/student:{student}"),
        before: Some(json!({"code": entry.code()})),
        after: Some(json!(amendment)),
        at: now,
    };
    Ok(audit::log(tx, change)?)
}

/// Every attendance code, in the order they were made.
pub async fn codes(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    Reply::ok(hub.read(|c| Ok::<_, ApiError>(register::codes(c)?)).await?)
}

/// Creates a code, or changes an existing one's meaning (and its mark while no entry uses it).
pub async fn put_code(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: CodeBody = req.json()?;
    let mut code = Code {
        code: checked_code(&body.code)?,
        meaning: input::name("meaning", &body.meaning)?,
        mark: body.mark,
        retired: body.retired.unwrap_or(false),
    };
    if code.meaning.chars().count() > MAX_MEANING {
        return Err(ApiError::bad(format!(
            "meaning: longer than {MAX_MEANING} characters"
        )));
    }
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let before = register::code(tx, &code.code).ok();
        if let (Some(before), None) = (&before, body.retired) {
            code.retired = before.retired;
        }
        match &before {
            Some(_) => register::update_code(tx, &code)?,
            None => register::add_code(tx, &code)?,
        }
        let change = Change {
            actor: &actor,
            action: "register.code",
            target: format!("code:{}", code.code),
            before: before.map(|b| json!(b)),
            after: Some(json!(code)),
            at: now,
        };
        audit::log(tx, change)?;
        Ok::<_, ApiError>(code)
    };
    Reply::ok(hub.write(move |tx| write(tx)).await?)
}

/// Deletes a code nobody has used (`?code=`).
pub async fn delete_code(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let code: String = req.require("code")?;
    let code = checked_code(&code)?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let before = register::code(tx, &code)?;
        register::delete_code(tx, &code)?;
        let change = Change {
            actor: &actor,
            action: "register.code.delete",
            target: format!("code:{code}"),
            before: Some(json!(before)),
            after: None,
            at: now,
        };
        audit::log(tx, change)?;
        Ok::<_, ApiError>(())
    };
    hub.write(move |tx| write(tx)).await?;
    Ok(Reply::NoContent)
}

/// A code: 1 to [`MAX_CODE`] visible characters, no spaces.
fn checked_code(raw: &str) -> Result<String, ApiError> {
    let code = raw.trim();
    let n = code.chars().count();
    if n == 0 || n > MAX_CODE || code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::bad(format!(
            "code: 1 to {MAX_CODE} characters without spaces, got {:?}",
            input::clip(raw)
        )));
    }
    Ok(code.to_owned())
}
