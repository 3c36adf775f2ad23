//! Classes, students, class membership and enrolment embeddings. Admins change them; a
//! teacher reads their own classes and those classes' students. Every change is audited and
//! pokes the gallery pusher.

use rollcall_shared::{ClassId, Embedding, ModelId, StudentId, UnixMillis};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::error::ApiError;
use super::input;
use super::request::{Reply, Request};
use crate::access;
use crate::auth::Principal;
use crate::consent;
use crate::http_state::Hub;
use crate::store::Sql;
use crate::store::audit::{self, Change};
use crate::store::school::{self, Class, NewEnrolment, Source, Student};
use crate::store::users;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassBody {
    name: String,
    teacher_id: Option<Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StudentBody {
    name: String,
    external_ref: Option<String>,
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

/// The students `who` may see, `?q` narrowing them by name.
pub async fn students(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let q = req.query::<String>("q")?.map(|q| q.trim().to_lowercase());
    let w = who.clone();
    let found = hub.read(move |c| visible_students(c, &w)).await?;
    let named = |s: &Student| q.as_ref().is_none_or(|q| s.name.to_lowercase().contains(q));
    Reply::ok(found.into_iter().filter(named).collect::<Vec<_>>())
}

pub async fn student(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, student) = (who.clone(), req.id("student", "student")?);
    let read = move |c: &dyn Sql| {
        access::student(c, &w, student)?;
        Ok::<_, ApiError>(school::student(c, student)?)
    };
    Reply::ok(hub.read(read).await?)
}

fn visible_students(conn: &dyn Sql, who: &Principal) -> Result<Vec<Student>, ApiError> {
    if who.is_admin() {
        return Ok(school::students(conn)?);
    }
    let mut out: Vec<Student> = Vec::new();
    for class in access::classes(conn, who)? {
        out.extend(school::members(conn, class.id)?);
    }
    out.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    out.dedup_by_key(|s| s.id);
    Ok(out)
}

impl ClassBody {
    /// The class's new name and teacher, checked.
    fn checked(self) -> Result<(String, Option<Uuid>), ApiError> {
        Ok((input::name("name", &self.name)?, self.teacher_id))
    }
}

impl StudentBody {
    /// The student's new name and reference, checked.
    fn checked(self) -> Result<(String, Option<String>), ApiError> {
        let external_ref = match &self.external_ref {
            Some(r) => Some(input::text("external_ref", r, input::MAX_TEXT)?.to_owned()),
            None => None,
        };
        Ok((input::name("name", &self.name)?, external_ref))
    }
}

pub async fn create_class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (name, teacher_id) = req.json::<ClassBody>()?.checked()?;
    let (actor, now) = (who.actor(), hub.now());
    let class = Class {
        id: ClassId::random(),
        name,
        teacher_id,
        created_at: now,
    };
    let created = hub
        .write(move |tx| put_class(tx, class, true, &actor, now))
        .await?;
    hub.gallery_changed();
    Reply::created(created)
}

pub async fn update_class(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let class: ClassId = req.id("class", "class")?;
    let (name, teacher_id) = req.json::<ClassBody>()?.checked()?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let old = school::class(tx, class)?;
        let new = Class {
            name,
            teacher_id,
            ..old
        };
        put_class(tx, new, false, &actor, now)
    };
    let updated = hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Reply::ok(updated)
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
    let (actor, now) = (who.actor(), hub.now());
    hub.write(move |tx| membership(tx, class, student, add, &actor, now))
        .await?;
    hub.gallery_changed();
    Ok(Reply::NoContent)
}

pub async fn create_student(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (name, external_ref) = req.json::<StudentBody>()?.checked()?;
    let (actor, now) = (who.actor(), hub.now());
    let s = Student {
        id: StudentId::random(),
        name,
        external_ref,
        created_at: now,
        consent: crate::store::consent::State::NotAsked,
    };
    let created = hub
        .write(move |tx| put_student(tx, s, true, &actor, now))
        .await?;
    hub.gallery_changed();
    Reply::created(created)
}

pub async fn update_student(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let (name, external_ref) = req.json::<StudentBody>()?.checked()?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let old = school::student(tx, student)?;
        let new = Student {
            name,
            external_ref,
            ..old
        };
        put_student(tx, new, false, &actor, now)
    };
    let updated = hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Reply::ok(updated)
}

/// Erases a student: every biometric item goes at once (templates and enrolment photos with
/// the student, the records that are their face, held-back records naming them; door units
/// at the next push). Their register entries stay, as the law requires.
pub async fn delete_student(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let old = school::student(tx, student)?;
        let erased = consent::erase_faces(tx, student)?;
        school::delete_student(tx, student)?;
        let target = format!("student:{student}");
        log(
            tx,
            &actor,
            "student.erase",
            target,
            Some(json!({"student": old, "erased": erased})),
            None,
            now,
        )
    };
    hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    if let Err(e) = hub.db.forget_deleted().await {
        tracing::warn!("after erasing a student: {e}");
    }
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

pub(super) fn put_student(
    tx: &dyn Sql,
    s: Student,
    new: bool,
    actor: &str,
    now: UnixMillis,
) -> Result<Student, ApiError> {
    let before = if new {
        None
    } else {
        Some(json!(school::student(tx, s.id)?))
    };
    match new {
        true => school::insert_student(tx, &s)?,
        false => school::update_student(tx, &s)?,
    }
    let action = if new {
        "student.create"
    } else {
        "student.update"
    };
    log(
        tx,
        actor,
        action,
        format!("student:{}", s.id),
        before,
        Some(json!(s)),
        now,
    )?;
    Ok(s)
}

pub(super) fn membership(
    tx: &dyn Sql,
    class: ClassId,
    student: StudentId,
    add: bool,
    actor: &str,
    now: UnixMillis,
) -> Result<(), ApiError> {
    school::class(tx, class)?;
    school::student(tx, student)?;
    match add {
        true => school::add_member(tx, class, student)?,
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
