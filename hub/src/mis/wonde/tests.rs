//! The Wonde connector against the real stand-in process (`rollcall-fake-wonde`), and its pure
//! parts (folding marks, choosing a lesson, reading Wonde's words) on their own.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{NaiveDateTime, NaiveTime};

use rollcall_e2e::standin::launch::StandIn;
use serde_json::{Value, json};

use super::lessons::*;
use super::*;
use crate::mis::connector::{LessonWrite, SAID_CHARS};

const TOKEN: &str = "7e76896f9aca62569048c667db292d72dd84f224";
const SCHOOL: &str = "A1930499544";
/// Wonde id = MIS id.
const STUDENTS: &str = "A1749191433=9919,A1749191434=9920";
const SESSIONS_PATH: &str = "/v1.0/schools/A1930499544/attendance/session";
const LESSON_MARKS_PATH: &str = "/v1.0/schools/A1930499544/attendance/lesson";
const LESSONS_PATH: &str = "/v1.0/schools/A1930499544/lessons";
/// Class 7B's Wonde id; its MIS id is `7B`.
const CLASS_7B: &str = "A3000000001";
/// The stand-in's ids of England's `/`, `\` and `N`.
const PRESENT_AM: &str = "A1000000001";
const PRESENT_PM: &str = "A1000000002";
const NO_REASON: &str = "A1000000019";

fn fake() -> StandIn {
    let args = ["--token", TOKEN, "--school", SCHOOL, "--students", STUDENTS];
    StandIn::start("rollcall-fake-wonde", &args).unwrap()
}

/// The stand-in with `lessons` (see [`lesson`]) in the school's timetable.
fn fake_with(lessons: &[Value]) -> StandIn {
    let file = token_file(&Value::from(lessons).to_string());
    let path = file.path().to_str().unwrap();
    let args = [
        "--token",
        TOKEN,
        "--school",
        SCHOOL,
        "--students",
        STUDENTS,
        "--lessons",
        path,
    ];
    // The stand-in reads the file before it listens: the file may go once it has started.
    StandIn::start("rollcall-fake-wonde", &args).unwrap()
}

/// Lesson `id` of class `class` (`(Wonde id, MIS id)`) from `from` to `to`, as the stand-in
/// is given lessons.
fn lesson(id: &str, class: (&str, &str), from: &str, to: &str) -> Value {
    json!({"id": id, "class": {"id": class.0, "mis_id": class.1, "name": class.1},
        "start_at": from, "end_at": to})
}

/// 7B's lessons on 2026-11-23, 09:00–10:00 and 10:00–11:00, and 8C's at 09:00.
fn monday() -> Vec<Value> {
    vec![
        lesson(
            "A2000000001",
            (CLASS_7B, "7B"),
            "2026-11-23 09:00:00",
            "2026-11-23 10:00:00",
        ),
        lesson(
            "A2000000002",
            (CLASS_7B, "7B"),
            "2026-11-23 10:00:00",
            "2026-11-23 11:00:00",
        ),
        lesson(
            "A2000000003",
            ("A3000000002", "8C"),
            "2026-11-23 09:00:00",
            "2026-11-23 10:00:00",
        ),
        lesson(
            "A2000000004",
            (CLASS_7B, "7B"),
            "2026-11-24 09:00:00",
            "2026-11-24 10:00:00",
        ),
    ]
}

fn hm(text: &str) -> NaiveTime {
    NaiveTime::parse_from_str(text, "%H:%M").unwrap()
}

/// `pupil`'s mark `code` in class `class`'s lesson from `from` to `to` on 2026-11-23.
fn lesson_write(pupil: &str, class: &str, (from, to): (&str, &str), code: &str) -> LessonWrite {
    LessonWrite {
        pupil: pupil.to_owned(),
        class: class.to_owned(),
        day: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        starts: hm(from),
        ends: hm(to),
        code: code.to_owned(),
        key: format!("rollcall-{pupil}-{class}-{from}-{code}"),
    }
}

