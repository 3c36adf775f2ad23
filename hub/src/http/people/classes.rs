//! Classes, class membership and enrolment embeddings (students themselves are
//! `students`). Admins change them; a teacher reads their own classes and those classes'
//! students. Every change is audited and pokes the gallery pusher.

use chrono::NaiveDate;
use rollcall_shared::{ClassId, Embedding, ModelId, StudentId, UnixMillis};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::consent;
use rollcall_school::office;
use rollcall_school::principal::Principal;
use rollcall_store::Sql;
use rollcall_store::audit::{self, Change};
use rollcall_store::mis::lessons;
use rollcall_store::school::{self, Class, NewEnrolment, Source};
use rollcall_store::users;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassBody {
    name: String,
    teacher_id: Option<Uuid>,
    /// The school's code for the class; `PUT` without it clears it.
    code: Option<String>,
}

/// A class's name, teacher and code, checked.
struct ClassFields {
    name: String,
    teacher_id: Option<Uuid>,
    code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddingBody {
    model: ModelId,
    embedding: Vec<f32>,
    quality: Option<f64>,
}

pub async fn classes(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let w = who.clone();
    Reply::ok(hub.read(move |c| access::classes(c, &w)).await?)
}

pub async fn class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, class) = (who.clone(), req.id("class", "class")?);
    Reply::ok(hub.read(move |c| access::class(c, &w, class)).await?)
}

pub async fn members(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, class) = (who.clone(), req.id("class", "class")?);
    let read = move |c: &dyn Sql| {
        access::class(c, &w, class)?;
        Ok::<_, ApiError>(school::members(c, class)?)
    };
    Reply::ok(hub.read(read).await?)
}

impl ClassBody {
    fn checked(self) -> Result<ClassFields, ApiError> {
        let code = self.code.as_deref().map(office::class_code).transpose();
        Ok(ClassFields {
            name: input::name("name", &self.name)?,
            teacher_id: self.teacher_id,
            code: code.map_err(|m| ApiError::bad(format!("code: {m}")))?,
        })
    }
}

pub async fn create_class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let fields = req.json::<ClassBody>()?.checked()?;
    let (actor, now) = (who.actor(), hub.now());
    let class = Class {
        id: ClassId::random(),
        name: fields.name,
        teacher_id: fields.teacher_id,
        created_at: now,
        code: fields.code,
    };
    let created = hub
        .write(move |tx| put_class(tx, class, true, &actor, now))
        .await?;
    hub.gallery_changed();
    Reply::created(created)
}

pub async fn update_class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let fields = req.json::<ClassBody>()?.checked()?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let old = school::class(tx, class)?;
        let new = Class {
            name: fields.name,
            teacher_id: fields.teacher_id,
            code: fields.code,
            ..old
        };
        put_class(tx, new, false, &actor, now)
    };
    let updated = hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Reply::ok(updated)
}

/// A class's reference in the school's MIS: `{"reference": "7B-SCI"}`, or `null` to clear it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceBody {
    reference: Option<String>,
}

/// Longest MIS reference of a class.
const MAX_REFERENCE: usize = 100;

/// `PUT /classes/{class}/reference`: the class's reference in the MIS, as the roster import
/// would set it, for a class made by hand. The class's lesson marks the MIS refused for want
/// of it are written again.
pub async fn set_reference(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let body = req.json::<ReferenceBody>()?;
    let reference = body.reference.map(|r| r.trim().to_owned());
    if let Some(r) = &reference
        && (!(1..=MAX_REFERENCE).contains(&r.chars().count()) || r.chars().any(char::is_control))
    {
        return Err(ApiError::bad(format!(
            "reference: the class's id in the MIS, 1 to {MAX_REFERENCE} characters on one line, \
             or null"
        )));
    }
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let before = school::class_reference(tx, class)?;
        school::set_class_reference(tx, class, reference.as_deref())?;
        let again = lessons::again_refused_of_class(tx, class.0, now)?;
        let after = json!({"reference": reference, "written_again": again});
        log(
            tx,
            &actor,
            "class.reference",
            format!("class:{class}"),
            Some(json!({"reference": before})),
            Some(after.clone()),
            now,
        )?;
        Ok::<_, ApiError>(after)
    };
    Reply::ok(hub.write(move |tx| write(tx)).await?)
}

pub async fn delete_class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let old = school::class(tx, class)?;
        school::delete_class(tx, class)?;
        let target = format!("class:{class}");
        log(
            tx,
            &actor,
            "class.delete",
            target,
            Some(json!(old)),
            None,
            now,
        )
    };
    hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Ok(Reply::NoContent)
}

