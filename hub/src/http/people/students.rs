//! Students: listed and found (by name or reference, year group, form, active or not),
//! created, changed and erased. Admins change them; a teacher reads their own classes'
//! students. Every change is audited and pokes the gallery pusher (an inactive student leaves
//! every door unit's gallery). How the office reaches a student (e-mail, phone) is shown to
//! admins only, and the audit log says that it changed, never what it is.

use chrono::NaiveDate;
use rollcall_shared::{StudentId, UnixMillis};
use serde::{Deserialize, Serialize};
use serde_json::json;

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
use rollcall_store::mis::{self, lessons};
use rollcall_store::school::{self, Contact, Profile, ProfileChange, Student};

/// Longest year group or form, in characters.
const MAX_GROUP: usize = 64;

/// A new student (`POST`), or a student's name and reference (`PUT`, which leaves the rest
/// as it is).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StudentBody {
    name: String,
    external_ref: Option<String>,
    year_group: Option<String>,
    form: Option<String>,
    born_on: Option<String>,
    active: Option<bool>,
    /// Absent on `PUT`: unchanged.
    email: Option<String>,
    phone: Option<String>,
}

/// `PATCH`: each field absent is left as it is; `null` clears it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StudentPatch {
    name: Option<String>,
    #[serde(default, deserialize_with = "input::present")]
    external_ref: Option<Option<String>>,
    #[serde(default, deserialize_with = "input::present")]
    year_group: Option<Option<String>>,
    #[serde(default, deserialize_with = "input::present")]
    form: Option<Option<String>>,
    #[serde(default, deserialize_with = "input::present")]
    born_on: Option<Option<String>>,
    active: Option<bool>,
    #[serde(default, deserialize_with = "input::present")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "input::present")]
    phone: Option<Option<String>>,
}

/// A student as shown: with how the office reaches them when an admin asks.
#[derive(Serialize)]
struct StudentView {
    #[serde(flatten)]
    student: Student,
    #[serde(flatten)]
    contact: Option<Contact>,
}

/// A change to a student's [`Contact`], each field as in [`StudentPatch`], checked.
struct ContactChange {
    email: Option<Option<String>>,
    phone: Option<Option<String>>,
}

impl ContactChange {
    fn checked(
        email: Option<Option<String>>,
        phone: Option<Option<String>>,
    ) -> Result<Self, ApiError> {
        let blank = |t: &Option<String>| t.as_deref().map(str::trim).is_none_or(str::is_empty);
        let email = match email {
            Some(text) if blank(&text) => Some(None),
            Some(Some(text)) => Some(Some(input::email(&text)?)),
            other => other,
        };
        let phone = match phone {
            Some(text) if blank(&text) => Some(None),
            Some(Some(text)) => Some(Some(
                office::phone_number(&text).map_err(|m| ApiError::bad(format!("phone: {m}")))?,
            )),
            other => other,
        };
        Ok(ContactChange { email, phone })
    }

    /// Stores the change; returns the contact as it now is and which fields changed (for the
    /// audit log, which never holds their values).
    fn store(
        self,
        tx: &dyn Sql,
        student: StudentId,
    ) -> Result<(Contact, Vec<&'static str>), ApiError> {
        let old = school::contact(tx, student)?;
        let new = Contact {
            email: self.email.unwrap_or_else(|| old.email.clone()),
            phone: self.phone.unwrap_or_else(|| old.phone.clone()),
        };
        let mut changed = Vec::new();
        if new.email != old.email {
            changed.push("email");
        }
        if new.phone != old.phone {
            changed.push("phone");
        }
        if !changed.is_empty() {
            school::set_contact(tx, student, &new)?;
        }
        Ok((new, changed))
    }
}

/// What `GET /students` narrows the list to.
struct Filter {
    /// Part of a name or of the school's reference, lower case.
    text: Option<String>,
    year_group: Option<String>,
    form: Option<String>,
    active: Option<bool>,
}