/// The lesson marks `fake` was sent, one a register.
async fn lesson_marks(fake: &StandIn) -> Vec<Value> {
    let requests = fake.requests().await;
    let posts = requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == LESSON_MARKS_PATH);
    posts.map(|r| r["body"]["attendance"][0].clone()).collect()
}

/// How many pages of lessons `fake` was asked for.
async fn lessons_read(fake: &StandIn) -> usize {
    let requests = fake.requests().await;
    let reads = requests.iter().filter(|r| r["path"] == LESSONS_PATH);
    reads.count()
}

fn token_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn config(url: String, token_file: PathBuf) -> WondeConfig {
    WondeConfig {
        url,
        school_id: SCHOOL.to_owned(),
        token_file,
    }
}

/// A connector to `fake`; the token file must outlive it only while it is being built.
fn wonde(fake: &StandIn, timeout_secs: u32) -> Wonde {
    let file = token_file(&format!("{TOKEN}\n"));
    Wonde::new(&config(fake.url(""), file.path().to_owned()), timeout_secs).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 9, 3).unwrap()
}

fn write(pupil: &str, am: Option<&str>, pm: Option<&str>) -> DayWrite {
    DayWrite {
        pupil: pupil.to_owned(),
        day: day(),
        am: am.map(str::to_owned),
        pm: pm.map(str::to_owned),
        key: format!("rollcall-{pupil}-2024-09-03-v1"),
        previous: None,
    }
}

/// The requests `fake` was sent, as `METHOD path`.
async fn sent(fake: &StandIn) -> Vec<String> {
    let requests = fake.requests().await;
    let line = |r: &Value| {
        format!(
            "{} {}",
            r["method"].as_str().unwrap(),
            r["path"].as_str().unwrap()
        )
    };
    requests.iter().map(line).collect()
}

/// The bodies of the registers `fake` was sent.
async fn registers(fake: &StandIn) -> Vec<Value> {
    let requests = fake.requests().await;
    let posts = requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == SESSIONS_PATH);
    posts.map(|r| r["body"].clone()).collect()
}

#[tokio::test]
async fn a_day_is_written_by_mis_id_and_read_back() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    let receipt = wonde
        .write(&write("9919", Some("/"), Some("\\")))
        .await
        .unwrap();
    let id = receipt.mis_ref.unwrap();
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(
        registers(&fake).await,
        [json!({"attendance": [
            {"date": "2024-09-03", "session": "AM", "student_id": "A1749191433",
                "attendance_code_id": PRESENT_AM},
            {"date": "2024-09-03", "session": "PM", "student_id": "A1749191433",
                "attendance_code_id": PRESENT_PM},
        ]})]
    );
    let read = wonde.read_day(day()).await.unwrap();
    let expected = DayRead {
        pupil: "9919".to_owned(),
        aliases: vec!["A1749191433".to_owned()],
        day: day(),
        am: Some("/".to_owned()),
        pm: Some("\\".to_owned()),
    };
    assert_eq!(read, [expected]);
    let other_day = NaiveDate::from_ymd_opt(2024, 9, 4).unwrap();
    assert_eq!(wonde.read_day(other_day).await.unwrap(), []);
}

#[tokio::test]
async fn a_pupil_named_by_wonde_id_is_read_back_by_mis_id() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    wonde
        .write(&write("A1749191434", None, Some("N")))
        .await
        .unwrap();
    let body = &registers(&fake).await[0];
    assert_eq!(body["attendance"].as_array().unwrap().len(), 1);
    assert_eq!(body["attendance"][0]["session"], "PM");
    assert_eq!(body["attendance"][0]["attendance_code_id"], NO_REASON);
    let read = wonde.read_day(day()).await.unwrap();
    assert_eq!(
        (read[0].pupil.as_str(), read[0].am.as_deref()),
        ("9920", None)
    );
    assert_eq!(read[0].pm.as_deref(), Some("N"));
    assert_eq!(
        read[0].aliases,
        ["A1749191434"],
        "the Wonde id it was written by"
    );
}

