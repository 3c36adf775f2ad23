//! Lesson registers written back to the MIS through a real hub and the Wonde and Ed-Fi
//! contract stand-ins: each pupil's mark in a closed lesson goes to the MIS's own lesson
//! (found by the class's MIS reference and the lesson's times in the MIS's timetable); a class
//! without a reference is listed for the office and written once it has one; an amendment
//! replaces the pupil's lesson mark rather than adding one.

use std::path::Path;

use reqwest::StatusCode;
use rollcall_e2e::standin::launch::StandIn;
use rollcall_hub::config::{Config, EdFiConfig};
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::*;
use crate::mis::{
    NO_REASON, PRESENT, known_to_the_mis, mis_until, wonde, wonde_get, write_back_to,
};

/// 7B's lessons in the MIS's timetable on Monday 23 November: the lesson Rollcall's 09:00
/// slot is, and one at 11:00 it is not.
pub(crate) async fn timetable_at_the_mis(fake: &StandIn) {
    let class = json!({"id": "A3000000001", "mis_id": "7B-2026", "name": "7B"});
    let lesson = |id: &str, from: &str, to: &str| {
        json!({"id": id, "class": class, "start_at": format!("2026-11-23 {from}:00"),
            "end_at": format!("2026-11-23 {to}:00")})
    };
    let lessons = [
        lesson("A2000000011", "11:00", "12:00"),
        lesson("A2000000009", "09:00", "10:00"),
    ];
    fake.control(json!({"lessons": lessons})).await;
}

/// The lesson marks the stand-in keeps, as (lesson, student, code id).
/// `[mis.wonde]` towards `fake` as the statutory tests have it (`write_back_to`), with the
/// lesson registers written back too.
pub(crate) fn lessons_written_back_to(c: &mut Config, fake: &StandIn, dir: &Path) {
    write_back_to(c, fake, dir);
    c.mis.lessons = true;
}

/// `PUT /classes/{class}/reference` of `reference`: the status and the answer.
async fn give_reference(admin: &Api, class: &str, reference: &str) -> (StatusCode, Value) {
    let path = format!("/classes/{class}/reference");
    admin.put(&path, json!({ "reference": reference })).await
}

pub(crate) async fn lesson_marks(fake: &StandIn) -> Vec<(String, String, String)> {
    let answer = wonde_get(fake, "attendance/lesson?per_page=200").await;
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let mut marks: Vec<_> = answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let lesson = text(m, "lesson_id");
            (lesson, text(m, "student_id"), text(m, "attendance_code_id"))
        })
        .collect();
    marks.sort();
    marks
}

async fn lesson_registers_posted(fake: &StandIn) -> Vec<Value> {
    let all = fake.requests().await;
    let lesson = |r: &Value| r["path"].as_str().unwrap().ends_with("attendance/lesson");
    all.into_iter()
        .filter(|r| r["method"] == "POST" && lesson(r))
        .collect()
}

