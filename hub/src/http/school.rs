//! Classes, students, class membership and enrolment embeddings. Admins change them; a
//! teacher reads their own classes and those classes' students. Every change is audited and
//! pokes the gallery pusher.

use rollcall_shared::{ClassId, Embedding, ModelId, StudentId};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use warp::http::Method;

use super::access;
use super::error::ApiError;
use super::request::{Reply, Request, id};
use crate::auth::Principal;
use crate::state::Hub;
use crate::store::audit::{self, Change};
use crate::store::school::{self, Class, NewEnrolment, Student};
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

pub async fn route(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    path: &[&str],
) -> Result<Reply, ApiError> {
    let w = who.clone();
    match (req.method.clone(), path) {
        (Method::GET, ["classes"]) => Reply::ok(hub.read(move |c| access::classes(c, &w)).await?),
        (Method::GET, ["classes", c]) => {
            let class = id(c, "class")?;
            Reply::ok(hub.read(move |c| access::class(c, &w, class)).await?)
        }
        (Method::GET, ["classes", c, "students"]) => {
            let class = id(c, "class")?;
            let read = move |c: &Connection| {
                access::class(c, &w, class)?;
                Ok::<_, ApiError>(school::members(c, class)?)
            };
            Reply::ok(hub.read(read).await?)
        }
        (Method::GET, ["students"]) => {
            let q = req.query::<String>("q")?.map(|q| q.trim().to_lowercase());
            let found = hub.read(move |c| visible_students(c, &w)).await?;
            let named = |s: &Student| q.as_ref().is_none_or(|q| s.name.to_lowercase().contains(q));
            Reply::ok(found.into_iter().filter(named).collect::<Vec<_>>())
        }
        (Method::GET, ["students", s]) => {
            let student = id(s, "student")?;
            let read = move |c: &Connection| {
                access::student(c, &w, student)?;
                Ok::<_, ApiError>(school::student(c, student)?)
            };
            Reply::ok(hub.read(read).await?)
        }
        _ => {
            access::admin(who)?;
            let reply = change(hub, req, who, path).await?;
            hub.gallery_changed();
            Ok(reply)
        }
    }
}

fn visible_students(conn: &Connection, who: &Principal) -> Result<Vec<Student>, ApiError> {
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

async fn change(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    path: &[&str],
) -> Result<Reply, ApiError> {
    let (actor, now) = (who.actor(), hub.now());
    match (req.method.clone(), path) {
        (Method::POST, ["classes"]) => {
            let body: ClassBody = req.json()?;
            let class = Class {
                id: ClassId::random(),
                name: body.name,
                teacher_id: body.teacher_id,
                created_at: now,
            };
            Reply::created(
                hub.write(move |tx| put_class(tx, class, true, &actor, now))
                    .await?,
            )
        }
        (Method::PUT, ["classes", c]) => {
            let (class, body): (ClassId, ClassBody) = (id(c, "class")?, req.json()?);
            let write = move |tx: &Connection| {
                let old = school::class(tx, class)?;
                let new = Class {
                    name: body.name,
                    teacher_id: body.teacher_id,
                    ..old
                };
                put_class(tx, new, false, &actor, now)
            };
            Reply::ok(hub.write(move |tx| write(tx)).await?)
        }
        (Method::DELETE, ["classes", c]) => {
            let class = id(c, "class")?;
            let write = move |tx: &Connection| {
                let old = school::class(tx, class)?;
                school::delete_class(tx, class)?;
                log(
                    tx,
                    &actor,
                    "class.delete",
                    format!("class:{class}"),
                    Some(json!(old)),
                    None,
                    now,
                )
            };
            hub.write(move |tx| write(tx)).await?;
            Ok(Reply::NoContent)
        }
        (Method::PUT | Method::DELETE, ["classes", c, "students", s]) => {
            let (class, student) = (id(c, "class")?, id(s, "student")?);
            let add = req.method == Method::PUT;
            hub.write(move |tx| membership(tx, class, student, add, &actor, now))
                .await?;
            Ok(Reply::NoContent)
        }
        _ => students(hub, req, path, actor, now).await,
    }
}

async fn students(
    hub: &Hub,
    req: &Request,
    path: &[&str],
    actor: String,
    now: i64,
) -> Result<Reply, ApiError> {
    match (req.method.clone(), path) {
        (Method::POST, ["students"]) => {
            let body: StudentBody = req.json()?;
            let s = Student {
                id: StudentId::random(),
                name: body.name,
                external_ref: body.external_ref,
                created_at: now,
            };
            Reply::created(
                hub.write(move |tx| put_student(tx, s, true, &actor, now))
                    .await?,
            )
        }
        (Method::PUT, ["students", s]) => {
            let (student, body): (StudentId, StudentBody) = (id(s, "student")?, req.json()?);
            let write = move |tx: &Connection| {
                let old = school::student(tx, student)?;
                let new = Student {
                    name: body.name,
                    external_ref: body.external_ref,
                    ..old
                };
                put_student(tx, new, false, &actor, now)
            };
            Reply::ok(hub.write(move |tx| write(tx)).await?)
        }
        (Method::DELETE, ["students", s]) => {
            let student = id(s, "student")?;
            let write = move |tx: &Connection| {
                let old = school::student(tx, student)?;
                school::delete_student(tx, student)?;
                log(
                    tx,
                    &actor,
                    "student.delete",
                    format!("student:{student}"),
                    Some(json!(old)),
                    None,
                    now,
                )
            };
            hub.write(move |tx| write(tx)).await?;
            Ok(Reply::NoContent)
        }
        (Method::GET, ["students", s, "embeddings"]) => {
            let student = id(s, "student")?;
            Reply::ok(hub.read(move |c| school::enrolments(c, student)).await?)
        }
        (Method::POST, ["students", s, "embeddings"]) => {
            let (student, body): (StudentId, EmbeddingBody) = (id(s, "student")?, req.json()?);
            Embedding(body.embedding.clone())
                .validate()
                .map_err(|e| ApiError::bad(e.to_string()))?;
            let id = hub
                .write(move |tx| enrol(tx, student, &body, &actor, now))
                .await?;
            Reply::created(json!({"id": id, "student": student}))
        }
        _ => Err(ApiError::NoRoute),
    }
}

fn log(
    tx: &Connection,
    actor: &str,
    action: &str,
    target: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    at: i64,
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
    tx: &Connection,
    class: Class,
    new: bool,
    actor: &str,
    now: i64,
) -> Result<Class, ApiError> {
    if class.name.trim().is_empty() {
        return Err(ApiError::bad("a class needs a name"));
    }
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

fn put_student(
    tx: &Connection,
    s: Student,
    new: bool,
    actor: &str,
    now: i64,
) -> Result<Student, ApiError> {
    if s.name.trim().is_empty() {
        return Err(ApiError::bad("a student needs a name"));
    }
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

fn membership(
    tx: &Connection,
    class: ClassId,
    student: StudentId,
    add: bool,
    actor: &str,
    now: i64,
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
    tx: &Connection,
    student: StudentId,
    body: &EmbeddingBody,
    actor: &str,
    now: i64,
) -> Result<Uuid, ApiError> {
    school::student(tx, student)?;
    let new = NewEnrolment {
        student,
        model: body.model.as_str(),
        embedding: &body.embedding,
        quality: body.quality,
        thumbnail: None,
        figures: None,
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