#[tokio::test]
async fn a_correction_replaces_the_morning_mark() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    wonde
        .write(&write("9919", Some("/"), Some("\\")))
        .await
        .unwrap();
    let mut corrected = write("9919", Some("N"), Some("\\"));
    corrected.key = "rollcall-9919-2024-09-03-v2".to_owned();
    wonde.write(&corrected).await.unwrap();
    let read = wonde.read_day(day()).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(
        (read[0].am.as_deref(), read[0].pm.as_deref()),
        (Some("N"), Some("\\"))
    );
    // The lists were read once: the second write found its pupil and codes kept.
    let lists = sent(&fake).await;
    let students = lists.iter().filter(|l| l.ends_with("/students")).count();
    assert_eq!(students, 1, "{lists:?}");
}

#[tokio::test]
async fn a_day_without_marks_sends_nothing() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    let receipt = wonde.write(&write("9919", None, None)).await.unwrap();
    assert_eq!(receipt, Receipt { mis_ref: None });
    assert_eq!(sent(&fake).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_pupil_added_later_is_found_once_the_list_is_read_again() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    wonde.write(&write("9919", Some("/"), None)).await.unwrap();
    // More than a page (50) of students: the new one is on the second page.
    let more: Vec<String> = (0..60)
        .map(|n| format!("A20000000{n:02}=77{n:02}"))
        .collect();
    fake.control(json!({ "students": more })).await;
    wonde.write(&write("7759", Some("/"), None)).await.unwrap();
    let body = registers(&fake).await.pop().unwrap();
    assert_eq!(body["attendance"][0]["student_id"], "A2000000059");
    let said = wonde.try_connection().await.unwrap();
    assert_eq!(
        said,
        format!("Wonde answered: school {SCHOOL} has at least 50 pupils and 21 attendance codes")
    );
}

#[tokio::test]
async fn an_unknown_pupil_is_refused_plainly_and_nothing_is_written() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    let e = wonde
        .write(&write("12345", Some("/"), None))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        MisError::Refused {
            status: 404,
            said: "no pupil with id or MIS id 12345 in Wonde".to_owned()
        }
    );
    assert!(registers(&fake).await.is_empty());
}

#[tokio::test]
async fn an_unknown_code_is_refused_and_nothing_is_written() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    let e = wonde
        .write(&write("9919", Some("/"), Some("ZZ")))
        .await
        .unwrap_err();
    let MisError::Refused { status: 404, said } = &e else {
        panic!("{e:?}");
    };
    assert!(said.contains("no attendance code \"ZZ\""), "{said}");
    assert!(registers(&fake).await.is_empty());
    // The codes were read once, looking for it.
    let codes = sent(&fake)
        .await
        .iter()
        .filter(|l| l.ends_with("/attendance-codes"))
        .count();
    assert_eq!(codes, 1);
}

#[tokio::test]
async fn codes_and_the_connection_are_what_wonde_lists() {
    let fake = fake();
    let wonde = wonde(&fake, 5);
    let codes = wonde.codes().await.unwrap();
    assert_eq!(codes.len(), 21);
    assert_eq!(
        codes[0],
        MisCode {
            code: "/".to_owned(),
            meaning: None
        }
    );
    assert!(codes.iter().any(|c| c.code == "N"));
    let said = wonde.try_connection().await.unwrap();
    assert_eq!(
        said,
        format!("Wonde answered: school {SCHOOL} has 2 pupils and 21 attendance codes")
    );
}

