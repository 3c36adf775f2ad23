//! The Ed-Fi connector against the real stand-in process (`rollcall-fake-edfi`), and its pure
//! parts (folding events, picking a section, reading the ODS's words) on their own.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveTime;
use rollcall_e2e::standin::launch::StandIn;
use serde_json::{Value, json};

use super::lessons::*;
use super::*;
use crate::mis::connector::LessonWrite;

const CLIENT: &str = "hub-writeback";
const SECRET: &str = "s3cret-0f-the-client";
const SCHOOL: i64 = 255901001;
const EVENTS_PATH: &str = "/data/v3/ed-fi/studentSchoolAttendanceEvents";
const IN: &str = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#In Attendance";
const TARDY: &str = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy";
const EXCUSED: &str = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence";
/// Another school the stand-in takes events for (it resolves no school).
const OTHER_SCHOOL: i64 = 255901002;

fn fake(extra: &[&str]) -> StandIn {
    let mut args = vec!["--client-id", CLIENT, "--client-secret", SECRET];
    args.extend(["--students", "604822,604823"]);
    args.extend(extra);
    StandIn::start("rollcall-fake-edfi", &args).unwrap()
}

fn secret_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn config(url: String, client_secret_file: PathBuf) -> EdFiConfig {
    EdFiConfig {
        url,
        client_id: CLIENT.to_owned(),
        client_secret_file,
        school_id: SCHOOL,
        school_year: 2025,
        session_name: "Autumn Term".to_owned(),
    }
}

fn edfi(fake: &StandIn, timeout_secs: u32) -> EdFi {
    let file = secret_file(&format!("{SECRET}\n"));
    EdFi::new(&config(fake.url(""), file.path().to_owned()), timeout_secs).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 9, 3).unwrap()
}

/// Pupil 604822's day, with no receipt of an earlier write.
fn write(am: Option<&str>, pm: Option<&str>) -> DayWrite {
    DayWrite {
        pupil: "604822".to_owned(),
        day: day(),
        am: am.map(str::to_owned),
        pm: pm.map(str::to_owned),
        key: "rollcall-604822-2024-09-03-v1".to_owned(),
        previous: None,
    }
}

fn read(am: &str, pm: &str) -> DayRead {
    DayRead {
        pupil: "604822".to_owned(),
        aliases: Vec::new(),
        day: day(),
        am: Some(am.to_owned()),
        pm: Some(pm.to_owned()),
    }
}

/// A receipt's events: descriptor → id.
fn events(receipt: &Receipt) -> BTreeMap<String, String> {
    serde_json::from_str(receipt.mis_ref.as_deref().unwrap()).unwrap()
}

/// A request as `METHOD path status`.
fn line(r: &Value) -> String {
    format!(
        "{} {} {}",
        r["method"].as_str().unwrap(),
        r["path"].as_str().unwrap(),
        r["status"]
    )
}

/// The requests `fake` was sent, as `METHOD path status`.
async fn sent(fake: &StandIn) -> Vec<String> {
    fake.requests().await.iter().map(line).collect()
}

/// A morning's event of `pupil` on `date` at `school`, as another writer might post it.
fn event_of(pupil: &str, date: &str, school: i64, descriptor: &str) -> Value {
    json!({
        "studentReference": {"studentUniqueId": pupil},
        "schoolReference": {"schoolId": school},
        "sessionReference": {"schoolId": school, "schoolYear": 2025, "sessionName": "Autumn Term"},
        "eventDate": date,
        "attendanceEventCategoryDescriptor": descriptor,
        "eventDuration": 0.5,
        "attendanceEventReason": "AM",
    })
}

/// A token of the test's own from `fake`.
async fn own_token(fake: &StandIn) -> String {
    let request = (fake.http.post(fake.url("/oauth/token")))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("grant_type", "client_credentials")]);
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

/// POSTs `event` straight to `fake`, not through the connector: the new item's id.
async fn post_directly(fake: &StandIn, event: &Value) -> String {
    let request = (fake.http.post(fake.url(EVENTS_PATH)))
        .bearer_auth(own_token(fake).await)
        .json(event);
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), 201, "{event}");
    let location = answer.headers()["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_owned()
}

/// The ids of every event `fake` holds, whoever wrote it.
async fn held(fake: &StandIn) -> BTreeSet<String> {
    let request = (fake.http.get(fake.url(EVENTS_PATH))).bearer_auth(own_token(fake).await);
    let events: Vec<Value> = request.send().await.unwrap().json().await.unwrap();
    let ids = events.iter().map(|e| e["id"].as_str().unwrap().to_owned());
    ids.collect()
}