/// When a student joined a class: `{"from": "2026-09-01"}`; no body, or no `from`: today.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Joined {
    from: Option<String>,
}

pub async fn add_member(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    set_member(hub, req, who, true).await
}

pub async fn remove_member(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    set_member(hub, req, who, false).await
}

async fn set_member(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    add: bool,
) -> Result<Reply, ApiError> {
    let (class, student) = (req.id("class", "class")?, req.id("student", "student")?);
    let from = match add {
        true => req.json_or_default::<Joined>()?.from,
        false => None,
    };
    let joined = from.map(|d| input::day("from", &d)).transpose()?;
    let (actor, now) = (who.actor(), hub.now());
    let today = joined.unwrap_or_else(|| hub.today());
    hub.write(move |tx| membership(tx, (class, student), add, today, &actor, now))
        .await?;
    hub.gallery_changed();
    Ok(Reply::NoContent)
}

pub async fn embeddings(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    Reply::ok(hub.read(move |c| school::enrolments(c, student)).await?)
}

pub async fn enrol_embedding(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let body: EmbeddingBody = req.json()?;
    Embedding::try_from(body.embedding.as_slice())
        .map_err(|e| ApiError::bad(e.to_string()))?
        .validate()
        .map_err(|e| ApiError::bad(e.to_string()))?;
    let (actor, now) = (who.actor(), hub.now());
    let id = hub
        .write(move |tx| enrol(tx, student, &body, &actor, now))
        .await?;
    hub.gallery_changed();
    Reply::created(json!({"id": id, "student": student}))
}

fn log(
    tx: &dyn Sql,
    actor: &str,
    action: &str,
    target: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    at: UnixMillis,
) -> Result<(), ApiError> {
    let change = Change {
        actor,
        action,
        target,
        before,
        after,
        at,
    };
    Ok(audit::log(tx, change)?)
}

fn put_class(
    tx: &dyn Sql,
    class: Class,
    new: bool,
    actor: &str,
    now: UnixMillis,
) -> Result<Class, ApiError> {
    if let Some(teacher) = class.teacher_id {
        users::by_id(tx, teacher).map_err(|_| ApiError::bad("teacher_id names no user"))?;
    }
    let before = if new {
        None
    } else {
        Some(json!(school::class(tx, class.id)?))
    };
    match new {
        true => school::insert_class(tx, &class)?,
        false => school::update_class(tx, &class)?,
    }
    let action = if new { "class.create" } else { "class.update" };
    log(
        tx,
        actor,
        action,
        format!("class:{}", class.id),
        before,
        Some(json!(class)),
        now,
    )?;
    Ok(class)
}

/// Adds `student` to `class` from the school day `today` (their sessions before it are not
/// theirs), or takes them out; audited.
pub(in crate::http) fn membership(
    tx: &dyn Sql,
    (class, student): (ClassId, StudentId),
    add: bool,
    today: NaiveDate,
    actor: &str,
    now: UnixMillis,
) -> Result<(), ApiError> {
    school::class(tx, class)?;
    school::student(tx, student)?;
    match add {
        true => school::add_member(tx, class, student, Some(today))?,
        false => school::remove_member(tx, class, student)?,
    }
    let action = if add {
        "class.add_student"
    } else {
        "class.remove_student"
    };
    let detail = Some(json!({"class": class, "student": student}));
    log(
        tx,
        actor,
        action,
        format!("class:{class}"),
        None,
        detail,
        now,
    )
}

fn enrol(
    tx: &dyn Sql,
    student: StudentId,
    body: &EmbeddingBody,
    actor: &str,
    now: UnixMillis,
) -> Result<Uuid, ApiError> {
    consent::require(&school::student(tx, student)?)?;
    let new = NewEnrolment {
        student,
        model: body.model.as_str(),
        embedding: &Embedding::try_from(body.embedding.as_slice())
            .map_err(|e| ApiError::bad(e.to_string()))?,
        quality: body.quality,
        thumbnail: None,
        figures: None,
        source: Source::Api,
        record: None,
        at: now,
    };
    let id = school::insert_enrolment(tx, &new)?;
    let after = Some(json!({"embedding": id, "model": body.model, "dims": body.embedding.len()}));
    log(
        tx,
        actor,
        "student.enrol",
        format!("student:{student}"),
        None,
        after,
        now,
    )?;
    Ok(id)
}