impl Filter {
    fn from(req: &Request) -> Result<Self, ApiError> {
        let lower = |key: &str| -> Result<Option<String>, ApiError> {
            let value = req.query::<String>(key)?;
            Ok(value
                .map(|v| v.trim().to_lowercase())
                .filter(|v| !v.is_empty()))
        };
        Ok(Filter {
            text: lower("q")?,
            year_group: lower("year_group")?,
            form: lower("form")?,
            active: req.query("active")?,
        })
    }

    fn keeps(&self, s: &Student) -> bool {
        let is = |want: &Option<String>, has: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| has.as_ref().is_some_and(|h| h.to_lowercase() == *w))
        };
        let named = self.text.as_ref().is_none_or(|t| {
            s.name.to_lowercase().contains(t)
                || (s.external_ref.as_ref()).is_some_and(|r| r.to_lowercase().contains(t))
        });
        named
            && is(&self.year_group, &s.profile.year_group)
            && is(&self.form, &s.profile.form)
            && self.active.is_none_or(|a| a == s.profile.active)
    }
}

/// The students `who` may see, narrowed by `?q` (name or reference), `?year_group`, `?form`
/// and `?active`.
pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let filter = Filter::from(req)?;
    let w = who.clone();
    let read = move |c: &dyn Sql| {
        let found = visible(c, &w)?.into_iter().filter(|s| filter.keeps(s));
        let mut contacts = match w.is_admin() {
            true => Some(school::contacts(c)?),
            false => None,
        };
        let view = |student: Student| StudentView {
            contact: (contacts.as_mut()).map(|all| all.remove(&student.id).unwrap_or_default()),
            student,
        };
        Ok::<_, ApiError>(found.map(view).collect::<Vec<_>>())
    };
    Reply::ok(hub.read(read).await?)
}

pub async fn get(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, student) = (who.clone(), req.id("student", "student")?);
    let read = move |c: &dyn Sql| {
        access::student(c, &w, student)?;
        let contact = match w.is_admin() {
            true => Some(school::contact(c, student)?),
            false => None,
        };
        let student = school::student(c, student)?;
        Ok::<_, ApiError>(StudentView { student, contact })
    };
    Reply::ok(hub.read(read).await?)
}

fn visible(conn: &dyn Sql, who: &Principal) -> Result<Vec<Student>, ApiError> {
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

pub async fn create(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: StudentBody = req.json()?;
    let contact = ContactChange::checked(body.email.map(Some), body.phone.map(Some))?;
    let today = hub.today();
    let (actor, now) = (who.actor(), hub.now());
    let s = Student {
        id: StudentId::random(),
        name: input::name("name", &body.name)?,
        external_ref: reference(body.external_ref.as_deref())?,
        created_at: now,
        consent: rollcall_store::consent::State::NotAsked,
        profile: Profile {
            year_group: group("year_group", body.year_group.as_deref())?,
            form: group("form", body.form.as_deref())?,
            born_on: born_on(body.born_on.as_deref(), today)?,
            active: body.active.unwrap_or(true),
        },
    };
    let write = move |tx: &dyn Sql| put_with_contact(tx, s, contact, true, &actor, now);
    let created = hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Reply::created(created)
}

/// `PUT`: the name and the school's reference; the rest stays as it is.
pub async fn replace(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: StudentBody = req.json()?;
    let patch = StudentPatch {
        name: Some(body.name),
        external_ref: Some(body.external_ref),
        year_group: body.year_group.map(Some),
        form: body.form.map(Some),
        born_on: body.born_on.map(Some),
        active: body.active,
        email: body.email.map(Some),
        phone: body.phone.map(Some),
    };
    change(hub, req, who, patch).await
}

pub async fn update(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let patch: StudentPatch = req.json()?;
    change(hub, req, who, patch).await
}

async fn change(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    patch: StudentPatch,
) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let today = hub.today();
    let name = patch.name.as_deref().map(|n| input::name("name", n));
    let external_ref = patch.external_ref.map(|r| reference(r.as_deref()));
    let profile = ProfileChange {
        year_group: (patch.year_group.map(|g| group("year_group", g.as_deref()))).transpose()?,
        form: (patch.form.map(|f| group("form", f.as_deref()))).transpose()?,
        born_on: (patch.born_on.map(|d| born_on(d.as_deref(), today))).transpose()?,
        active: patch.active,
    };
    let (name, external_ref) = (name.transpose()?, external_ref.transpose()?);
    let contact = ContactChange::checked(patch.email, patch.phone)?;
    let (actor, now) = (who.actor(), hub.now());
    // A reference given: every write of the pupil's the MIS refused is tried again (the
    // missing reference may have been why).
    let referenced = matches!(external_ref, Some(Some(_)));
    let write = move |tx: &dyn Sql| {
        let old = school::student(tx, student)?;
        let new = Student {
            name: name.unwrap_or_else(|| old.name.clone()),
            external_ref: external_ref.unwrap_or_else(|| old.external_ref.clone()),
            profile: profile.applied_to(&old.profile),
            ..old
        };
        let updated = put_with_contact(tx, new, contact, false, &actor, now)?;
        if referenced {
            mis::again_refused_of(tx, student, now)?;
            lessons::again_refused_of(tx, student, now)?;
        }
        Ok::<_, ApiError>(updated)
    };
    let updated = hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Reply::ok(updated)
}