#[tokio::test]
async fn a_day_agreeing_am_and_pm_is_one_event_read_back() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 5);
    let receipt = edfi.write(&write(Some(IN), Some(IN))).await.unwrap();
    let ids = events(&receipt);
    assert_eq!(ids.keys().collect::<Vec<_>>(), [IN]);
    let requests = fake.requests().await;
    assert_eq!(requests[0]["path"], "/oauth/token");
    assert_eq!(
        requests[0]["body"]["client_secret"],
        Value::Null,
        "sent as HTTP Basic"
    );
    assert_eq!(requests[1]["status"], 201);
    assert_eq!(
        requests[1]["body"],
        json!({
            "studentReference": {"studentUniqueId": "604822"},
            "schoolReference": {"schoolId": SCHOOL},
            "sessionReference": {"schoolId": SCHOOL, "schoolYear": 2025, "sessionName": "Autumn Term"},
            "eventDate": "2024-09-03",
            "attendanceEventCategoryDescriptor": IN,
            "eventDuration": 1.0,
            "attendanceEventReason": "AM PM",
        })
    );
    assert_eq!(edfi.read_day(day()).await.unwrap(), [read(IN, IN)]);
    let other_day = NaiveDate::from_ymd_opt(2024, 9, 4).unwrap();
    assert_eq!(edfi.read_day(other_day).await.unwrap(), []);
    // The same day again is an update of the same event (200), not a second one; the day
    // read back by pupil, date and school holds nothing else to delete.
    let before = fake.requests().await.len();
    let again = edfi.write(&write(Some(IN), Some(IN))).await.unwrap();
    assert_eq!(again, receipt);
    let requests = fake.requests().await.split_off(before);
    let lines: Vec<String> = requests.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            format!("POST {EVENTS_PATH} 200"),
            format!("GET {EVENTS_PATH} 200")
        ]
    );
    let asked = json!({"studentUniqueId": "604822", "eventDate": "2024-09-03",
        "schoolId": SCHOOL.to_string(), "offset": "0", "limit": "500"});
    assert_eq!(requests[1]["query"], asked);
}

#[tokio::test]
async fn a_correction_posts_first_then_deletes_what_is_no_longer_wanted() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 5);
    let first = edfi.write(&write(Some(IN), Some(IN))).await.unwrap();
    // The morning corrected: two half-day events, the afternoon's the same item as before.
    let second = edfi.write(&write(Some(TARDY), Some(IN))).await.unwrap();
    let ids = events(&second);
    assert_eq!(ids[IN], events(&first)[IN]);
    assert_eq!(ids.len(), 2);
    assert_eq!(edfi.read_day(day()).await.unwrap(), [read(TARDY, IN)]);
    assert!(!sent(&fake).await.iter().any(|l| l.starts_with("DELETE")));
    // The whole day corrected: one new event, the day read, then both earlier ones deleted.
    let before = fake.requests().await.len();
    let third = edfi
        .write(&write(Some(EXCUSED), Some(EXCUSED)))
        .await
        .unwrap();
    let lines = sent(&fake).await.split_off(before);
    let mut deleted: Vec<String> = ids
        .values()
        .map(|id| format!("DELETE {EVENTS_PATH}/{id} 204"))
        .collect();
    deleted.sort();
    let [posted, read_back, rest @ ..] = &lines[..] else {
        panic!("{lines:?}");
    };
    assert_eq!(posted, &format!("POST {EVENTS_PATH} 201"));
    assert_eq!(read_back, &format!("GET {EVENTS_PATH} 200"));
    let mut rest = rest.to_vec();
    rest.sort();
    assert_eq!(rest, deleted);
    assert_eq!(events(&third).keys().collect::<Vec<_>>(), [EXCUSED]);
    assert_eq!(
        edfi.read_day(day()).await.unwrap(),
        [read(EXCUSED, EXCUSED)]
    );
}

#[tokio::test]
async fn a_day_emptied_deletes_every_event_of_it_and_one_already_gone_is_fine() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 5);
    assert_eq!(
        edfi.write(&write(None, None)).await.unwrap(),
        Receipt { mis_ref: None }
    );
    assert_eq!(
        sent(&fake).await,
        [
            "POST /oauth/token 200".to_owned(),
            format!("GET {EVENTS_PATH} 200")
        ],
        "nothing to write: the day is read, and holds nothing to delete"
    );
    edfi.write(&write(Some(TARDY), Some(IN))).await.unwrap();
    let other = event_of("604822", "2024-09-03", SCHOOL, EXCUSED);
    let other = post_directly(&fake, &other).await;
    assert_eq!(held(&fake).await.len(), 3);
    let before = fake.requests().await.len();
    let emptied = edfi.write(&write(None, None)).await.unwrap();
    assert_eq!(emptied, Receipt { mis_ref: None });
    let lines = sent(&fake).await.split_off(before);
    let deletes: Vec<&String> = lines.iter().filter(|l| l.starts_with("DELETE")).collect();
    assert_eq!(deletes.len(), 3, "{lines:?}");
    assert!(deletes.iter().all(|l| l.ends_with(" 204")), "{lines:?}");
    assert!(lines.contains(&format!("DELETE {EVENTS_PATH}/{other} 204")));
    assert_eq!(edfi.read_day(day()).await.unwrap(), []);
    assert_eq!(held(&fake).await, BTreeSet::new());
    // An event gone between the read and the delete (404) is fine.
    let gone = "0123456789abcdef0123456789abcdef";
    edfi.delete_event(EVENTS, gone, "rollcall-k-v1")
        .await
        .unwrap();
    let last = sent(&fake).await.pop().unwrap();
    assert_eq!(last, format!("DELETE {EVENTS_PATH}/{gone} 404"));
}

