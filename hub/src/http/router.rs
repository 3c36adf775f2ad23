//! The API's table of contents: one flat table of routes, each with its method, path, who may
//! call it, how large a body it reads, and its handler (kept in step with `openapi.json`; a
//! test compares them).
//!
//! A request is matched before anything else is done with it: an unknown path is 404 and a
//! known path with another method 405, whoever asks. Then the caller is authenticated and the
//! route's role checked, and only then is the body read, up to the route's limit: an
//! anonymous client cannot make the hub read 25 MiB.

use std::future::Future;
use std::pin::Pin;

use warp::http::Method;

use super::accounts::{account, auth, invitations, me, oidc, users};
use super::devices::{self, provision, quarantine, unit_settings};
use super::error::ApiError;
use super::families::{digest, family, family_messages, guardians, notices};
use super::office::{audit, calendar, mis, operations, privacy, roster, timetable};
use super::people::{archive, classes, consent, enrolment, faces, staff, staff_faces, students};
use super::register::{
    self, activities, class_photo, closed_set, review, sessions, strangers, today,
};
use super::reports::{self, analytics, history, registers};
use super::request::{Params, Reply, Request};
use super::site::{missing, on_site, roll_call, sign_outs, visitors};
use super::{district, health};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;

/// What a handler returns: its reply, some time later.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<Reply, ApiError>> + Send + 'a>>;
/// A handler anyone may call.
pub type Open = for<'a> fn(&'a Hub, &'a Request) -> Answer<'a>;
/// A handler for a signed-in caller.
pub type SignedIn = for<'a> fn(&'a Hub, &'a Request, &'a Principal) -> Answer<'a>;

/// Who may call a route, and its handler.
#[derive(Clone, Copy)]
pub enum Guard {
    /// No token needed.
    Anyone(Open),
    /// Any signed-in account, a student's included: the handler serves the caller's own.
    Own(SignedIn),
    /// Any signed-in member of staff; the handler narrows a teacher to their own classes.
    /// A student's account is refused here and on every guard below.
    User(SignedIn),
    /// Admins only.
    Admin(SignedIn),
    /// District admins only (`[district] admins`, on a hub of several schools).
    District(SignedIn),
}

/// Largest JSON body a route reads.
pub const JSON_LIMIT: u64 = 1024 * 1024;
/// Largest upload (multipart photos, roster files) a route reads.
pub const UPLOAD_LIMIT: u64 = 25 * 1024 * 1024;

/// One row of the table.
pub struct Route {
    pub method: Method,
    /// `/students/{student}/faces`: literal segments and named parameters.
    pub path: &'static str,
    pub guard: Guard,
    /// The most body bytes read.
    pub body_limit: u64,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Guard::Anyone(_) => "anyone",
            Guard::Own(_) => "any signed-in account",
            Guard::User(_) => "signed-in staff",
            Guard::Admin(_) => "admin",
            Guard::District(_) => "district admin",
        })
    }
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// `anyone!(f)`, `own!(f)`, `user!(f)`, `admin!(f)`: a guard around the async fn `f`.
macro_rules! anyone {
    ($f:path) => {
        Guard::Anyone(|hub, req| Box::pin($f(hub, req)))
    };
}
macro_rules! own {
    ($f:path) => {
        Guard::Own(|hub, req, who| Box::pin($f(hub, req, who)))
    };
}
macro_rules! user {
    ($f:path) => {
        Guard::User(|hub, req, who| Box::pin($f(hub, req, who)))
    };
}
macro_rules! admin {
    ($f:path) => {
        Guard::Admin(|hub, req, who| Box::pin($f(hub, req, who)))
    };
}

macro_rules! district {
    ($f:path) => {
        Guard::District(|hub, req, who| Box::pin($f(hub, req, who)))
    };
}

const fn route(method: Method, path: &'static str, guard: Guard) -> Route {
    Route {
        method,
        path,
        guard,
        body_limit: JSON_LIMIT,
    }
}

