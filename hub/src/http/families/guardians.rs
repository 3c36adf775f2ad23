//! Students' guardians (`rollcall_school::guardians` has the rules), admins only:
//! `GET /students/{student}/guardians`, `PUT /students/{student}/guardians` (the whole list,
//! first contacted first) and `POST /guardians/import` (a CSV file as the body, all rows or
//! none).

use rollcall_shared::StudentId;
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::guardians::{self, Given, GuardianError};
use rollcall_school::principal::Principal;
use rollcall_store::{Sql, guardians as stored, school};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardianBody {
    name: String,
    relationship: String,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    notices: Option<bool>,
    responsibility: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListBody {
    guardians: Vec<GuardianBody>,
}

pub async fn list(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let read = move |c: &dyn Sql| {
        school::student(c, student)?;
        stored::of(c, student)
    };
    Reply::ok(hub.read(read).await?)
}

pub async fn set(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let body: ListBody = req.json()?;
    if body.guardians.len() > guardians::MAX_GUARDIANS {
        return Err(ApiError::bad(format!(
            "guardians: at most {} a student",
            guardians::MAX_GUARDIANS
        )));
    }
    let given: Vec<Given> = body
        .guardians
        .into_iter()
        .map(|g| Given {
            name: g.name,
            relationship: g.relationship,
            email: g.email,
            phone: g.phone,
            language: g.language,
            notices: g.notices,
            responsibility: g.responsibility,
        })
        .collect();
    let (actor, now) = (who.actor(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(guardians::set(tx, student, &given, &actor, now)?);
    Reply::ok(hub.write(write).await?)
}

pub async fn import(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| ApiError::bad("the file is not UTF-8 text: save it as CSV UTF-8"))?
        .to_owned();
    let (actor, now) = (who.actor(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(guardians::import_csv(tx, &text, &actor, now)?);
    Reply::ok(hub.write(write).await?)
}

impl From<GuardianError> for ApiError {
    fn from(e: GuardianError) -> Self {
        match e {
            GuardianError::Invalid(m) => ApiError::BadRequest(m),
            GuardianError::Rows(rows) => ApiError::BadRows(rows),
            GuardianError::Store(s) => s.into(),
        }
    }
}