#[tokio::test]
async fn an_event_left_by_a_half_written_day_goes_with_the_next_write() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 5);
    // A write of Tardy (AM) and In Attendance (PM) whose second event was refused: the
    // morning's event was taken, and no receipt was saved.
    let left = event_of("604822", "2024-09-03", SCHOOL, TARDY);
    let left = post_directly(&fake, &left).await;
    // The day's neighbours: another pupil's, another day's, another school's.
    let neighbours = [
        event_of("604823", "2024-09-03", SCHOOL, TARDY),
        event_of("604822", "2024-09-04", SCHOOL, TARDY),
        event_of("604822", "2024-09-03", OTHER_SCHOOL, TARDY),
    ];
    let mut kept = BTreeSet::new();
    for event in &neighbours {
        kept.insert(post_directly(&fake, event).await);
    }
    let before = fake.requests().await.len();
    let receipt = edfi.write(&write(Some(IN), Some(IN))).await.unwrap();
    assert_eq!(
        sent(&fake).await.split_off(before),
        [
            "POST /oauth/token 200".to_owned(),
            format!("POST {EVENTS_PATH} 201"),
            format!("GET {EVENTS_PATH} 200"),
            format!("DELETE {EVENTS_PATH}/{left} 204"),
        ]
    );
    kept.insert(events(&receipt)[IN].clone());
    assert_eq!(held(&fake).await, kept, "only the day's own event went");
}

#[tokio::test]
async fn a_write_whose_receipt_was_never_saved_still_replaces_the_day() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 5);
    // The ODS took this write, but the hub stopped before it saved the receipt.
    let lost = edfi.write(&write(Some(TARDY), Some(TARDY))).await.unwrap();
    let before = fake.requests().await.len();
    let next = edfi
        .write(&write(Some(EXCUSED), Some(EXCUSED)))
        .await
        .unwrap();
    let lines = sent(&fake).await.split_off(before);
    let gone = format!("DELETE {EVENTS_PATH}/{} 204", events(&lost)[TARDY]);
    assert_eq!(lines.last(), Some(&gone), "{lines:?}");
    assert_eq!(
        edfi.read_day(day()).await.unwrap(),
        [read(EXCUSED, EXCUSED)]
    );
    // Nor is a receipt trusted: one naming another pupil's event deletes nothing of theirs.
    let theirs = event_of("604823", "2024-09-03", SCHOOL, IN);
    let theirs = post_directly(&fake, &theirs).await;
    let mut told = write(Some(EXCUSED), Some(EXCUSED));
    told.previous = Some(json!({ TARDY: theirs }).to_string());
    assert_eq!(edfi.write(&told).await.unwrap(), next);
    assert!(held(&fake).await.contains(&theirs));
}

#[tokio::test]
async fn refusals_keep_the_ods_own_words() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 5);
    let mut stranger = write(Some(IN), None);
    stranger.pupil = "999999".to_owned();
    assert_eq!(
        edfi.write(&stranger).await.unwrap_err(),
        MisError::Refused {
            status: 409,
            said: "The referenced 'Student' item does not exist.".to_owned()
        }
    );
    let sunny = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Sunny";
    let e = edfi.write(&write(Some(sunny), None)).await.unwrap_err();
    let MisError::Refused { status: 400, said } = &e else {
        panic!("{e:?}");
    };
    assert!(
        said.starts_with("Data validation failed. See 'validationErrors' for details.; "),
        "{said}"
    );
    assert!(said.contains(&format!("$.attendanceEventCategoryDescriptor: AttendanceEventCategoryDescriptor value '{sunny}' does not exist.")), "{said}");
}