#[tokio::test]
async fn fault_modes_are_failures_the_outbox_retries() {
    let fake = fake();
    let wonde = wonde(&fake, 1);
    wonde.write(&write("9919", Some("/"), None)).await.unwrap();
    let day = write("9919", Some("N"), None);

    fake.control(json!({"mode": "unauthorized"})).await;
    let e = wonde.write(&day).await.unwrap_err();
    let MisError::Failed { said, after: None } = &e else {
        panic!("{e:?}");
    };
    let check = "Wonde answered 401 (Unauthenticated.): check mis.wonde.token_file";
    assert!(said.starts_with(check), "{said}");
    assert!(!said.contains(TOKEN), "{said}");

    fake.control(json!({"mode": "throttle", "retryAfter": 7}))
        .await;
    let e = wonde.write(&day).await.unwrap_err();
    let MisError::Failed { said, after } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(*after, Some(Duration::from_secs(7)));
    assert!(
        said.starts_with("Wonde answered 429: Too many requests"),
        "{said}"
    );

    fake.control(json!({"mode": "fail"})).await;
    let e = wonde.write(&day).await.unwrap_err();
    assert_eq!(e.said(), "Wonde answered 500: Server error.");
    assert!(matches!(e, MisError::Failed { after: None, .. }));

    fake.control(json!({"mode": "hang"})).await;
    let started = Instant::now();
    let e = wonde.write(&day).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.said(), "Wonde did not answer within 1 s");

    fake.control(json!({"mode": "ok"})).await;
    wonde.write(&day).await.unwrap();
}

#[tokio::test]
async fn a_lesson_mark_is_written_to_the_class_lesson_by_class_id_or_mis_id() {
    let fake = fake_with(&monday());
    let wonde = wonde(&fake, 5);
    let by_mis_id = lesson_write("9919", "7B", ("09:00", "10:00"), "/");
    let receipt = wonde.write_lesson(&by_mis_id).await.unwrap();
    let id = receipt.mis_ref.unwrap();
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    let by_wonde_id = lesson_write(
        "A1749191434",
        &format!(" {CLASS_7B} "),
        ("09:00", "10:00"),
        "N",
    );
    wonde.write_lesson(&by_wonde_id).await.unwrap();
    assert_eq!(
        lesson_marks(&fake).await,
        [
            json!({"lesson_id": "A2000000001", "student_id": "A1749191433",
                "attendance_code_id": PRESENT_AM}),
            json!({"lesson_id": "A2000000001", "student_id": "A1749191434",
                "attendance_code_id": NO_REASON}),
        ]
    );
    // The day's lessons were asked for once, by the day, with their classes.
    let requests = fake.requests().await;
    let reads: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"] == LESSONS_PATH)
        .collect();
    assert_eq!(reads.len(), 1, "{requests:?}");
    assert_eq!(
        reads[0]["query"],
        json!({"include": "class", "lessons_start_after": "2026-11-23 00:00:00",
            "lessons_start_before": "2026-11-24 00:00:00"})
    );
}

#[tokio::test]
async fn a_lesson_mark_written_again_with_a_new_code_replaces_the_first() {
    let fake = fake_with(&monday());
    let wonde = wonde(&fake, 5);
    let first = lesson_write("9919", "7B", ("10:00", "11:00"), "/");
    wonde.write_lesson(&first).await.unwrap();
    let corrected = lesson_write("9919", "7B", ("10:00", "11:00"), "N");
    assert_ne!(first.key, corrected.key);
    wonde.write_lesson(&corrected).await.unwrap();
    let url = fake.url(&format!("{LESSON_MARKS_PATH}?per_page=200"));
    let answer = fake.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    let kept: Value = answer.json().await.unwrap();
    assert_eq!(
        kept["data"],
        json!([{"lesson_id": "A2000000002", "student_id": "A1749191433",
            "attendance_code_id": NO_REASON}])
    );
}

