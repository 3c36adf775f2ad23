//! The district admin's endpoints, on a hub serving several schools (`[district] admins`):
//! every school's figures, read from the database they share; every school's attendance over
//! a range, counted as each school's own reports count it; adding a school, which every hub
//! of the district then serves without a restart; and making an admin of any school this hub
//! serves (a new school's first, or one replacing an admin who left), audited in that
//! school's log as the district admin's doing.

use std::time::Duration;

use rollcall_shared::{SiteId, SiteZone};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::users::new_password;
use super::error::ApiError;
use super::input;
use super::reports::{COUNTS_HEADER, counts_fields, given_range};
use super::request::{Reply, Request};
use crate::config::SchoolConfig;
use crate::config::schools::validate;
use crate::http_state::Hub;
use rollcall_school::accounts::{self, NewUser};
use rollcall_school::csv;
use rollcall_school::principal::Principal;
use rollcall_school::reports::{self, Counts};
use rollcall_store::audit::{self, Change};
use rollcall_store::postgres::{AddedSchool, Schema};
use rollcall_store::users::Role;
use rollcall_store::{Dialect, Sql};

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
                site: district.and_then(|d| d.site_of(&s.schema)),
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
        schools.push(SchoolAttendance { site, counts });
    }
    if req.wants_csv() {
        let mut out = csv::line(&[["school"].as_slice(), &COUNTS_HEADER].concat());
        let all = SchoolAttendance {
            site: "(district)".into(),
            counts: district,
        };
        for school in schools.iter().chain([&all]) {
            let fields: Vec<String> = std::iter::once(school.site.clone())
                .chain(counts_fields(&school.counts))
                .collect();
            out += &csv::line(&fields.iter().map(String::as_str).collect::<Vec<_>>());
        }
        return Ok(Reply::csv(
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
    let Some(db) = school else {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSchoolBody {
    site: String,
    hosts: Vec<String>,
    timezone: Option<String>,
    schema: Option<String>,
}

/// The school a district admin's request describes, checked on its own: its site, its
/// schema, its time zone (else the time zone of the school the admin signed in at) and its
/// host names, of which it needs one.
fn new_school(hub: &Hub, body: NewSchoolBody) -> Result<(SchoolConfig, SiteZone), ApiError> {
    let site = SiteId::new(body.site).map_err(|e| ApiError::bad(format!("site: {e}")))?;
    let zone = match &body.timezone {
        Some(name) => SiteZone::named(name).map_err(|e| ApiError::bad(format!("timezone: {e}")))?,
        None => hub.config.timezone.clone(),
    };
    let schema = body.schema.map(Schema::try_from).transpose();
    let schema = schema.map_err(|why| ApiError::bad(format!("schema: {why}")))?;
    if body.hosts.is_empty() {
        return Err(ApiError::bad(
            "hosts: give the school at least one host name: each school of a district is \
             found by the host name a request is sent to",
        ));
    }
    let school = SchoolConfig {
        schema,
        timezone: Some(zone.clone()),
        ..SchoolConfig::new(site, body.hosts)
    };
    validate(std::slice::from_ref(&school)).map_err(ApiError::BadRequest)?;
    Ok((school, zone))
}

/// How long the hub that adds a school may take to start serving it.
const STARTING: Duration = Duration::from_secs(30);

/// `POST /district/schools`: a new school of the district, at the host names given. It is
/// listed in the district's table, checked there against every school of the file and
/// every school added before (409 on a site, schema or host name already taken); its
/// schema is made; and this hub serves it before it answers (the district's other hubs
/// within seconds). Its first admin is made next, with `POST /district/schools/{school}/admins`.
pub async fn add_school(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let Some(district) = hub.district.clone() else {
        return Err(ApiError::NotFound("a district on this hub".into()));
    };
    if hub.db.dialect() == Dialect::Sqlite {
        return Err(ApiError::Conflict(
            "this hub keeps its school in SQLite: a district's schools share a PostgreSQL \
             database ([store] url)"
                .into(),
        ));
    }
    let (school, zone) = new_school(hub, req.json()?)?;
    let schema = school.schema().map_err(ApiError::BadRequest)?;
    let actor = format!("district:{}/{}", hub.config.site, who.username);
    let added = AddedSchool {
        site: school.site.to_string(),
        schema: schema.to_string(),
        timezone: zone.name().to_owned(),
        hosts: school.hosts.clone(),
        added_at: hub.now().0,
        added_by: format!("{}/{}", hub.config.site, who.username),
    };
    let listed = district.listed().to_vec();
    // Beside the file's schools and those added before; one added, then listed in the file
    // too, is the file's.
    let fits = move |present: &[AddedSchool]| {
        let present = present
            .iter()
            .filter_map(|s| SchoolConfig::try_from(s).ok());
        let unlisted = present.filter(|s| listed.iter().all(|l| l.site != s.site));
        let unlisted: Vec<SchoolConfig> = unlisted.collect();
        let all: Vec<SchoolConfig> = listed.into_iter().chain(unlisted).chain([school]).collect();
        validate(&all)
    };
    hub.db.add_school(added.clone(), fits).await?;
    // Its schema on this school's connections, its faces under the district's key file.
    let (store, mut config) = (hub.db.clone(), (*hub.config).clone());
    config.store.schema = schema;
    let db = tokio::task::spawn_blocking(move || {
        crate::setup::open_school(&store, &config).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let (row, now) = (json!(added), hub.now());
    let target = format!("school:{}", added.site);
    db.write(move |tx| {
        let change = Change {
            actor: &actor,
            action: "school.add",
            target,
            before: None,
            after: Some(row),
            at: now,
        };
        audit::log(tx, change).map_err(ApiError::from)
    })
    .await?;
    district.look_now();
    if !district.serves_within(&added.site, STARTING).await {
        return Err(ApiError::Unavailable(format!(
            "school {:?} is added, but this hub has not started serving it yet: its log says why",
            added.site
        )));
    }
    Reply::created(added)
}