#[tokio::test]
async fn fault_modes_are_failures_the_outbox_retries() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 1);
    let day = write(Some(IN), Some(IN));
    edfi.write(&day).await.unwrap();

    fake.control(json!({"mode": "unauthorized"})).await;
    let before = fake.requests().await.len();
    let e = edfi.write(&day).await.unwrap_err();
    let MisError::Failed { said, after: None } = &e else {
        panic!("{e:?}");
    };
    assert!(
        said.starts_with("the Ed-Fi ODS gave no token (401: invalid_client)"),
        "{said}"
    );
    assert!(!said.contains(SECRET), "{said}");
    // The data call's 401 dropped the token; a new one was asked for, and refused.
    let lines = sent(&fake).await.split_off(before);
    assert_eq!(
        lines,
        [
            format!("POST {EVENTS_PATH} 401"),
            "POST /oauth/token 401".to_owned()
        ]
    );

    fake.control(json!({"mode": "throttle", "retryAfter": 7}))
        .await;
    let e = edfi.write(&day).await.unwrap_err();
    assert!(
        matches!(e, MisError::Failed { after: Some(d), .. } if d == Duration::from_secs(7)),
        "{e:?}"
    );

    fake.control(json!({"mode": "ok"})).await;
    edfi.write(&day).await.unwrap();
    fake.control(json!({"mode": "fail"})).await;
    let e = edfi.write(&day).await.unwrap_err();
    assert_eq!(
        e.said(),
        "the Ed-Fi ODS answered 500: An unexpected problem has occurred."
    );

    fake.control(json!({"mode": "hang"})).await;
    let started = Instant::now();
    let e = edfi.write(&day).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.said(), "the Ed-Fi ODS did not answer within 1 s");

    fake.control(json!({"mode": "ok"})).await;
    edfi.write(&day).await.unwrap();
}