#[tokio::test]
async fn of_the_classs_lessons_that_day_the_one_overlapping_most_is_chosen() {
    let fake = fake_with(&monday());
    let wonde = wonde(&fake, 5);
    for (times, chosen) in [
        (("10:00", "11:00"), "A2000000002"),
        (("09:40", "10:50"), "A2000000002"),
        (("09:05", "09:55"), "A2000000001"),
        (("09:30", "10:30"), "A2000000001"),
    ] {
        let w = lesson_write("9919", "7B", times, "/");
        wonde.write_lesson(&w).await.unwrap();
        let marks = lesson_marks(&fake).await;
        assert_eq!(marks.last().unwrap()["lesson_id"], chosen, "{times:?}");
    }
}

#[tokio::test]
async fn no_lesson_of_the_class_then_is_refused_in_words_the_office_can_act_on() {
    let fake = fake_with(&monday());
    let wonde = wonde(&fake, 5);
    let afternoon = lesson_write("9919", "7B", ("13:00", "14:00"), "/");
    let e = wonde.write_lesson(&afternoon).await.unwrap_err();
    let said = "the MIS's timetable has no lesson of class 7B overlapping 13:00–14:00 on \
        2026-11-23: check the class's MIS reference and the MIS's timetable";
    assert_eq!(
        e,
        MisError::Refused {
            status: 404,
            said: said.to_owned()
        }
    );
    let stranger = lesson_write("9919", "9Z", ("09:00", "10:00"), "/");
    let e = wonde.write_lesson(&stranger).await.unwrap_err();
    assert!(
        e.said()
            .contains("no lesson of class 9Z overlapping 09:00–10:00"),
        "{e}"
    );
    assert!(lesson_marks(&fake).await.is_empty());
    // Lessons read just now are not read again for a refusal...
    assert_eq!(lessons_read(&fake).await, 1);
    // ...but lessons read a minute ago or more are, once, before refusing.
    let mut kept = wonde.lists.lessons.lock().await;
    let timetable = Arc::get_mut(kept.get_mut(&afternoon.day).unwrap()).unwrap();
    timetable.read_at -= Duration::from_secs(90);
    drop(kept);
    assert!(wonde.write_lesson(&afternoon).await.is_err());
    assert_eq!(lessons_read(&fake).await, 2);
}

#[tokio::test]
async fn a_day_of_lessons_over_two_pages_is_read_once_for_two_writes() {
    // 60 classes' lessons at 09:00 (more than a page of 50), then 7B's at 10:00.
    let mut lessons: Vec<Value> = (0..60)
        .map(|n| {
            let class = (format!("A40000000{n:02}"), format!("C{n:02}"));
            lesson(
                &format!("A50000000{n:02}"),
                (&class.0, &class.1),
                "2026-11-23 09:00:00",
                "2026-11-23 10:00:00",
            )
        })
        .collect();
    lessons.push(lesson(
        "A2000000009",
        (CLASS_7B, "7B"),
        "2026-11-23 10:00:00",
        "2026-11-23 11:00:00",
    ));
    let fake = fake_with(&lessons);
    let wonde = wonde(&fake, 5);
    for pupil in ["9919", "9920"] {
        let w = lesson_write(pupil, "7B", ("10:00", "11:00"), "/");
        wonde.write_lesson(&w).await.unwrap();
    }
    let marks = lesson_marks(&fake).await;
    let chosen: Vec<&Value> = marks.iter().map(|m| &m["lesson_id"]).collect();
    assert_eq!(chosen, ["A2000000009", "A2000000009"]);
    let requests = fake.requests().await;
    let pages: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"] == LESSONS_PATH)
        .collect();
    assert_eq!(pages.len(), 2, "one read of two pages: {requests:?}");
    assert_eq!(pages[1]["query"]["page"], "2");
    assert_eq!(
        pages[1]["query"]["lessons_start_after"],
        "2026-11-23 00:00:00"
    );
}

