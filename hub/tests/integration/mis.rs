//! The register written back to the school's MIS through a real hub and the Wonde and Ed-Fi
//! contract stand-ins, each its own process checking every request against the vendor's
//! published definitions: the morning register closes and its marks are written; an amendment
//! rewrites the day (newest wins, no second mark); a pupil unknown to the MIS and a code
//! without a mapping are refused and listed for the office, and written once fixed; an MIS
//! that throttles or fails is retried with its words shown; Try the connection says what the
//! MIS said.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use rollcall_e2e::standin::launch::StandIn;
use rollcall_hub::config::{Config, WondeConfig};
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::*;

pub(crate) const TOKEN: &str = "7e76896f9aca62569048c667db292d72dd84f224";
pub(crate) const SCHOOL: &str = "A1930499544";
/// Ada and Bo in Wonde (Wonde's id = the MIS's id); the hub knows them by their MIS ids.
const STUDENTS: &str = "A1749191433=9919,A1749191434=9920";
/// England's `/` and `N` in the stand-in's default codes.
pub(crate) const PRESENT: &str = "A1000000001";
pub(crate) const NO_REASON: &str = "A1000000019";

pub(crate) fn wonde() -> StandIn {
    let args = ["--token", TOKEN, "--school", SCHOOL, "--students", STUDENTS];
    StandIn::start("rollcall-fake-wonde", &args).unwrap()
}

/// `[mis.wonde]` towards `fake`, its token in a file under `dir`, a pass every second; the
/// admin's sign-in lasts the school day the tests move the clock through.
pub(crate) fn write_back_to(c: &mut Config, fake: &StandIn, dir: &Path) {
    let token_file = dir.join("wonde-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    c.auth.access_token_minutes = 1440;
    c.register.check_every_secs = 1;
    c.mis.check_every_secs = 1;
    c.mis.timeout_secs = 2;
    // These tests are the statutory sessions'; the lesson registers have theirs
    // (`mis_lessons`), which turn this on.
    c.mis.lessons = false;
    c.mis.wonde = Some(WondeConfig {
        url: fake.url(""),
        school_id: SCHOOL.into(),
        token_file,
    });
}

/// `GET` of the school's `path` at the stand-in, as Wonde's client for the school.
pub(crate) async fn wonde_get(fake: &StandIn, path: &str) -> Value {
    let url = fake.url(&format!("/v1.0/schools/{SCHOOL}/{path}"));
    let answer = fake.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    answer.json().await.unwrap()
}

/// The session marks the stand-in keeps, as (student, date, session, code id).
pub(crate) async fn kept(fake: &StandIn) -> Vec<(String, String, String, String)> {
    let answer = wonde_get(fake, "attendance/session?per_page=200").await;
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let mut marks: Vec<_> = answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                text(m, "student_id"),
                text(m, "date"),
                text(m, "session"),
                text(m, "attendance_code_id"),
            )
        })
        .collect();
    marks.sort();
    marks
}

/// The session registers the hub posted to the stand-in.
pub(crate) async fn registers_posted(fake: &StandIn) -> Vec<Value> {
    let all = fake.requests().await;
    all.into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("session"))
        .collect()
}