#[tokio::test]
async fn an_expired_token_is_replaced() {
    let fake = fake(&["--token-seconds", "1"]);
    let edfi = edfi(&fake, 5);
    edfi.write(&write(Some(IN), Some(IN))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Kept past its time: a new token is asked for before the write.
    edfi.write(&write(Some(IN), Some(IN))).await.unwrap();
    let tokens = sent(&fake)
        .await
        .iter()
        .filter(|l| l.starts_with("POST /oauth/token 200"))
        .count();
    assert_eq!(tokens, 2);
    // Still thought good but refused (401): a new token, and the call once more.
    edfi.token.lock().await.as_mut().unwrap().until = Instant::now() + Duration::from_secs(3600);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = fake.requests().await.len();
    edfi.write(&write(Some(IN), Some(IN))).await.unwrap();
    let lines = sent(&fake).await.split_off(before);
    assert_eq!(
        lines,
        [
            format!("POST {EVENTS_PATH} 401"),
            "POST /oauth/token 200".to_owned(),
            format!("POST {EVENTS_PATH} 200"),
            format!("GET {EVENTS_PATH} 200"),
        ]
    );
}

#[tokio::test]
async fn codes_and_the_connection_are_what_the_ods_holds() {
    let fake = fake(&[]);
    let edfi = edfi(&fake, 5);
    let codes = edfi.codes().await.unwrap();
    assert_eq!(codes.len(), 7);
    let present = MisCode {
        code: IN.to_owned(),
        meaning: Some("In Attendance".to_owned()),
    };
    assert!(codes.contains(&present), "{codes:?}");
    let said = edfi.try_connection().await.unwrap();
    let expected = format!(
        "The Ed-Fi ODS answered: client {CLIENT} was given a token, and school {SCHOOL} holds 0 attendance events"
    );
    assert_eq!(said, expected);
    edfi.write(&write(Some(IN), None)).await.unwrap();
    assert!(
        edfi.try_connection()
            .await
            .unwrap()
            .ends_with("holds 1 attendance event")
    );
}

#[tokio::test]
async fn a_wrong_secret_is_said_so_and_never_shown() {
    let fake = fake(&[]);
    let file = secret_file("not-the-secret");
    let edfi = EdFi::new(&config(fake.url(""), file.path().to_owned()), 5).unwrap();
    let e = edfi.try_connection().await.unwrap_err();
    assert!(matches!(e, MisError::Failed { .. }), "{e:?}");
    assert!(e.said().contains("mis.edfi.client_secret_file"), "{e}");
    assert!(!e.said().contains("not-the-secret"), "{e}");
}

#[test]
fn the_secret_file_is_named_and_its_contents_never_are() {
    let missing = PathBuf::from("/nonexistent/edfi-secret");
    let e = EdFi::new(&config("https://ods.example".into(), missing), 5).unwrap_err();
    assert!(
        e.starts_with("mis.edfi.client_secret_file /nonexistent/edfi-secret: cannot read it"),
        "{e}"
    );
    let file = secret_file(" \n");
    let e = EdFi::new(
        &config("https://ods.example".into(), file.path().to_owned()),
        5,
    )
    .unwrap_err();
    assert!(e.ends_with(": it is empty"), "{e}");
    let file = secret_file(SECRET);
    let edfi = EdFi::new(
        &config("https://ods.example/api/".into(), file.path().to_owned()),
        5,
    )
    .unwrap();
    assert!(!format!("{edfi:?}").contains(SECRET), "{edfi:?}");
    assert_eq!(
        edfi.token_url.as_str(),
        "https://ods.example/api/oauth/token"
    );
    assert_eq!(
        edfi.url(EVENTS).as_str(),
        "https://ods.example/api/data/v3/ed-fi/studentSchoolAttendanceEvents"
    );
}

#[test]
fn every_write_carries_its_idempotency_key() {
    // The stand-in's journal records no header but whether `Authorization` was sent, so the
    // key is checked on the request as built.
    let file = secret_file(SECRET);
    let edfi = EdFi::new(
        &config("https://ods.example".into(), file.path().to_owned()),
        5,
    )
    .unwrap();
    let request = edfi
        .event_request(SECTION_EVENTS, &json!({}), "rollcall-k-v3")
        .build()
        .unwrap();
    assert_eq!(request.headers()["idempotency-key"], "rollcall-k-v3");
}

#[test]
fn a_day_is_one_event_per_descriptor() {
    let whole = write(Some(IN), Some(IN));
    let events: Vec<_> = day_events(&whole).into_iter().collect();
    assert_eq!(events, [(IN, Covers::Both)]);
    let halves = write(Some(TARDY), Some(IN));
    let events: Vec<_> = day_events(&halves).into_iter().collect();
    assert_eq!(events, [(IN, Covers::Pm), (TARDY, Covers::Am)]);
    assert!(day_events(&write(None, None)).is_empty());
    assert_eq!(kept_for(1800), Duration::from_secs(1740));
    assert_eq!(kept_for(1), Duration::from_millis(900));
}

#[test]
fn only_the_pupils_day_at_the_school_and_unwanted_is_deleted() {
    let with_id = |id: &str, mut event: Value| {
        event["id"] = json!(id);
        event
    };
    let held = [
        with_id("a", event_of("604822", "2024-09-03", SCHOOL, TARDY)),
        with_id("b", event_of("604822", "2024-09-03", SCHOOL, IN)),
        with_id("c", event_of("604823", "2024-09-03", SCHOOL, TARDY)),
        with_id("d", event_of("604822", "2024-09-04", SCHOOL, TARDY)),
        with_id("e", event_of("604822", "2024-09-03", OTHER_SCHOOL, TARDY)),
        event_of("604822", "2024-09-03", SCHOOL, EXCUSED),
        with_id(
            "f",
            json!({"studentReference": {"studentUniqueId": "604822"},
            "schoolReference": {"schoolId": SCHOOL}, "eventDate": "2024-09-03"}),
        ),
    ];
    let kept = BTreeMap::from([(IN.to_owned(), "b".to_owned())]);
    assert_eq!(unwanted(&held, "604822", day(), SCHOOL, &kept), ["a", "f"]);
    let nothing = BTreeMap::new();
    assert_eq!(
        unwanted(&held, "604822", day(), SCHOOL, &nothing),
        ["a", "b", "f"]
    );

    // The same category written in the session the school named before (`session_name`
    // changed): not the event just written, so it goes too.
    let mut last_term = with_id("g", event_of("604822", "2024-09-03", SCHOOL, IN));
    last_term["sessionReference"]["sessionName"] = json!("Summer Term");
    let held = [held[1].clone(), last_term];
    assert_eq!(unwanted(&held, "604822", day(), SCHOOL, &kept), ["g"]);
}

#[test]
fn events_fold_into_sessions_by_their_reason_or_else_by_their_length() {
    let event = |pupil: &str, descriptor: &str, reason: Option<&str>, duration: Option<f64>| {
        let mut e = json!({
            "studentReference": {"studentUniqueId": pupil},
            "eventDate": "2024-09-03",
            "attendanceEventCategoryDescriptor": descriptor,
        });
        if let Some(reason) = reason {
            e["attendanceEventReason"] = json!(reason);
        }
        if let Some(duration) = duration {
            e["eventDuration"] = json!(duration);
        }
        e
    };
    let events = [
        event("A", IN, Some("PM"), Some(0.5)),
        event("A", TARDY, Some("AM"), Some(0.5)),
        event("B", EXCUSED, None, None),
        event("C", TARDY, Some("Bus late"), Some(0.5)),
        event("C", IN, Some("AM PM"), Some(1.0)),
        event("D", IN, None, Some(0.5)),
    ];
    let value = |uri: &str| uri.rsplit('#').next().unwrap().to_owned();
    let shown: Vec<_> = fold(&events, day())
        .into_iter()
        .map(|r| {
            (
                r.pupil,
                r.am.as_deref().map(value),
                r.pm.as_deref().map(value),
            )
        })
        .collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        shown,
        [
            ("A".to_owned(), some("Tardy"), some("In Attendance")),
            (
                "B".to_owned(),
                some("Excused Absence"),
                some("Excused Absence")
            ),
            ("C".to_owned(), some("In Attendance"), some("In Attendance")),
            ("D".to_owned(), some("In Attendance"), None),
        ]
    );
}