#[tokio::test]
async fn lesson_writes_wonde_cannot_take_now_are_failures() {
    let fake = fake_with(&monday());
    let wonde = wonde(&fake, 5);
    let w = lesson_write("9919", "7B", ("09:00", "10:00"), "/");
    wonde.write_lesson(&w).await.unwrap();

    fake.control(json!({"mode": "throttle", "retryAfter": 7}))
        .await;
    let e = wonde.write_lesson(&w).await.unwrap_err();
    let MisError::Failed { said, after } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(*after, Some(Duration::from_secs(7)));
    assert!(said.starts_with("Wonde answered 429"), "{said}");

    fake.control(json!({"mode": "fail"})).await;
    let e = wonde.write_lesson(&w).await.unwrap_err();
    assert_eq!(e.said(), "Wonde answered 500: Server error.");
    assert!(matches!(e, MisError::Failed { after: None, .. }));

    // Nothing kept: the day's lessons cannot be read either.
    wonde.lists.lessons.lock().await.clear();
    let e = wonde.write_lesson(&w).await.unwrap_err();
    assert!(matches!(e, MisError::Failed { .. }), "{e:?}");

    fake.control(json!({"mode": "ok"})).await;
    wonde.write_lesson(&w).await.unwrap();
}

#[test]
fn a_lesson_is_read_with_its_class_embedded_or_by_id() {
    let time = |t: &str| json!({"date": t, "timezone_type": 3, "timezone": "Europe/London"});
    let embedded = json!({"id": "L1", "class": {"data": {"id": "C1", "mis_id": "7B", "name": "7B"}},
        "start_at": time("2026-11-23 09:00:00.000000"), "end_at": time("2026-11-23 10:00:00.000000")});
    let lesson = Lesson::from_item(&embedded).unwrap();
    assert_eq!(lesson.class, ["C1", "7B"]);
    assert_eq!(lesson.starts, day_at("2026-11-23", "09:00"));
    let bare = json!({"id": "L2", "class": "C1", "start_at": time("2026-11-23 10:00:00"),
        "end_at": time("2026-11-23 11:00:00.5")});
    let lesson = Lesson::from_item(&bare).unwrap();
    assert_eq!(
        (lesson.id.as_str(), lesson.class.clone()),
        ("L2", vec!["C1".to_owned()])
    );
    let no_mis_id = json!({"id": "L3", "class": {"data": {"id": "C1", "mis_id": null}},
        "start_at": time("2026-11-23 10:00:00"), "end_at": time("2026-11-23 11:00:00")});
    assert_eq!(Lesson::from_item(&no_mis_id).unwrap().class, ["C1"]);
    for bad in [
        json!({"class": "C1", "start_at": time("2026-11-23 10:00:00"), "end_at": time("2026-11-23 11:00:00")}),
        json!({"id": "L4", "class": "C1", "start_at": time("23/11/2026 10:00"), "end_at": time("2026-11-23 11:00:00")}),
        json!({"id": "L5", "class": "C1", "start_at": time("2026-11-23 10:00:00")}),
    ] {
        assert_eq!(Lesson::from_item(&bad), None, "{bad}");
    }
}

fn day_at(day: &str, time: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(&format!("{day} {time}"), "%Y-%m-%d %H:%M").unwrap()
}

#[test]
fn the_lesson_chosen_is_the_classs_that_day_overlapping_most_the_earlier_on_a_tie() {
    let lesson = |id: &str, class: &str, day: &str, from: &str, to: &str| Lesson {
        id: id.to_owned(),
        class: vec![format!("W{class}"), class.to_owned()],
        starts: day_at(day, from),
        ends: day_at(day, to),
    };
    let lessons = [
        lesson("later", "7B", "2026-11-23", "10:00", "11:00"),
        lesson("first", "7B", "2026-11-23", "09:00", "10:00"),
        lesson("other class", "8C", "2026-11-23", "09:00", "11:00"),
        lesson("other day", "7B", "2026-11-24", "09:00", "11:00"),
    ];
    let chosen = |class: &str, from: &str, to: &str| {
        let w = lesson_write("9919", class, (from, to), "/");
        lesson_for(&lessons, &w).map(|l| l.id.as_str())
    };
    assert_eq!(chosen("7B", "09:00", "10:00"), Some("first"));
    assert_eq!(chosen("W7B", "09:50", "10:30"), Some("later"));
    assert_eq!(chosen("7B", "09:30", "10:30"), Some("first"), "a tie");
    assert_eq!(chosen(" 7B ", "08:00", "12:00"), Some("first"), "a tie");
    assert_eq!(
        chosen("7B", "11:00", "12:00"),
        None,
        "touching is not overlapping"
    );
    assert_eq!(chosen("7B", "10:00", "09:00"), None);
    assert_eq!(chosen("9Z", "09:00", "10:00"), None);
    assert_eq!(chosen("", "09:00", "10:00"), None);
}

