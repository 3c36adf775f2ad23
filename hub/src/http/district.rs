//! The district admin's endpoints, on a hub serving several schools (`[district] admins`):
//! every school's figures, read from the database they share; every school's attendance over
//! a range, counted as each school's own reports count it; and making an admin of any school
//! this hub serves (a new school's first, or one replacing an admin who left), audited in
//! that school's log as the district admin's doing.

use serde::{Deserialize, Serialize};

use serde_json::json;

use super::error::ApiError;
use super::input;
use super::reports::{csv_line, csv_reply};
use super::request::{Reply, Request};
use super::school_reports::{COUNTS_HEADER, counts_fields, given_range};
use super::users::new_password;
use crate::accounts::{self, NewUser};
use crate::auth::Principal;
use crate::http_state::Hub;
use crate::reports::{self, Counts};
use crate::store::Sql;
use crate::store::users::Role;

/// The figures of one school, as a district admin reads them.
#[derive(Debug, Serialize)]
struct SchoolFigures {
    /// Its schema in the shared database.
    schema: String,
    /// Its site, when this hub serves it (`[[schools]]`); only such a school's admins can be
    /// made here.
    site: Option<String>,
    schema_version: i64,
    students: i64,
    devices: i64,
    devices_online: i64,
    /// Records received in the last 24 hours.
    records_24h: i64,
    pending_review: i64,
}

#[derive(Debug, Serialize)]
struct DistrictFigures {
    schools: Vec<SchoolFigures>,
    /// Schemas of the database that look like a school's but cannot be read as one.
    set_aside: Vec<SetAsideSchema>,
    totals: Totals,
}

#[derive(Debug, Serialize)]
struct SetAsideSchema {
    schema: String,
    why: String,
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    schools: usize,
    students: i64,
    devices: i64,
    devices_online: i64,
    records_24h: i64,
    pending_review: i64,
}

/// `GET /district/schools`: every school of the database with its size, its door units and
/// its last day's records, and the district's totals.
pub async fn schools(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let since = hub.now().0 - 24 * 3600 * 1000;
    let (found, odd) = hub.db.district(since).await?;
    let district = hub.district.as_deref();
    let mut totals = Totals::default();
    let schools = found
        .into_iter()
        .map(|s| {
            totals.schools += 1;
            totals.students += s.students;
            totals.devices += s.devices;
            totals.devices_online += s.online;
            totals.records_24h += s.records;
            totals.pending_review += s.pending;
            SchoolFigures {
                site: district
                    .and_then(|d| d.site_of(&s.schema))
                    .map(str::to_owned),
                schema: s.schema.to_string(),
                schema_version: s.version,
                students: s.students,
                devices: s.devices,
                devices_online: s.online,
                records_24h: s.records,
                pending_review: s.pending,
            }
        })
        .collect();
    let set_aside = odd
        .into_iter()
        .map(|s| SetAsideSchema {
            schema: s.name,
            why: s.why,
        })
        .collect();
    Reply::ok(DistrictFigures {
        schools,
        set_aside,
        totals,
    })
}

/// One school's attendance over the range.
#[derive(Debug, Serialize)]
struct SchoolAttendance {
    site: String,
    #[serde(flatten)]
    counts: Counts,
}

/// `GET /district/attendance?from&to`: each school's student-sessions by outcome and its
/// attendance rate over the range, and the district's; CSV with `?format=csv`.
pub async fn attendance(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let (from, to) =
        given_range(req)?.ok_or_else(|| ApiError::bad("?from and ?to are required"))?;
    let now = hub.now();
    let mut schools = Vec::new();
    let mut district = Counts::default();
    for (site, school) in hub.district.iter().flat_map(|d| d.schools()) {
        let rules = school.rules.clone();
        let read = move |c: &dyn Sql| reports::school_counts(c, (from, to), &rules, now);
        let counts = school.db.read(read).await?;
        district.merge(&counts);
        let site = site.to_owned();
        schools.push(SchoolAttendance { site, counts });
    }
    if req.wants_csv() {
        let mut out = csv_line(&[["school"].as_slice(), &COUNTS_HEADER].concat());
        let all = SchoolAttendance {
            site: "(district)".into(),
            counts: district,
        };
        for school in schools.iter().chain([&all]) {
            let fields: Vec<String> = std::iter::once(school.site.clone())
                .chain(counts_fields(&school.counts))
                .collect();
            out += &csv_line(&fields.iter().map(String::as_str).collect::<Vec<_>>());
        }
        return Ok(csv_reply(
            format!("district-attendance-{from}-{to}.csv"),
            out,
        ));
    }
    Reply::ok(json!({"from": from, "to": to, "schools": schools, "district": district}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminBody {
    username: String,
    display_name: Option<String>,
    password: String,
}

/// `POST /district/schools/{school}/admins`: an admin for the school whose site is `school`,
/// which this hub must serve.
pub async fn add_admin(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let site = req.param("school").to_owned();
    let school = hub.district.as_deref().and_then(|d| d.school(&site));
    let Some(db) = school.cloned() else {
        return Err(ApiError::NotFound(format!(
            "school {:?} on this hub",
            input::clip(&site)
        )));
    };
    let body: AdminBody = req.json()?;
    let display_name = match &body.display_name {
        Some(name) => input::name("display_name", name)?,
        None => body.username.clone(),
    };
    let password = new_password(hub, body.password).await?;
    let (actor, now) = (
        format!("district:{}/{}", hub.config.site, who.username),
        hub.now(),
    );
    let user = db
        .write(move |tx| {
            let new = NewUser {
                username: &body.username,
                display_name: &display_name,
                role: Role::Admin,
                password: &password,
                email: None,
            };
            accounts::create_user(tx, &new, &actor, now).map_err(ApiError::from)
        })
        .await?;
    Reply::created(user)
}