#[test]
fn failures_and_refusals_are_told_apart() {
    let problem = br#"{"detail": "Data validation failed.", "validationErrors": {"$.eventDate": ["EventDate is required."]}, "errors": ["Also this."]}"#;
    assert_eq!(
        answer_error(StatusCode::BAD_REQUEST, None, problem),
        MisError::Refused {
            status: 400,
            said: "Data validation failed.; $.eventDate: EventDate is required.; Also this."
                .to_owned()
        }
    );
    for status in [401, 403, 408, 429, 500, 503] {
        let e = answer_error(StatusCode::from_u16(status).unwrap(), None, b"");
        assert!(matches!(e, MisError::Failed { .. }), "{status}: {e:?}");
    }
    let e = token_error(
        StatusCode::BAD_REQUEST,
        None,
        br#"{"error": "unsupported_grant_type"}"#,
    );
    assert!(matches!(e, MisError::Failed { .. }), "{e:?}");
    assert!(e.said().contains("(400: unsupported_grant_type)"), "{e}");
}

// Lessons: a mark in a section.

const LESSON_EVENTS_PATH: &str = "/data/v3/ed-fi/studentSectionAttendanceEvents";
const SECTIONS_PATH: &str = "/data/v3/ed-fi/sections";

/// A section document as the ODS holds one, at the school in the configured year.
fn section(identifier: &str, course: &str, session: &str) -> Value {
    json!({
        "sectionIdentifier": identifier,
        "courseOfferingReference": {
            "localCourseCode": course,
            "schoolId": SCHOOL,
            "schoolYear": 2025,
            "sessionName": session,
        },
    })
}

/// A stand-in holding these sections: 7B-SCI in the configured session (and another), 8C-MAT
/// only in another session, 9D-ART twice in the configured session.
fn fake_with_sections(extra: &[&str]) -> StandIn {
    let sections = json!([
        section("7B-SCI", "SCI-7", "Autumn Term"),
        section("7B-SCI", "SCI-7", "Spring Term"),
        section("8C-MAT", "MAT-8", "Spring Term"),
        section("9D-ART", "ART-9", "Autumn Term"),
        section("9D-ART", "ART-9X", "Autumn Term"),
    ]);
    let file = secret_file(&sections.to_string());
    let path = file.path().to_str().unwrap().to_owned();
    let mut args = vec!["--sections", path.as_str()];
    args.extend(extra);
    fake(&args)
}

/// Pupil 604822's mark in 7B-SCI's first lesson of the day.
fn lesson(code: &str, version: u32) -> LessonWrite {
    LessonWrite {
        pupil: "604822".to_owned(),
        class: "7B-SCI".to_owned(),
        day: day(),
        starts: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        ends: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        code: code.to_owned(),
        key: format!("rollcall-604822-7B-SCI-2024-09-03-0900-v{version}"),
    }
}

/// 7B-SCI's section in the configured session, as a `sectionReference`.
fn science() -> Value {
    json!({"localCourseCode": "SCI-7", "schoolId": SCHOOL, "schoolYear": 2025,
        "sectionIdentifier": "7B-SCI", "sessionName": "Autumn Term"})
}

/// Every section attendance event `fake` holds, whoever wrote it.
async fn lessons_held(fake: &StandIn) -> Vec<Value> {
    let request = fake.http.get(fake.url(LESSON_EVENTS_PATH));
    let request = request.bearer_auth(own_token(fake).await);
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_lesson_mark_is_posted_against_the_sessions_section() {
    let fake = fake_with_sections(&[]);
    let edfi = edfi(&fake, 5);
    let receipt = edfi.write_lesson(&lesson(TARDY, 1)).await.unwrap();
    let requests = fake.requests().await;
    let lines: Vec<String> = requests.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "POST /oauth/token 200".to_owned(),
            format!("GET {SECTIONS_PATH} 200"),
            format!("POST {LESSON_EVENTS_PATH} 201"),
            format!("GET {LESSON_EVENTS_PATH} 200"),
        ]
    );
    let asked = json!({"sectionIdentifier": "7B-SCI", "schoolId": SCHOOL.to_string(),
        "schoolYear": "2025", "offset": "0", "limit": "500"});
    assert_eq!(requests[1]["query"], asked);
    assert_eq!(
        requests[2]["body"],
        json!({
            "attendanceEventCategoryDescriptor": TARDY,
            "eventDate": "2024-09-03",
            "sectionReference": science(),
            "studentReference": {"studentUniqueId": "604822"},
        })
    );
    let read_back = json!({"studentUniqueId": "604822", "eventDate": "2024-09-03",
        "localCourseCode": "SCI-7", "schoolId": SCHOOL.to_string(), "schoolYear": "2025",
        "sectionIdentifier": "7B-SCI", "sessionName": "Autumn Term",
        "offset": "0", "limit": "500"});
    assert_eq!(requests[3]["query"], read_back);
    let held = lessons_held(&fake).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(receipt.mis_ref.as_deref(), held[0]["id"].as_str());
    // The next pupil's mark in the same class: the section is not looked up again.
    let mut next = lesson(TARDY, 1);
    next.pupil = "604823".to_owned();
    let before = fake.requests().await.len();
    edfi.write_lesson(&next).await.unwrap();
    let lines = sent(&fake).await.split_off(before);
    assert_eq!(
        lines,
        [
            format!("POST {LESSON_EVENTS_PATH} 201"),
            format!("GET {LESSON_EVENTS_PATH} 200"),
        ]
    );
}