#[tokio::test]
async fn a_wrong_token_or_school_is_said_so() {
    let fake = fake();
    let file = token_file("not-the-token");
    let wrong = Wonde::new(&config(fake.url(""), file.path().to_owned()), 5).unwrap();
    let e = wrong.try_connection().await.unwrap_err();
    assert!(matches!(e, MisError::Failed { .. }), "{e:?}");
    assert!(!e.said().contains("not-the-token"), "{e}");
    let file = token_file(TOKEN);
    let mut elsewhere = config(fake.url(""), file.path().to_owned());
    elsewhere.school_id = "A999".to_owned();
    let e = Wonde::new(&elsewhere, 5)
        .unwrap()
        .try_connection()
        .await
        .unwrap_err();
    assert_eq!(
        e,
        MisError::Refused {
            status: 404,
            said: "Not found.".to_owned()
        }
    );
}

#[tokio::test]
async fn nothing_listening_is_a_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = token_file(TOKEN);
    let url = format!("http://127.0.0.1:{port}");
    let wonde = Wonde::new(&config(url, file.path().to_owned()), 5).unwrap();
    let e = wonde.codes().await.unwrap_err();
    assert!(e.said().starts_with("Wonde could not be reached: "), "{e}");
    assert!(
        !e.said().contains(TOKEN) && !e.said().contains(SCHOOL),
        "{e}"
    );
}

#[test]
fn the_token_file_is_named_and_its_contents_never_are() {
    let missing = PathBuf::from("/nonexistent/wonde-token");
    let e = Wonde::new(&config("https://api.wonde.com".into(), missing), 5).unwrap_err();
    assert!(
        e.starts_with("mis.wonde.token_file /nonexistent/wonde-token: cannot read it"),
        "{e}"
    );
    for (text, problem) in [("\n", "it is empty"), ("abc\ndef\n", "more than one line")] {
        let file = token_file(text);
        let e = Wonde::new(
            &config("https://api.wonde.com".into(), file.path().to_owned()),
            5,
        )
        .unwrap_err();
        assert!(
            e.contains(&file.path().display().to_string()) && e.contains(problem),
            "{e}"
        );
        assert!(!e.contains("abc"), "{e}");
    }
    let file = token_file(&format!("{TOKEN}\n"));
    let wonde = Wonde::new(
        &config("https://api.wonde.com/".into(), file.path().to_owned()),
        5,
    )
    .unwrap();
    assert!(!format!("{wonde:?}").contains(TOKEN), "{wonde:?}");
    assert_eq!(
        wonde.base.as_str(),
        format!("https://api.wonde.com/v1.0/schools/{SCHOOL}/")
    );
}

#[test]
fn every_write_carries_its_idempotency_key() {
    // The stand-in's journal records no header but whether `Authorization` was sent, so the
    // key is checked on the request as built.
    let file = token_file(TOKEN);
    let wonde = Wonde::new(
        &config("https://api.wonde.com".into(), file.path().to_owned()),
        5,
    )
    .unwrap();
    for path in [SESSIONS, LESSON_MARKS] {
        let request = wonde
            .write_request(path, &json!({"attendance": []}), "rollcall-k-v3")
            .build()
            .unwrap();
        assert_eq!(request.headers()["idempotency-key"], "rollcall-k-v3");
        assert!(request.url().path().ends_with(path), "{}", request.url());
    }
}