#[tokio::test]
async fn a_closed_lesson_is_written_to_the_mis_lesson_once_the_class_has_its_reference() {
    let fake = wonde();
    timetable_at_the_mis(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| lessons_written_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    known_to_the_mis(&admin, &s, &["/", "\\", "N", "I"]).await;

    // Ada comes in at 09:02; Bo does not. The register closes after 10:00, but 7B was made
    // by hand: the MIS's class is not known, and the office is told so.
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    let mis = mis_until(&admin, "the lesson marks refused", |m| {
        m["lessons"]["counts"]["refused"] == 2 && m["counts"]["written"] == 2
    })
    .await;
    assert_eq!(mis["lessons_on"], true);
    let refused = mis["lessons"]["refused"].as_array().unwrap();
    for mark in refused {
        assert_eq!(mark["class_name"], "7B", "{mark}");
        assert_eq!(
            (mark["start_minute"].clone(), mark["end_minute"].clone()),
            (json!(540), json!(600))
        );
        let why = mark["last_error"].as_str().unwrap();
        assert!(
            why.contains("class 7B has no reference in the MIS"),
            "{why}"
        );
    }
    assert!(
        lesson_registers_posted(&fake).await.is_empty(),
        "nothing sent without the class"
    );

    // The office gives 7B its MIS id: both marks are written to the 09:00 lesson at once.
    let (status, set) = give_reference(&admin, &s.class, "7B-2026").await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["written_again"], 2, "{set}");
    mis_until(&admin, "the lesson marks written", |m| {
        m["lessons"]["counts"]["written"] == 2 && m["lessons"]["counts"]["refused"] == 0
    })
    .await;
    let (ada_at, bo_at) = ("A1749191433".to_owned(), "A1749191434".to_owned());
    let lesson = "A2000000009".to_owned();
    assert_eq!(
        lesson_marks(&fake).await,
        vec![
            (lesson.clone(), ada_at.clone(), PRESENT.into()),
            (lesson.clone(), bo_at.clone(), NO_REASON.into()),
        ]
    );
    let posted = lesson_registers_posted(&fake).await;
    assert_eq!(posted.len(), 2, "one register per pupil: {posted:#?}");

    // Bo was ill: the amendment replaces his lesson mark (and his morning's) at the MIS.
    let amend = format!("/sessions/{}/2026-11-23/amendments/{bo}", s.slot);
    let (status, body) = admin
        .post(&amend, json!({"code": "I", "reason": "Mum rang: flu"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let marks = loop {
        let marks = lesson_marks(&fake).await;
        if marks
            .iter()
            .any(|(_, who, code)| *who == bo_at && code != NO_REASON)
        {
            break marks;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Bo's lesson mark: {marks:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        marks.len(),
        2,
        "still one mark per pupil and lesson: {marks:?}"
    );
    let codes = crate::mis::codes_at(&fake).await;
    let bo_code = &marks.iter().find(|(_, who, _)| *who == bo_at).unwrap().2;
    assert_eq!(codes.get(bo_code).map(String::as_str), Some("I"));
    let posted = lesson_registers_posted(&fake).await;
    assert_eq!(posted.len(), 3, "Ada once, Bo twice: {posted:#?}");
    assert!(posted.iter().all(|r| r["status"] == 200), "{posted:#?}");

    // What the class was refused for is audited, as is the reference that fixed it.
    let (_, audit) = admin.get("/audit?action=class.reference").await;
    assert!(audit.to_string().contains("7B-2026"), "{audit}");
    let (_, audit) = admin.get("/audit?action=mis.refused").await;
    assert!(
        audit.to_string().contains("no reference in the MIS"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_lesson_the_mis_timetable_does_not_have_is_refused_with_its_words_and_written_again_on_request()
 {
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub_with(None, |c| lessons_written_back_to(c, &fake, dir.path())).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = s.students[0].clone();
    known_to_the_mis(&admin, &s, &["/", "\\", "N"]).await;
    let (status, set) = give_reference(&admin, &s.class, "A3000000001").await;
    assert_eq!(status, StatusCode::OK, "{set}");

    // The MIS's timetable has not been synced yet: no lesson of 7B on Monday.
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    let mis = mis_until(&admin, "refused for want of the lesson", |m| {
        m["lessons"]["counts"]["refused"] == 2
    })
    .await;
    let why = mis["lessons"]["refused"][0]["last_error"].as_str().unwrap();
    assert!(why.contains("7B") || why.contains("A3000000001"), "{why}");
    assert!(why.contains("09:00"), "{why}");

    // The MIS's timetable is synced a little later (the connector keeps a day's lessons for
    // a few seconds before a miss reads them again); then the office writes Ada's mark again.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    timetable_at_the_mis(&fake).await;
    let again = format!("/mis/lessons/{}/2026-11-23/{ada}/again", s.slot);
    let (status, row) = admin.post(&again, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["status"], "pending", "{row}");
    mis_until(&admin, "Ada's written", |m| {
        m["lessons"]["counts"]["written"] == 1 && m["lessons"]["counts"]["refused"] == 1
    })
    .await;
    let marks = lesson_marks(&fake).await;
    assert_eq!(
        marks,
        vec![("A2000000009".into(), "A1749191433".into(), PRESENT.into())]
    );

    // Giving a pupil their MIS reference tries again every write of theirs the MIS refused
    // (the reference may have been the cause): Bo's lesson mark goes without a Write again.
    let bo = s.students[1].clone();
    crate::mis::set_reference(&admin, &bo, "9920").await;
    mis_until(&admin, "Bo's written too", |m| {
        m["lessons"]["counts"]["written"] == 2 && m["lessons"]["counts"]["refused"] == 0
    })
    .await;
    assert_eq!(lesson_marks(&fake).await.len(), 2);

    // Bad input: a lesson mark that does not exist, a reference on two classes, a bad one.
    let nobody = format!("/mis/lessons/{}/2026-11-24/{ada}/again", s.slot);
    assert_eq!(
        admin.post(&nobody, json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let other = admin.created("/classes", json!({"name": "8C"})).await;
    let other = other["id"].as_str().unwrap();
    let (status, body) = give_reference(&admin, other, "A3000000001").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("7B"), "{body}");
    let (status, _) = give_reference(&admin, &s.class, "a\nb").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

const EDFI_CLIENT: &str = "rollcall";
const EDFI_SECRET: &str = "s3cret-of-the-school";
const EDFI_SCHOOL: i64 = 255901001;
const DESCRIPTOR: &str = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#";

/// Every `resource` the Ed-Fi stand-in holds, as its client reads them.
async fn ods_all(fake: &StandIn, resource: &str) -> Vec<Value> {
    let token: Value = (fake.http.post(fake.url("/oauth/token")))
        .basic_auth(EDFI_CLIENT, Some(EDFI_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = fake.url(&format!("/data/v3/ed-fi/{resource}?limit=500"));
    let bearer = token["access_token"].as_str().unwrap();
    let answer = fake.http.get(url).bearer_auth(bearer).send().await.unwrap();
    answer.json().await.unwrap()
}

/// The lesson events the ODS holds, as (student, section, category).
async fn section_events(fake: &StandIn) -> Vec<(String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut events: Vec<_> = ods_all(fake, "studentSectionAttendanceEvents")
        .await
        .iter()
        .map(|e| {
            let category = text(&e["attendanceEventCategoryDescriptor"]);
            (
                text(&e["studentReference"]["studentUniqueId"]),
                text(&e["sectionReference"]["sectionIdentifier"]),
                category.trim_start_matches(DESCRIPTOR).to_owned(),
            )
        })
        .collect();
    events.sort();
    events
}

#[tokio::test]
async fn through_ed_fi_a_lesson_is_a_section_event_and_a_corrected_mark_replaces_it() {
    let args = ["--client-id", EDFI_CLIENT, "--client-secret", EDFI_SECRET];
    let fake = StandIn::start(
        "rollcall-fake-edfi",
        &[&args[..], &["--students", "604822,604823"]].concat(),
    )
    .unwrap();
    let session = "2026-2027 Fall Semester";
    let section = json!({"sectionIdentifier": "7B-SCI", "courseOfferingReference": {
        "localCourseCode": "SCI-7", "schoolId": EDFI_SCHOOL, "schoolYear": 2027,
        "sessionName": session}});
    fake.control(json!({"sections": [section]})).await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("edfi-secret");
    std::fs::write(&secret_file, format!("{EDFI_SECRET}\n")).unwrap();
    let hub = start_hub_with(None, |c| {
        c.auth.access_token_minutes = 1440;
        c.register.check_every_secs = 1;
        c.mis.check_every_secs = 1;
        c.mis.timeout_secs = 2;
        c.mis.edfi = Some(EdFiConfig {
            url: fake.url(""),
            client_id: EDFI_CLIENT.into(),
            client_secret_file: secret_file.clone(),
            school_id: EDFI_SCHOOL,
            school_year: 2027,
            session_name: session.into(),
        });
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    crate::mis::set_reference(&admin, &ada, "604822").await;
    crate::mis::set_reference(&admin, &bo, "604823").await;
    for (code, category) in [
        ("/", "In Attendance"),
        ("N", "Unexcused Absence"),
        ("I", "Excused Absence"),
    ] {
        let mapping = json!({"code": code, "mis_code": format!("{DESCRIPTOR}{category}")});
        let (status, body) = admin.put("/mis/codes", mapping).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = give_reference(&admin, &s.class, "7B-SCI").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Ada comes in at 09:02; Bo does not; the register closes: the day and the lesson are
    // both written.
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(10, 35)));
    let mis = mis_until(&admin, "days and lessons written", |m| {
        m["counts"]["written"] == 2 && m["lessons"]["counts"]["written"] == 2
    })
    .await;
    assert_eq!(mis["connector"], "Ed-Fi ODS/API");
    assert_eq!(
        section_events(&fake).await,
        vec![
            ("604822".into(), "7B-SCI".into(), "In Attendance".into()),
            ("604823".into(), "7B-SCI".into(), "Unexcused Absence".into()),
        ]
    );
    let posted = ods_all(&fake, "studentSectionAttendanceEvents").await;
    let reference = &posted[0]["sectionReference"];
    assert_eq!(reference["localCourseCode"], "SCI-7", "{reference}");
    assert_eq!(reference["sessionName"], session, "{reference}");

    // Bo was ill: his lesson's event is replaced (the category is part of its identity, so
    // the old one is deleted), not joined by a second.
    let amend = format!("/sessions/{}/2026-11-23/amendments/{bo}", s.slot);
    let (status, body) = admin
        .post(&amend, json!({"code": "I", "reason": "Mum rang: flu"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let events = section_events(&fake).await;
        let bo_now: Vec<_> = events.iter().filter(|(who, ..)| who == "604823").collect();
        if bo_now.len() == 1 && bo_now[0].2 == "Excused Absence" {
            assert_eq!(events.len(), 2, "{events:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Bo's lesson event: {events:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