/// A route that reads uploads (photos, roster files).
const fn upload(method: Method, path: &'static str, guard: Guard) -> Route {
    Route {
        method,
        path,
        guard,
        body_limit: UPLOAD_LIMIT,
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

/// Every endpoint of the API, under `/api/v1`.
pub const ROUTES: &[Route] = &[
    route(GET, "/health", anyone!(health::health)),
    route(GET, "/metrics", anyone!(health::metrics)),
    route(GET, "/openapi.json", anyone!(health::openapi)),
    route(GET, "/privacy", anyone!(privacy::schedule)),
    route(POST, "/auth/login", anyone!(auth::login)),
    route(POST, "/auth/refresh", anyone!(auth::refresh)),
    route(POST, "/auth/logout", anyone!(auth::logout)),
    route(GET, "/auth/me", own!(auth::me)),
    route(GET, "/auth/methods", anyone!(oidc::methods)),
    route(GET, "/auth/oidc/start", anyone!(oidc::start)),
    route(GET, "/auth/oidc/callback", anyone!(oidc::callback)),
    route(GET, "/district/schools", district!(district::schools)),
    route(POST, "/district/schools", district!(district::add_school)),
    route(GET, "/district/attendance", district!(district::attendance)),
    route(
        POST,
        "/district/schools/{school}/admins",
        district!(district::add_admin),
    ),
    route(GET, "/users", admin!(users::list)),
    route(POST, "/users", admin!(users::create)),
    route(PATCH, "/users/{user}", admin!(users::update)),
    route(DELETE, "/users/{user}", admin!(users::delete)),
    route(POST, "/users/{user}/password", own!(users::set_password)),
    route(POST, "/users/{user}/invitation", admin!(invitations::again)),
    route(GET, "/invitations", admin!(invitations::list)),
    route(POST, "/invitations", admin!(invitations::create)),
    route(POST, "/invitations/look-up", anyone!(invitations::look_up)),
    route(POST, "/invitations/accept", anyone!(invitations::accept)),
    route(POST, "/replies/look-up", anyone!(notices::look_up)),
    route(POST, "/replies", anyone!(notices::reply)),
    route(GET, "/notices", user!(notices::list)),
    route(
        POST,
        "/notices/{student}/{day}/accept",
        user!(notices::accept),
    ),
    route(
        POST,
        "/notices/{student}/{day}/reject",
        user!(notices::reject),
    ),
    route(GET, "/me/student", own!(me::student)),
    route(GET, "/me/history", own!(history::mine)),
    route(GET, "/me/children", own!(family::children)),
    route(GET, "/me/children/{student}/history", own!(family::history)),
    route(
        POST,
        "/me/children/{student}/absences",
        own!(family::report_absence),
    ),
    route(GET, "/account", user!(account::get)),
    route(PATCH, "/account", user!(account::update)),
    route(GET, "/devices", admin!(devices::list)),
    route(POST, "/devices", admin!(devices::register_device)),
    route(POST, "/devices/{device}/enable", admin!(devices::enable)),
    route(POST, "/devices/{device}/disable", admin!(devices::disable)),
    route(POST, "/devices/{device}/resync", admin!(devices::resync)),
    route(PATCH, "/devices/{device}", admin!(devices::update)),
    route(POST, "/devices/{device}/retire", admin!(devices::retire)),
    route(POST, "/devices/{device}/replace", admin!(devices::replace)),
    route(
        GET,
        "/devices/{device}/settings",
        admin!(unit_settings::of_device),
    ),
    route(
        PUT,
        "/devices/{device}/settings",
        admin!(unit_settings::set_device),
    ),
    route(GET, "/room-settings", admin!(unit_settings::of_room)),
    route(PUT, "/room-settings", admin!(unit_settings::set_room)),
    route(
        POST,
        "/devices/{device}/provisioning-code",
        admin!(provision::create_code),
    ),
    route(POST, "/provision", anyone!(provision::redeem)),
    route(GET, "/audit", admin!(audit::audit)),
    route(GET, "/export", admin!(audit::export)),
    upload(POST, "/roster/import", admin!(roster::import)),
    route(POST, "/email/test", admin!(digest::test)),
    route(POST, "/email/digest/preview", admin!(digest::preview)),
    route(GET, "/email/digests", admin!(digest::list)),
    route(GET, "/webhooks/deliveries", admin!(operations::deliveries)),
    route(GET, "/backups", admin!(operations::backups)),
    route(GET, "/mis", admin!(mis::status)),
    route(POST, "/mis/try", admin!(mis::try_connection)),
    route(GET, "/mis/codes", admin!(mis::codes)),
    route(PUT, "/mis/codes", admin!(mis::set_code)),
    route(DELETE, "/mis/codes", admin!(mis::delete_code)),
    route(POST, "/mis/days/{student}/{day}/again", admin!(mis::again)),
    route(
        POST,
        "/mis/lessons/{slot}/{day}/{student}/again",
        admin!(mis::again_lesson),
    ),
    route(POST, "/mis/compare", admin!(mis::compare)),
    route(GET, "/mis/differences", admin!(mis::differences)),
    route(
        POST,
        "/mis/differences/{student}/{day}/ours",
        admin!(mis::keep_ours),
    ),
    route(
        POST,
        "/mis/differences/{student}/{day}/theirs",
        admin!(mis::take_theirs),
    ),
    route(GET, "/quarantine", admin!(quarantine::list)),
    route(DELETE, "/quarantine/{record}", admin!(quarantine::dismiss)),
    route(
        GET,
        "/quarantine/{record}/thumbnail",
        admin!(quarantine::thumbnail),
    ),
    route(GET, "/classes", user!(classes::classes)),
    route(POST, "/classes", admin!(classes::create_class)),
    route(GET, "/classes/{class}", user!(classes::class)),
    route(PUT, "/classes/{class}", admin!(classes::update_class)),
    route(DELETE, "/classes/{class}", admin!(classes::delete_class)),
    route(
        PUT,
        "/classes/{class}/reference",
        admin!(classes::set_reference),
    ),
    route(GET, "/classes/{class}/students", user!(classes::members)),
    route(
        POST,
        "/classes/{class}/invitations",
        admin!(invitations::class),
    ),
    route(
        PUT,
        "/classes/{class}/students/{student}",
        admin!(classes::add_member),
    ),
    route(
        DELETE,
        "/classes/{class}/students/{student}",
        admin!(classes::remove_member),
    ),
    route(GET, "/students", user!(students::list)),
    route(POST, "/students", admin!(students::create)),
    route(
        GET,
        "/students/{student}/guardians",
        admin!(guardians::list),
    ),
    route(PUT, "/students/{student}/guardians", admin!(guardians::set)),
    route(POST, "/guardians/import", admin!(guardians::import)),
    route(GET, "/students/{student}", user!(students::get)),
    route(PUT, "/students/{student}", admin!(students::replace)),
    route(PATCH, "/students/{student}", admin!(students::update)),
    route(DELETE, "/students/{student}", admin!(students::delete)),
    route(
        GET,
        "/students/{student}/embeddings",
        admin!(classes::embeddings),
    ),
    route(
        POST,
        "/students/{student}/embeddings",
        admin!(classes::enrol_embedding),
    ),
    route(GET, "/students/{student}/consent", user!(consent::get)),
    route(PUT, "/students/{student}/consent", admin!(consent::set)),
    route(POST, "/consent", admin!(consent::set_many)),
    route(GET, "/students/{student}/archive", admin!(archive::student)),
    route(GET, "/students/{student}/faces", user!(faces::list)),
    upload(POST, "/students/{student}/faces", admin!(faces::upload)),
    upload(POST, "/enrolment/photos", admin!(enrolment::photos_at_once)),
    route(
        PATCH,
        "/students/{student}/faces/{face}",
        admin!(faces::update),
    ),
    route(
        DELETE,
        "/students/{student}/faces/{face}",
        admin!(faces::delete),
    ),
    route(
        GET,
        "/students/{student}/faces/{face}/thumbnail",
        user!(faces::thumbnail),
    ),
    route(GET, "/timetable", user!(timetable::slots)),
    route(POST, "/timetable", admin!(timetable::create_slot)),
    route(PUT, "/timetable/{slot}", admin!(timetable::update_slot)),
    route(DELETE, "/timetable/{slot}", admin!(timetable::delete_slot)),
    route(GET, "/calendar/terms", user!(timetable::terms)),
    route(POST, "/calendar/terms", admin!(timetable::create_term)),
    route(
        PATCH,
        "/calendar/terms/{term}",
        admin!(timetable::update_term),
    ),
    route(
        DELETE,
        "/calendar/terms/{term}",
        admin!(timetable::delete_term),
    ),
    route(GET, "/calendar/holidays", user!(timetable::holidays)),
    route(
        POST,
        "/calendar/holidays",
        admin!(timetable::create_holiday),
    ),
    route(
        PATCH,
        "/calendar/holidays/{day}",
        admin!(timetable::update_holiday),
    ),
    route(
        DELETE,
        "/calendar/holidays/{day}",
        admin!(timetable::delete_holiday),
    ),
    route(POST, "/calendar/preview", admin!(calendar::preview)),
    route(GET, "/records", user!(review::list)),
    route(GET, "/records/{record}", user!(review::one)),
    route(DELETE, "/records/{record}", admin!(review::delete)),
    route(GET, "/records/{record}/thumbnail", user!(review::thumbnail)),
    route(POST, "/records/{record}/approve", user!(review::approve)),
    route(POST, "/records/{record}/reject", user!(review::reject)),
    route(POST, "/records/{record}/reassign", user!(review::reassign)),
    route(POST, "/records/{record}/undo", user!(review::undo)),
    route(GET, "/review", user!(review::queue)),
    route(GET, "/review/lessons", user!(closed_set::lessons)),
    route(GET, "/strangers", user!(strangers::list)),
    route(
        POST,
        "/strangers/{stranger}/dismiss",
        user!(strangers::dismiss),
    ),
    route(
        POST,
        "/strangers/{stranger}/assign",
        user!(strangers::assign),
    ),
    route(
        POST,
        "/strangers/{stranger}/enrol",
        admin!(strangers::enrol),
    ),
    route(GET, "/today", user!(today::today)),
    route(GET, "/activities", user!(activities::list)),
    route(POST, "/activities", user!(activities::create)),
    route(GET, "/activities/{id}", user!(activities::one)),
    route(DELETE, "/activities/{id}", user!(activities::cancel)),
    route(POST, "/activities/{id}/pupils", user!(activities::add)),
    route(
        PUT,
        "/activities/{id}/pupils/{student}",
        user!(activities::mark),
    ),
    route(
        DELETE,
        "/activities/{id}/pupils/{student}",
        user!(activities::remove),
    ),
    route(POST, "/activities/{id}/register", user!(activities::take)),
    route(GET, "/sign-outs", user!(sign_outs::list)),
    route(POST, "/sign-outs", user!(sign_outs::sign_out)),
    route(POST, "/sign-outs/{id}/sign-in", user!(sign_outs::sign_in)),
    route(POST, "/visitors", user!(visitors::sign_in)),
    route(GET, "/visitors", user!(visitors::list)),
    route(POST, "/visitors/sign-out", user!(visitors::sign_out)),
    route(
        POST,
        "/visitors/{visitor}/sign-out",
        user!(visitors::sign_out_visit),
    ),
    route(GET, "/family-messages", admin!(family_messages::list)),
    route(
        PUT,
        "/family-messages/{kind}/{language}",
        admin!(family_messages::put),
    ),
    route(
        DELETE,
        "/family-messages/{kind}/{language}",
        admin!(family_messages::delete),
    ),
    route(
        POST,
        "/family-messages/{kind}/{language}/preview",
        admin!(family_messages::preview),
    ),
    route(GET, "/missing", user!(missing::board)),
    route(GET, "/on-site", user!(on_site::on_site)),
    route(GET, "/staff", user!(staff::list)),
    route(POST, "/staff", admin!(staff::create)),
    route(POST, "/staff/import", admin!(staff::import)),
    route(POST, "/staff/sign-in", user!(staff::sign_in)),
    route(POST, "/staff/sign-out", user!(staff::sign_out)),
    route(GET, "/staff/log", user!(staff::log)),
    route(PUT, "/staff/{id}", admin!(staff::update)),
    route(DELETE, "/staff/{id}", admin!(staff::delete)),
    route(PUT, "/staff/{id}/consent", admin!(staff_faces::consent)),
    route(GET, "/staff/{id}/faces", admin!(staff_faces::list)),
    upload(POST, "/staff/{id}/faces", admin!(staff_faces::upload)),
    route(
        GET,
        "/staff/{id}/faces/{face}/thumbnail",
        admin!(staff_faces::thumbnail),
    ),
    route(
        DELETE,
        "/staff/{id}/faces/{face}",
        admin!(staff_faces::delete),
    ),
    route(GET, "/roll-call", user!(roll_call::now)),
    route(GET, "/roll-calls", user!(roll_call::list)),
    route(POST, "/roll-calls", user!(roll_call::start)),
    route(GET, "/roll-calls/{id}", user!(roll_call::one)),
    route(
        PUT,
        "/roll-calls/{id}/people/{student}",
        user!(roll_call::tick),
    ),
    route(
        PUT,
        "/roll-calls/{id}/visitors/{visitor}",
        user!(roll_call::tick_visitor),
    ),
    route(
        PUT,
        "/roll-calls/{id}/staff/{member}",
        user!(roll_call::tick_staff),
    ),
    route(POST, "/roll-calls/{id}/end", user!(roll_call::end)),
    route(GET, "/sessions", user!(sessions::of_day)),
    route(GET, "/sessions/{slot}/{day}", user!(sessions::roster)),
    route(
        PUT,
        "/sessions/{slot}/{day}/marks/{student}",
        user!(sessions::set_mark),
    ),
    route(
        POST,
        "/sessions/{slot}/{day}/register",
        user!(sessions::take),
    ),
    route(
        DELETE,
        "/sessions/{slot}/{day}/marks/{student}",
        user!(sessions::clear_mark),
    ),
    upload(
        POST,
        "/sessions/{slot}/{day}/photos",
        user!(class_photo::upload),
    ),
    route(
        POST,
        "/sessions/{slot}/{day}/suggestion",
        user!(closed_set::confirm),
    ),
    route(
        POST,
        "/sessions/{slot}/{day}/amendments/{student}",
        user!(register::amend),
    ),
    route(GET, "/codes", user!(register::codes)),
    route(PUT, "/codes", admin!(register::put_code)),
    route(DELETE, "/codes", admin!(register::delete_code)),
    route(
        GET,
        "/reports/sessions/{slot}/{day}",
        user!(registers::session),
    ),
    route(GET, "/reports/classes/{class}", user!(registers::class)),
    route(
        GET,
        "/reports/classes/{class}/stats",
        user!(registers::class_stats),
    ),
    route(
        GET,
        "/reports/students/{student}",
        user!(registers::student),
    ),
    route(GET, "/reports/consent", user!(consent::coverage)),
    route(
        GET,
        "/reports/classes/{class}/register",
        user!(reports::class_register),
    ),
    route(
        GET,
        "/reports/classes/{class}/statutory",
        user!(registers::statutory),
    ),
    route(GET, "/reports/school/trend", user!(reports::school_trend)),
    route(GET, "/reports/analytics", user!(analytics::analytics)),
    route(
        GET,
        "/reports/school/at-risk",
        user!(reports::school_at_risk),
    ),
    route(
        GET,
        "/reports/students/{student}/history",
        user!(history::history),
    ),
];

/// The route for `method` and the segments after `/api/v1`, with the path's parameters.
pub fn find(method: &Method, segments: &[&str]) -> Result<(&'static Route, Params), ApiError> {
    let mut allowed: Vec<&str> = Vec::new();
    for route in ROUTES {
        let Some(params) = matches(route.path, segments) else {
            continue;
        };
        if route.method == *method {
            return Ok((route, params));
        }
        allowed.push(route.method.as_str());
    }
    match allowed.is_empty() {
        true => Err(ApiError::NoRoute),
        false => Err(ApiError::MethodNotAllowed {
            allow: allowed.join(", "),
        }),
    }
}

/// The parameters of `segments` if they fit `pattern`.
fn matches(pattern: &'static str, segments: &[&str]) -> Option<Params> {
    let wanted: Vec<&'static str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if wanted.len() != segments.len() {
        return None;
    }
    let mut params = Params::new();
    for (want, got) in wanted.into_iter().zip(segments) {
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => params.push((name, (*got).to_owned())),
            None if want == *got => {}
            None => return None,
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_path(method: Method, path: &str) -> Result<(&'static Route, Params), ApiError> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        find(&method, &segments)
    }

    #[test]
    fn paths_match_whole_segments_and_name_their_parameters() {
        let (route, params) = find_path(GET, "/students/s1/faces/f2/thumbnail").unwrap();
        assert_eq!(route.path, "/students/{student}/faces/{face}/thumbnail");
        assert_eq!(
            params,
            vec![("student", "s1".into()), ("face", "f2".into())]
        );
        assert!(matches!(
            find_path(GET, "/users/x/y"),
            Err(ApiError::NoRoute)
        ));
        assert!(matches!(find_path(GET, "/nothing"), Err(ApiError::NoRoute)));
        assert!(matches!(
            find_path(PATCH, "/students"),
            Err(ApiError::MethodNotAllowed { allow }) if allow == "GET, POST"
        ));
    }

    #[test]
    fn no_two_routes_share_a_method_and_path_and_only_uploads_read_more_than_json() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    a.method != b.method || a.path != b.path,
                    "{a:?} is in the table twice"
                );
            }
            let upload = (a.path.ends_with("/faces")
                || a.path.ends_with("/photos")
                || a.path == "/roster/import")
                && a.method == POST;
            assert_eq!(a.body_limit > JSON_LIMIT, upload, "{a:?}");
        }
    }

    /// `{student}` and `{id}` name the same thing: only where parameters stand matters.
    fn shape(path: &str) -> String {
        path.split('/')
            .map(|s| if s.starts_with('{') { "{}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn the_table_and_the_openapi_document_list_the_same_operations() {
        let doc: serde_json::Value = serde_json::from_str(crate::http::health::OPENAPI).unwrap();
        let mut documented: Vec<String> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if method != "parameters" {
                    documented.push(format!("{} {}", method.to_uppercase(), shape(path)));
                }
            }
        }
        let mut routed: Vec<String> = ROUTES
            .iter()
            .map(|r| format!("{} {}", r.method, shape(r.path)))
            .collect();
        documented.sort();
        routed.sort();
        assert_eq!(routed, documented);
    }
}