/// Waits until `GET /mis` satisfies `ok`; returns it.
pub(crate) async fn mis_until(admin: &Api, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, mis) = admin.get("/mis").await;
        assert_eq!(status, StatusCode::OK, "{mis}");
        if ok(&mis) {
            return mis;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {mis:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Maps each of `codes` to the same code at the MIS.
pub(crate) async fn map_codes(admin: &Api, codes: &[&str]) {
    for code in codes {
        let (status, body) = admin
            .put("/mis/codes", json!({"code": code, "mis_code": code}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

/// Ada and Bo given their MIS ids (9919 and 9920), and each of `codes` mapped to itself.
pub(crate) async fn known_to_the_mis(admin: &Api, s: &School, codes: &[&str]) {
    set_reference(admin, &s.students[0], "9919").await;
    set_reference(admin, &s.students[1], "9920").await;
    map_codes(admin, codes).await;
}

pub(crate) async fn set_reference(admin: &Api, student: &str, reference: &str) {
    let (status, body) = admin
        .patch(
            &format!("/students/{student}"),
            json!({"external_ref": reference}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_morning_register_is_written_back_and_an_amendment_rewrites_it() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| write_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    known_to_the_mis(&admin, &s, &["/", "N", "I"]).await;

    // Try the connection: the token and the school's id work.
    let (status, tried) = admin.post("/mis/try", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert_eq!(tried["ok"], true, "{tried}");
    assert!(tried["said"].as_str().unwrap().contains(SCHOOL), "{tried}");

    // Ada comes in at 09:02; Bo does not. The register closes after 10:00.
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    assert!(
        kept(&fake).await.is_empty(),
        "nothing before the register closes"
    );
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    let mis = mis_until(&admin, "the morning written", |m| {
        m["counts"]["written"] == 2
    })
    .await;
    assert_eq!(mis["connector"], "Wonde");
    assert!(mis["counts"]["last_written_at"].is_i64(), "{mis}");
    assert_eq!(
        kept(&fake).await,
        vec![
            (
                "A1749191433".into(),
                "2026-11-23".into(),
                "AM".into(),
                PRESENT.into()
            ),
            (
                "A1749191434".into(),
                "2026-11-23".into(),
                "AM".into(),
                NO_REASON.into()
            ),
        ]
    );

    // The office hears Bo was ill: the lesson is amended and the day written again, replacing
    // the MIS's mark rather than adding one.
    let amend = format!("/sessions/{}/2026-11-23/amendments/{bo}", s.slot);
    let (status, body) = admin
        .post(&amend, json!({"code": "I", "reason": "Mum rang: flu"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let illness = wait_for_code(&fake, "A1749191434", |code| code != NO_REASON).await;
    let codes = codes_at(&fake).await;
    assert_eq!(codes.get(&illness).map(String::as_str), Some("I"));
    assert_eq!(
        kept(&fake).await.len(),
        2,
        "still one mark per pupil and session"
    );
    let posted = registers_posted(&fake).await;
    assert_eq!(posted.len(), 3, "Ada once, Bo twice: {posted:#?}");
    assert!(posted.iter().all(|r| r["status"] == 200), "{posted:#?}");

    // A pass that finds nothing new writes nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(registers_posted(&fake).await.len(), 3);
}

/// Waits until the stand-in's AM mark of `student` satisfies `ok`; returns its code id.
pub(crate) async fn wait_for_code(
    fake: &StandIn,
    student: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let marks = kept(fake).await;
        if let Some((.., code)) = marks.iter().find(|m| m.0 == student && ok(&m.3)) {
            return code.clone();
        }
        assert!(std::time::Instant::now() < deadline, "{student}: {marks:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The stand-in's codes, id to code.
pub(crate) async fn codes_at(fake: &StandIn) -> std::collections::HashMap<String, String> {
    let answer = wonde_get(fake, "attendance-codes?per_page=200").await;
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn what_the_mis_cannot_take_is_listed_with_why_and_written_once_fixed() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| write_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    // Ada's reference is one the MIS does not know; Bo has none yet. Only `/` is mapped.
    set_reference(&admin, &ada, "9999").await;
    map_codes(&admin, &["/"]).await;
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));

    let mis = mis_until(&admin, "both refused", |m| m["counts"]["refused"] == 2).await;
    let why = |student: &str| -> String {
        let refused = mis["refused"].as_array().unwrap();
        let day = refused.iter().find(|d| d["student"] == student).unwrap();
        day["last_error"].as_str().unwrap().to_owned()
    };
    assert!(why(&ada).contains("9999"), "the MIS's words: {mis:#}");
    assert!(why(&bo).contains("no reference in the MIS"), "{mis:#}");
    assert!(
        mis["unmapped"].as_array().unwrap().contains(&json!("N")),
        "{mis:#}"
    );
    // Refused days are not tried again by themselves.
    let posted = registers_posted(&fake).await.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(registers_posted(&fake).await.len(), posted);

    // The office fixes both: Bo's reference, then the mapping of N, which writes Bo's day
    // again at once; Ada's reference, then "write it again".
    set_reference(&admin, &bo, "9920").await;
    let (status, body) = admin
        .post(&format!("/mis/days/{bo}/2026-11-23/again"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mis = mis_until(&admin, "Bo refused for want of N", |m| {
        m["refused"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["student"] == bo && d["last_error"].as_str().unwrap().contains("'N'"))
    })
    .await;
    assert_eq!(mis["counts"]["written"], 0);
    map_codes(&admin, &["N"]).await;
    wait_for_code(&fake, "A1749191434", |code| code == NO_REASON).await;
    set_reference(&admin, &ada, "9919").await;
    let (status, _) = admin
        .post(&format!("/mis/days/{ada}/2026-11-23/again"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    wait_for_code(&fake, "A1749191433", |code| code == PRESENT).await;
    let mis = mis_until(&admin, "both written", |m| m["counts"]["written"] == 2).await;
    assert_eq!(mis["counts"]["refused"], 0, "{mis:#}");

    let (_, audit) = admin.get("/audit?action=mis.refused").await;
    assert!(audit.to_string().contains("9999"), "{audit}");
}

#[tokio::test]
async fn an_mis_that_throttles_or_fails_is_tried_again_with_its_words_shown() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| write_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    known_to_the_mis(&admin, &s, &["/", "N"]).await;
    fake.control(json!({"mode": "throttle", "retryAfter": 1}))
        .await;

    let (_, tried) = admin.post("/mis/try", json!({})).await;
    assert_eq!(tried["ok"], false, "{tried}");
    assert!(tried["said"].as_str().unwrap().contains("429"), "{tried}");

    hub.clock.set(UnixMillis(monday_at(10, 35)));
    let mis = mis_until(&admin, "failing", |m| {
        m["failing"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(mis["counts"]["pending"], 2);
    let error = mis["failing"][0]["last_error"].as_str().unwrap();
    assert!(error.contains("429"), "{error}");

    // The MIS recovers; the hub's clock moves past the backoff and the days are written.
    fake.control(json!({"mode": "ok"})).await;
    hub.clock.set(UnixMillis(monday_at(11, 0)));
    let mis = mis_until(&admin, "written", |m| m["counts"]["written"] == 2).await;
    assert!(mis["failing"].as_array().unwrap().is_empty(), "{mis:#}");
    assert_eq!(kept(&fake).await.len(), 2);
}

#[tokio::test]
async fn without_a_connector_the_office_is_told_how_to_set_one_up() {
    let hub = start_hub_with(None, |_| {}).await;
    let admin = hub.admin().await;
    let (status, mis) = admin.get("/mis").await;
    assert_eq!(status, StatusCode::OK, "{mis}");
    assert_eq!(mis["connector"], Value::Null);
    let (status, body) = admin.post("/mis/try", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("[mis.wonde]"), "{body}");
    let (status, body) = admin
        .put("/mis/codes", json!({"code": "ZZ", "mis_code": "Z"}))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "not one of Rollcall's codes: {body}"
    );
    // The afternoon's present is a session's code, not a lesson's: it is mapped all the same;
    // a lesson's left-early never is a session's mark.
    let (status, body) = admin
        .put("/mis/codes", json!({"code": "\\", "mis_code": "\\"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = admin
        .put("/mis/codes", json!({"code": "LE", "mis_code": "/"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for bad in ["", "two\nlines", &"x".repeat(307)] {
        let (status, body) = admin
            .put("/mis/codes", json!({"code": "N", "mis_code": bad}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert!(body.to_string().contains("mis_code"), "{body}");
    }
    let (_, mis) = admin.get("/mis").await;
    let unmapped = mis["unmapped"].as_array().unwrap();
    assert!(
        !unmapped.contains(&json!("\\")) && !unmapped.contains(&json!("LE")),
        "{mis}"
    );
    assert!(unmapped.contains(&json!("/")), "{mis}");
}

/// The MIS's office changes a pupil's mark in the MIS, as its own screens would.
pub(crate) async fn changed_at_the_mis(fake: &StandIn, student: &str, code: &str) {
    let id = codes_at(fake)
        .await
        .into_iter()
        .find(|(_, c)| c == code)
        .unwrap()
        .0;
    let url = fake.url(&format!("/v1.0/schools/{SCHOOL}/attendance/session"));
    let record = json!({"date": "2026-11-23", "session": "AM", "student_id": student, "attendance_code_id": id});
    let answer = fake
        .http
        .post(url)
        .bearer_auth(TOKEN)
        .json(&json!({"attendance": [record]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

#[tokio::test]
async fn the_night_compares_the_day_and_each_difference_is_settled_one_way_or_the_other() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| write_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    known_to_the_mis(&admin, &s, &["/", "N", "I"]).await;
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    mis_until(&admin, "the morning written", |m| {
        m["counts"]["written"] == 2
    })
    .await;

    // In the afternoon the office types two marks straight into the MIS: Bo was ill (they
    // knew, Rollcall did not), and Ada absent (a slip).
    changed_at_the_mis(&fake, "A1749191434", "I").await;
    changed_at_the_mis(&fake, "A1749191433", "N").await;

    // After 18:00 the hub reads the day back by itself and lists both.
    hub.clock.set(UnixMillis(monday_at(18, 5)));
    let found = wait_for_differences(&admin, 2).await;
    let of = |student: &str| {
        found
            .iter()
            .find(|d| d["student"] == student)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (of(&bo)["ours_am"].clone(), of(&bo)["theirs_am"].clone()),
        (json!("N"), json!("I"))
    );
    assert_eq!(
        (of(&ada)["ours_am"].clone(), of(&ada)["theirs_am"].clone()),
        (json!("/"), json!("N"))
    );
    let (status, csv) = admin
        .raw(
            reqwest::Method::GET,
            "/mis/differences?from=2026-11-23&to=2026-11-23&format=csv",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with("day,student,reference,name,ours_am,theirs_am"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("2026-11-23,{bo},9920,Bo,N,I")),
        "{csv}"
    );

    // Bo: the MIS is right. Taking its mark amends Bo's lesson in Rollcall's register.
    let (status, took) = admin
        .post(
            &format!("/mis/differences/{bo}/2026-11-23/theirs"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{took}");
    assert_eq!(took["amended"][0]["code"], "I", "{took}");
    assert_eq!(took["amended"][0]["slot"], s.slot.as_str());
    let (_, session) = admin.get(&format!("/sessions/{}/2026-11-23", s.slot)).await;
    assert!(
        session.to_string().contains("Taken from the MIS"),
        "{session}"
    );
    // Ada: Rollcall is right. Writing ours again puts her present back in the MIS.
    let (status, kept_ours) = admin
        .post(
            &format!("/mis/differences/{ada}/2026-11-23/ours"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{kept_ours}");
    assert_eq!(kept_ours["settled"], "ours");
    wait_for_code(&fake, "A1749191433", |code| code == PRESENT).await;
    let (status, again) = admin
        .post(
            &format!("/mis/differences/{ada}/2026-11-23/ours"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "settled once: {again}");

    // Compared again, the day agrees.
    mis_until(&admin, "both written", |m| {
        m["counts"]["written"] == 2 && m["counts"]["pending"] == 0
    })
    .await;
    let (status, compared) = admin.post("/mis/compare?day=2026-11-23", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{compared}");
    assert_eq!(
        (compared["pupils"].clone(), compared["differences"].clone()),
        (json!(2), json!(0))
    );
    let (_, open) = admin
        .get("/mis/differences?from=2026-11-23&to=2026-11-23&open=true")
        .await;
    assert_eq!(open["differences"], json!([]), "{open}");
}

/// Waits until the day's comparison lists `n` differences; returns them.
pub(crate) async fn wait_for_differences(admin: &Api, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, found) = admin
            .get("/mis/differences?from=2026-11-23&to=2026-11-23")
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let list = found["differences"].as_array().unwrap().clone();
        if list.len() == n {
            return list;
        }
        assert!(std::time::Instant::now() < deadline, "{found:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the stand-in was asked and never answered (its hang mode).
pub(crate) async fn left_hanging(fake: &StandIn) -> usize {
    let all = fake.requests().await;
    all.iter().filter(|r| r["status"].is_null()).count()
}

/// The register writes the stand-in answered 200, by Wonde student id.
pub(crate) async fn taken_by_student(fake: &StandIn) -> std::collections::BTreeMap<String, usize> {
    let mut taken = std::collections::BTreeMap::new();
    for r in registers_posted(fake).await {
        if r["status"] != 200 {
            continue;
        }
        for mark in r["body"]["attendance"].as_array().unwrap() {
            *taken
                .entry(mark["student_id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    taken
}

#[tokio::test]
async fn a_hub_stopped_mid_write_writes_the_day_once_when_it_is_back() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let hub = start_hub_with(None, |c| {
        write_back_to(c, &fake, &path);
        c.mis.timeout_secs = 120;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = s.students[0].clone();
    known_to_the_mis(&admin, &s, &["/", "N"]).await;
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;

    // The MIS stops answering; the register closes and the hub's write waits on it.
    fake.control(json!({"mode": "hang"})).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    wait_for("a write left hanging", Duration::from_secs(30), || async {
        left_hanging(&fake).await > 0
    })
    .await;
    let (_, mis) = admin.get("/mis").await;
    assert_eq!(mis["counts"]["pending"], 2, "{mis:#}");

    // The hub is stopped in the middle of it, the MIS recovers, the hub comes back.
    let path = dir.path().to_owned();
    let hub = restart_hub_with(hub, |c| write_back_to(c, &fake, &path)).await;
    fake.control(json!({"mode": "ok"})).await;
    let admin = hub.admin().await;
    mis_until(&admin, "written after the restart", |m| {
        m["counts"]["written"] == 2
    })
    .await;
    assert_eq!(kept(&fake).await.len(), 2);
    let taken = taken_by_student(&fake).await;
    assert_eq!(
        taken.values().copied().collect::<Vec<_>>(),
        vec![1, 1],
        "each pupil's morning taken once: {taken:?}"
    );
}

/// 09:35 on Sunday 25 October 2026 in Jerusalem, the day the clocks go back an hour at 02:00
/// (a school day there): the day has 25 hours, and 09:35 is UTC+2 where midnight was UTC+3.
const DST_DAY_0935: i64 = 1_792_913_700_000;
const MINUTE: i64 = 60_000;

#[tokio::test]
async fn on_the_day_the_clocks_change_the_mark_goes_to_its_own_day_and_session() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let start = UnixMillis(DST_DAY_0935 - 150 * MINUTE);
    let hub = start_hub_at(start, |c| {
        write_back_to(c, &fake, dir.path());
        c.timezone = SiteZone::named("Asia/Jerusalem").unwrap();
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = s.students[0].clone();
    known_to_the_mis(&admin, &s, &["/", "N"]).await;
    // Sunday's first lesson, 08:00 to 09:00 school time.
    let sunday = json!({"class_id": s.class, "room": "Lab 3", "weekday": 7, "start": "08:00", "end": "09:00", "from": "2026-09-01"});
    admin.created("/timetable", sunday).await;
    door_saw(&hub, &s.device, &ada, DST_DAY_0935 - 93 * MINUTE).await;

    // 09:25 school time: the register closes at 09:30, so nothing yet.
    hub.clock.set(UnixMillis(DST_DAY_0935 - 10 * MINUTE));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        kept(&fake).await.is_empty(),
        "written before 09:30 school time"
    );
    hub.clock.set(UnixMillis(DST_DAY_0935));
    mis_until(&admin, "Sunday written", |m| m["counts"]["written"] == 2).await;
    assert_eq!(
        kept(&fake).await,
        vec![
            (
                "A1749191433".into(),
                "2026-10-25".into(),
                "AM".into(),
                PRESENT.into()
            ),
            (
                "A1749191434".into(),
                "2026-10-25".into(),
                "AM".into(),
                NO_REASON.into()
            ),
        ]
    );
}

#[tokio::test]
async fn a_register_reopened_by_a_door_units_late_records_is_written_again() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| write_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let bo = s.students[1].clone();
    known_to_the_mis(&admin, &s, &["/", "N"]).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    mis_until(&admin, "both absent written", |m| {
        m["counts"]["written"] == 2
    })
    .await;
    assert_eq!(
        kept(&fake)
            .await
            .iter()
            .map(|m| m.3.as_str())
            .collect::<Vec<_>>(),
        vec![NO_REASON, NO_REASON]
    );

    // The door unit was offline all morning: its records of Bo at 09:03 arrive now. The hub
    // amends Bo's closed entry (the door saw him) and the MIS gets his mark again.
    door_saw(&hub, &s.device, &bo, monday_at(9, 3)).await;
    wait_for_code(&fake, "A1749191434", |code| code == PRESENT).await;
    let (_, mis) = admin.get("/mis").await;
    assert_eq!(mis["counts"]["written"], 2, "{mis:#}");
    assert_eq!(
        taken_by_student(&fake).await.get("A1749191434"),
        Some(&2),
        "Bo's day written twice: absent, then present"
    );
}

#[tokio::test]
async fn an_mis_that_cannot_be_read_at_night_is_asked_again_ten_minutes_later() {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| write_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    known_to_the_mis(&admin, &s, &["/", "N", "I"]).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    mis_until(&admin, "the morning written", |m| {
        m["counts"]["written"] == 2
    })
    .await;
    changed_at_the_mis(&fake, "A1749191434", "I").await;

    // At 18:05 the MIS fails: nothing is compared, and asking now says why.
    fake.control(json!({"mode": "fail"})).await;
    hub.clock.set(UnixMillis(monday_at(18, 5)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, said) = admin.post("/mis/compare", json!({})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{said}");
    assert!(said.to_string().contains("500"), "{said}");
    // It recovers; the hub waits ten minutes before it reads the day again.
    fake.control(json!({"mode": "ok"})).await;
    hub.clock.set(UnixMillis(monday_at(18, 10)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, found) = admin
        .get("/mis/differences?from=2026-11-23&to=2026-11-23")
        .await;
    assert_eq!(found["differences"], json!([]), "{found}");
    hub.clock.set(UnixMillis(monday_at(18, 16)));
    let found = wait_for_differences(&admin, 1).await;
    assert_eq!(found[0]["theirs_am"], "I");
}