#[tokio::test]
async fn a_corrected_lesson_mark_posts_the_new_event_and_deletes_the_old() {
    let fake = fake_with_sections(&[]);
    let edfi = edfi(&fake, 5);
    let old = edfi.write_lesson(&lesson(TARDY, 1)).await.unwrap();
    let old = old.mis_ref.unwrap();
    // Another pupil's mark in the same lesson stays.
    let mut theirs = lesson(TARDY, 1);
    theirs.pupil = "604823".to_owned();
    let theirs = edfi.write_lesson(&theirs).await.unwrap().mis_ref.unwrap();
    let before = fake.requests().await.len();
    let new = edfi.write_lesson(&lesson(IN, 2)).await.unwrap();
    let new = new.mis_ref.unwrap();
    assert_ne!(new, old);
    assert_eq!(
        sent(&fake).await.split_off(before),
        [
            format!("POST {LESSON_EVENTS_PATH} 201"),
            format!("GET {LESSON_EVENTS_PATH} 200"),
            format!("DELETE {LESSON_EVENTS_PATH}/{old} 204"),
        ]
    );
    let held = lessons_held(&fake).await;
    let mine: Vec<&Value> = (held.iter())
        .filter(|e| e["studentReference"]["studentUniqueId"] == "604822")
        .collect();
    let [kept] = mine.as_slice() else {
        panic!("{held:?}");
    };
    assert_eq!(kept["id"], new.as_str());
    assert_eq!(kept["attendanceEventCategoryDescriptor"], IN);
    assert_eq!(kept["sectionReference"], science());
    assert!(held.iter().any(|e| e["id"] == theirs.as_str()), "{held:?}");
}

#[tokio::test]
async fn a_lesson_write_retried_with_its_key_does_not_double() {
    let fake = fake_with_sections(&[]);
    let edfi = edfi(&fake, 5);
    let first = edfi.write_lesson(&lesson(TARDY, 1)).await.unwrap();
    let before = fake.requests().await.len();
    let again = edfi.write_lesson(&lesson(TARDY, 1)).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(
        sent(&fake).await.split_off(before),
        [
            format!("POST {LESSON_EVENTS_PATH} 200"),
            format!("GET {LESSON_EVENTS_PATH} 200"),
        ],
        "an update of the same event, and nothing to delete"
    );
    assert_eq!(lessons_held(&fake).await.len(), 1);
}

#[tokio::test]
async fn a_class_without_one_section_in_the_session_is_refused_in_words_naming_it() {
    let fake = fake_with_sections(&[]);
    let edfi = edfi(&fake, 5);
    let refused = |class: &str| {
        let mut w = lesson(TARDY, 1);
        w.class = class.to_owned();
        let edfi = edfi.clone();
        async move { edfi.write_lesson(&w).await.unwrap_err() }
    };
    assert_eq!(
        refused("6A-GEO").await,
        MisError::Refused {
            status: 404,
            said: "the ODS has no section 6A-GEO at school 255901001 in 2025: check the \
                   class's MIS reference"
                .to_owned()
        }
    );
    assert_eq!(
        refused("8C-MAT").await,
        MisError::Refused {
            status: 404,
            said: "the ODS has section 8C-MAT at school 255901001 in 2025 only in session \
                   Spring Term, not in Autumn Term: check the class's MIS reference and \
                   mis.edfi.session_name"
                .to_owned()
        }
    );
    let e = refused("9D-ART").await;
    let MisError::Refused { status: 409, said } = &e else {
        panic!("{e:?}");
    };
    assert!(
        said.starts_with(
            "the ODS has 2 sections 9D-ART at school 255901001 in 2025 in session Autumn Term \
             (courses ART-9, ART-9X)"
        ),
        "{said}"
    );
    let e = refused(" ").await;
    assert!(matches!(e, MisError::Refused { status: 404, .. }), "{e:?}");
    // Nothing was posted, and a refusal is not kept: the ODS is asked each time.
    let lines = sent(&fake).await;
    assert!(
        !lines.iter().any(|l| l.starts_with("POST /data")),
        "{lines:?}"
    );
    let asked = lines.iter().filter(|l| l.starts_with("GET ")).count();
    assert_eq!(asked, 3, "{lines:?}");
    assert!(lessons_held(&fake).await.is_empty());
}