#[test]
fn marks_fold_into_one_day_a_pupil_named_as_the_school_names_them() {
    let students = Students::from_items(&[
        json!({"id": "W1", "mis_id": "9919"}),
        json!({"id": "W2", "mis_id": ""}),
    ]);
    assert_eq!(students.wonde_id("9919"), Some("W1"));
    assert_eq!(students.wonde_id("W2"), Some("W2"));
    assert_eq!(students.wonde_id(""), None);
    let codes = Codes::from_items(&[
        json!({"id": "C1", "code": "/"}),
        json!({"id": "C2", "code": "N"}),
    ]);
    let mark = |student: &str, session: &str, code: &str| {
        json!({"student_id": student, "date": "2024-09-03", "session": session,
            "attendance_code_id": code})
    };
    let marks = [
        mark("W2", "PM", "C2"),
        mark("W1", "AM", "C1"),
        mark("W2", "AM", "C9"),
    ];
    let read = fold(&marks, day(), &students, &codes);
    let shown: Vec<_> = read
        .iter()
        .map(|r| (r.pupil.as_str(), r.am.as_deref(), r.pm.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [("9919", Some("/"), None), ("W2", Some("C9"), Some("N"))]
    );
}

#[test]
fn read_back_names_each_pupil_every_way_wonde_knows_them() {
    let students = Students::from_items(&[
        json!({"id": "W1", "mis_id": "9919"}),
        json!({"id": "W2", "mis_id": ""}),
        json!({"id": "W3", "mis_id": "9919"}),
        json!({"id": "W4", "mis_id": "W4"}),
    ]);
    let codes = Codes::from_items(&[json!({"id": "C1", "code": "/"})]);
    let mark = |student: &str, session: &str| {
        json!({"student_id": student, "date": "2024-09-03", "session": session,
            "attendance_code_id": "C1"})
    };
    let marks = [
        mark("W1", "AM"),
        mark("W2", "AM"),
        mark("W3", "PM"),
        mark("W4", "AM"),
        mark("W9", "AM"),
    ];
    let read = fold(&marks, day(), &students, &codes);
    let shown: Vec<_> = read
        .iter()
        .map(|r| (r.pupil.as_str(), r.aliases.clone()))
        .collect();
    let none = Vec::<String>::new;
    assert_eq!(
        shown,
        [
            // One MIS id held by two Wonde students: one pupil, known by both Wonde ids.
            ("9919", vec!["W1".to_owned(), "W3".to_owned()]),
            // No MIS id, the MIS id the same as the Wonde id, a student Wonde no longer lists.
            ("W2", none()),
            ("W4", none()),
            ("W9", none()),
        ]
    );
}

#[test]
fn a_refusal_keeps_wondes_words_and_failures_are_told_apart() {
    let body = br#"{"message": "The given data was invalid.", "errors": {"attendance.0.student_id": ["There is no student A9."]}}"#;
    let e = answer_error(StatusCode::UNPROCESSABLE_ENTITY, None, body);
    assert_eq!(
        e,
        MisError::Refused {
            status: 422,
            said: "The given data was invalid.; attendance.0.student_id: There is no student A9."
                .to_owned()
        }
    );
    let long = format!("{{\"message\": \"{}\"}}", "x".repeat(400));
    let MisError::Refused { said, .. } = answer_error(StatusCode::CONFLICT, None, long.as_bytes())
    else {
        panic!()
    };
    assert_eq!(said.chars().count(), SAID_CHARS);
    let empty = answer_error(StatusCode::NOT_FOUND, None, b"");
    assert_eq!(empty.said(), "Not Found");
    for status in [401, 403, 408, 429, 500, 502, 503] {
        let e = answer_error(StatusCode::from_u16(status).unwrap(), None, b"{}");
        assert!(matches!(e, MisError::Failed { .. }), "{status}: {e:?}");
    }
}