/// Erases a student: every biometric item goes at once (templates and enrolment photos with
/// the student, the records that are their face, held-back records naming them; door units
/// at the next push). Their register entries stay, as the law requires.
pub async fn delete(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let old = school::student(tx, student)?;
        let erased = consent::erase_faces(tx, student)?;
        school::delete_student(tx, student)?;
        let change = Change {
            actor: &actor,
            action: "student.erase",
            target: format!("student:{student}"),
            before: Some(json!({"student": old, "erased": erased})),
            after: None,
            at: now,
        };
        Ok::<_, ApiError>(audit::log(tx, change)?)
    };
    hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    if let Err(e) = hub.db.forget_deleted().await {
        tracing::warn!("after erasing a student: {e}");
    }
    Ok(Reply::NoContent)
}

/// Stores `s` and the change to how the office reaches them, audited: the student before and
/// after, and which contact fields changed.
fn put_with_contact(
    tx: &dyn Sql,
    s: Student,
    contact: ContactChange,
    new: bool,
    actor: &str,
    now: UnixMillis,
) -> Result<StudentView, ApiError> {
    let student = put(tx, s, new, actor, now)?;
    let (contact, changed) = contact.store(tx, student.id)?;
    if !changed.is_empty() {
        let change = Change {
            actor,
            action: "student.contact",
            target: format!("student:{}", student.id),
            before: None,
            after: Some(json!({"changed": changed})),
            at: now,
        };
        audit::log(tx, change)?;
    }
    Ok(StudentView {
        student,
        contact: Some(contact),
    })
}

/// Stores `s` (a new student, or changes to one), audited with before and after.
pub(in crate::http) fn put(
    tx: &dyn Sql,
    s: Student,
    new: bool,
    actor: &str,
    now: UnixMillis,
) -> Result<Student, ApiError> {
    let before = match new {
        true => None,
        false => Some(json!(school::student(tx, s.id)?)),
    };
    match new {
        true => school::insert_student(tx, &s)?,
        false => school::update_student(tx, &s)?,
    }
    let change = Change {
        actor,
        action: if new {
            "student.create"
        } else {
            "student.update"
        },
        target: format!("student:{}", s.id),
        before,
        after: Some(json!(s)),
        at: now,
    };
    audit::log(tx, change)?;
    Ok(s)
}

/// The school's reference for a student, checked; none when blank.
fn reference(text: Option<&str>) -> Result<Option<String>, ApiError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => Ok(Some(
            input::text("external_ref", r, input::MAX_TEXT)?.to_owned(),
        )),
    }
}

/// A year group or form, checked; none when blank.
fn group(field: &str, text: Option<&str>) -> Result<Option<String>, ApiError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(g) => Ok(Some(input::text(field, g, MAX_GROUP)?.to_owned())),
    }
}

/// A date of birth: a strict `YYYY-MM-DD` from 1900 to `today`; none when blank.
fn born_on(text: Option<&str>, today: NaiveDate) -> Result<Option<NaiveDate>, ApiError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let day = input::date_in("born_on", text, first, today)?;
    Ok(Some(day))
}