#[tokio::test]
async fn a_lesson_write_gets_a_new_token_on_a_401() {
    let fake = fake_with_sections(&["--token-seconds", "1"]);
    let edfi = edfi(&fake, 5);
    edfi.write_lesson(&lesson(TARDY, 1)).await.unwrap();
    // Still thought good but refused (401): a new token, and the call once more.
    edfi.token.lock().await.as_mut().unwrap().until = Instant::now() + Duration::from_secs(3600);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = fake.requests().await.len();
    let receipt = edfi.write_lesson(&lesson(IN, 2)).await.unwrap();
    let lines = sent(&fake).await.split_off(before);
    assert_eq!(
        lines[..3],
        [
            format!("POST {LESSON_EVENTS_PATH} 401"),
            "POST /oauth/token 200".to_owned(),
            format!("POST {LESSON_EVENTS_PATH} 201"),
        ]
    );
    let held = lessons_held(&fake).await;
    let ids: Vec<&Value> = held.iter().map(|e| &e["id"]).collect();
    assert_eq!(ids, [receipt.mis_ref.as_deref().unwrap()]);
}

#[tokio::test]
async fn a_lesson_write_the_ods_fails_is_a_failure_and_a_refusal_forgets_the_section() {
    let fake = fake_with_sections(&[]);
    let edfi = edfi(&fake, 1);
    // A token first: in this mode the token endpoint fails too.
    edfi.try_connection().await.unwrap();
    fake.control(json!({"mode": "fail"})).await;
    let e = edfi.write_lesson(&lesson(TARDY, 1)).await.unwrap_err();
    assert_eq!(
        sent(&fake).await.pop().unwrap(),
        format!("GET {SECTIONS_PATH} 500")
    );
    assert_eq!(
        e,
        MisError::Failed {
            said: "the Ed-Fi ODS answered 500: An unexpected problem has occurred.".to_owned(),
            after: None
        }
    );
    fake.control(json!({"mode": "ok"})).await;
    edfi.write_lesson(&lesson(TARDY, 1)).await.unwrap();
    // The section is known now: the POST itself fails.
    fake.control(json!({"mode": "fail"})).await;
    let e = edfi.write_lesson(&lesson(IN, 2)).await.unwrap_err();
    assert!(matches!(e, MisError::Failed { .. }), "{e:?}");
    assert_eq!(
        sent(&fake).await.pop().unwrap(),
        format!("POST {LESSON_EVENTS_PATH} 500")
    );
    // A refused write (a pupil the ODS does not know) forgets the section.
    fake.control(json!({"mode": "ok"})).await;
    let mut stranger = lesson(IN, 1);
    stranger.pupil = "999999".to_owned();
    let e = edfi.write_lesson(&stranger).await.unwrap_err();
    assert!(matches!(e, MisError::Refused { status: 409, .. }), "{e:?}");
    let before = fake.requests().await.len();
    edfi.write_lesson(&lesson(IN, 2)).await.unwrap();
    let lines = sent(&fake).await.split_off(before);
    assert_eq!(lines[0], format!("GET {SECTIONS_PATH} 200"), "{lines:?}");
}

#[test]
fn a_section_is_picked_by_identifier_school_year_and_session() {
    let mut other_school = section("7B-SCI", "SCI-7", "Autumn Term");
    other_school["courseOfferingReference"]["schoolId"] = json!(OTHER_SCHOOL);
    let mut other_year = section("7B-SCI", "SCI-7", "Autumn Term");
    other_year["courseOfferingReference"]["schoolYear"] = json!(2026);
    let found = [
        other_school,
        other_year,
        section("7B-SCIENCE", "SCI-7", "Autumn Term"),
        json!({"sectionIdentifier": "7B-SCI"}),
        section("7B-SCI", "SCI-7", "Spring Term"),
        section("7B-SCI", "SCI-7B", "Autumn Term"),
    ];
    let picked = pick(&found, "7B-SCI", SCHOOL, 2025, "Autumn Term").unwrap();
    assert_eq!(picked.local_course_code, "SCI-7B");
    let mut science = science();
    science["localCourseCode"] = json!("SCI-7B");
    assert_eq!(picked.reference(), science);
    assert!(picked.is_named_by(&science));
    let e = pick(&found[..4], "7B-SCI", SCHOOL, 2025, "Autumn Term").unwrap_err();
    assert!(e.said().starts_with("the ODS has no section 7B-SCI"), "{e}");
}

#[test]
fn only_the_pupils_other_marks_in_the_lesson_are_deleted() {
    let w = lesson(IN, 1);
    let section = Section::from_item(&section("7B-SCI", "SCI-7", "Autumn Term")).unwrap();
    let event = |id: &str, pupil: &str, date: &str, code: &str, reference: Value| {
        json!({"id": id, "studentReference": {"studentUniqueId": pupil}, "eventDate": date,
            "attendanceEventCategoryDescriptor": code, "sectionReference": reference})
    };
    let mut spring = science();
    spring["sessionName"] = json!("Spring Term");
    let held = [
        event("a", "604822", "2024-09-03", TARDY, science()),
        event("b", "604822", "2024-09-03", IN, science()),
        event("c", "604823", "2024-09-03", TARDY, science()),
        event("d", "604822", "2024-09-04", TARDY, science()),
        event("e", "604822", "2024-09-03", TARDY, spring),
    ];
    assert_eq!(lesson_unwanted(&held, &w, &section), ["a"]);
}
