//! Pupils missing from lessons and registers not taken (issue 70), over a real hub with a real
//! SMTP server (aiosmtpd) and a real webhook receiver: the morning run (Ada through the gate at
//! 08:40, present in period 1, missing from period 2 at 10:10, found at 10:14), told once by
//! webhook and e-mail to the pastoral staff; a reason keeps a pupil off the list; a teacher
//! sees only her own lessons until an admin gives her the pastoral permission; a register
//! not taken reminds its teacher once; a lesson taken off the timetable ends its alerts, and a
//! clock gone back alerts nobody twice.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_hub::config::{Config, DigestConfig, EmailConfig, Security, WebhookConfig};
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::*;
use crate::support::smtp::SmtpSink;
use crate::webhooks::{Got, SECRET, receiver};

/// The events posted so far, by name, with their data.
fn posted(got: &Got) -> Vec<(String, Value)> {
    got.lock()
        .unwrap()
        .iter()
        .map(|(event, _, body)| {
            let sent: Value = serde_json::from_str(body).unwrap();
            (event.clone(), sent["data"].clone())
        })
        .collect()
}

fn of<'a>(events: &'a [(String, Value)], name: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|(e, _)| e == name)
        .map(|(_, d)| d)
        .collect()
}

/// A hub watching lessons every second, mailing `sink` and posting to `hook`.
fn settings(sink: &SmtpSink, hook: WebhookConfig) -> impl FnOnce(&mut Config) + Send + 'static {
    let smtp = format!("127.0.0.1:{}", sink.port);
    move |c: &mut Config| {
        c.register.check_every_secs = 1;
        c.auth.access_token_minutes = 1440;
        c.webhooks = vec![hook];
        c.email = Some(EmailConfig {
            smtp,
            security: Security::None,
            username: None,
            password_file: None,
            from: "Rollcall <rollcall@school.test>".into(),
            ca_file: None,
            pages_url: Some("https://rollcall.school.test".into()),
            digest: DigestConfig {
                at: "07:30".into(),
                days: vec!["sat".into()],
                check_every_secs: 3600,
            },
        });
    }
}

fn hook(addr: std::net::SocketAddr, dir: &std::path::Path) -> WebhookConfig {
    let secret_file = dir.join("webhook.secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    WebhookConfig {
        url: format!("http://{addr}/hook"),
        secret_file,
        events: vec![
            "student.missing".into(),
            "student.found".into(),
            "register.not_taken".into(),
        ],
    }
}

/// Period 2 of 7B, 10:00 to 11:00 in Lab 4, with its own door; and the main gate's door facing
/// in. Answers (period 2's slot, Lab 4's door, the gate's door).
pub(crate) async fn period_two_and_gate(admin: &Api, s: &School) -> (String, String, String) {
    let slot = admin
        .created("/timetable", json!({"class_id": s.class, "room": "Lab 4", "weekday": 1, "start": "10:00", "end": "11:00", "from": "2026-09-01"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lab4 = admin
        .created("/devices", json!({"name": "door-lab4", "room": "Lab 4"}))
        .await;
    let gate = admin
        .created(
            "/devices",
            json!({"name": "gate", "room": "Main gate", "direction": "in"}),
        )
        .await;
    let id = |d: &Value| d["device"]["id"].as_str().unwrap().to_owned();
    (slot, id(&lab4), id(&gate))
}

/// The door `device` in `room` sure it saw `student` at `at` (the gate's faces in, the
/// classrooms' both ways, as registered).
pub(crate) async fn seen(hub: &TestHub, device: &str, room: &str, student: &str, at: i64) {
    let mut r = record(
        device.parse().unwrap(),
        Decision::Confident,
        &[(student, 0.3)],
        at,
    );
    r.room = room.into();
    r.direction = Some(match room {
        "Main gate" => Direction::In,
        _ => Direction::Both,
    });
    store(hub, r).await;
}

pub(crate) async fn board(api: &Api) -> Value {
    let (status, board) = api.get("/missing").await;
    assert_eq!(status, StatusCode::OK, "{board}");
    board
}

/// One step of a day as the test saw it, for whoever runs it with `--nocapture` (the morning
/// run through is read from this).
pub(crate) fn narrate(at: &str, what: impl std::fmt::Display) {
    eprintln!("[{at}] {what}");
}

pub(crate) fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect()
}

/// A hub at 08:30 on Monday that tells: a real SMTP server it mails, a real receiver it posts
/// to.
struct Told {
    hub: TestHub,
    sink: SmtpSink,
    got: Got,
    _dir: tempfile::TempDir,
}

async fn told() -> Told {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), None).await;
    let (addr, got) = receiver(0).await;
    let hub = start_hub_at(
        UnixMillis(monday_at(8, 30)),
        settings(&sink, hook(addr, dir.path())),
    )
    .await;
    Told {
        hub,
        sink,
        got,
        _dir: dir,
    }
}

#[tokio::test]
async fn the_morning_run_ada_missing_at_ten_past_ten_and_found_at_fourteen_minutes_past() {
    let Told {
        hub,
        sink,
        got,
        _dir,
    } = told().await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (p2, lab4, gate) = period_two_and_gate(&admin, &s).await;
    let (ada, bo) = (s.students[0].as_str(), s.students[1].as_str());
    let (status, _) = admin
        .patch("/account", json!({"email": "office@school.test"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .teacher
        .patch("/account", json!({"email": "tess@school.test"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let pat = admin
        .created(
            "/users",
            json!({"username": "pat", "role": "teacher", "password": "pastoral password", "email": "pat@school.test"}),
        )
        .await;
    let pat_api = hub.api().login("pat", "pastoral password").await;

    // 08:40 Ada comes through the gate; 09:02 both are in Lab 3 for period 1.
    seen(&hub, &gate, "Main gate", ada, monday_at(8, 40)).await;
    seen(&hub, &s.device, "Lab 3", ada, monday_at(9, 2)).await;
    seen(&hub, &s.device, "Lab 3", bo, monday_at(9, 2)).await;
    // Bo's family's reason for period 2 is in: the teacher marks him excused.
    hub.clock.set(UnixMillis(monday_at(10, 5)));
    let (status, body) = s
        .teacher
        .put(
            &format!("/sessions/{p2}/2026-11-23/marks/{bo}"),
            json!({"mark": "excused", "reason": "dentist, the family rang"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        names(&board(&admin).await["missing"]).is_empty(),
        "ten minutes' grace"
    );

    // 10:10: Ada is missing from period 2, and the register is not taken.
    hub.clock.set(UnixMillis(monday_at(10, 10)));
    wait_for("the alert", Duration::from_secs(20), || async {
        of(&posted(&got), "student.missing").len() == 1
    })
    .await;
    let now = board(&admin).await;
    narrate(
        "08:40",
        "Ada seen at the Main gate; 09:02 Ada and Bo seen by Lab 3's door (period 1)",
    );
    narrate("10:10", format!("GET /missing: {}", now["missing"]));
    assert_eq!(names(&now["missing"]), ["Ada"], "{now}");
    let line = &now["missing"][0];
    assert_eq!(line["in_school"], "seen at Main gate at 08:40");
    assert_eq!(
        (&line["class_name"], &line["room"]),
        (&json!("7B"), &json!("Lab 4"))
    );
    assert!(line["alerted_at"].is_i64(), "{line}");
    assert_eq!(now["whole_school"], true);
    let registers = now["not_taken"].as_array().unwrap();
    assert_eq!(registers.len(), 1, "{now}");
    assert_eq!(
        (&registers[0]["slot_id"], &registers[0]["unmarked"]),
        (&json!(p2), &json!(1))
    );

    // The webhook names her; the pastoral staff (the admin) are mailed, the teacher reminded.
    let events = posted(&got);
    let alert = of(&events, "student.missing")[0];
    narrate("10:10", format!("webhook student.missing: {alert}"));
    assert_eq!(
        (&alert["name"], &alert["student"]),
        (&json!("Ada"), &json!(ada))
    );
    assert_eq!(alert["in_school"], "seen at Main gate at 08:40");
    wait_for("the e-mails", Duration::from_secs(20), || async {
        !sink.to("office@school.test").is_empty() && !sink.to("tess@school.test").is_empty()
    })
    .await;
    let office = sink.to("office@school.test");
    let subject = office[0].lines().find(|l| l.starts_with("Subject:"));
    narrate(
        "10:10",
        format!("e-mail to office@school.test: {subject:?}"),
    );
    assert!(
        office[0].contains("Missing from a lesson: Ada (7B)"),
        "{}",
        office[0]
    );
    assert!(
        office[0].contains("seen at Main gate at 08:40"),
        "{}",
        office[0]
    );
    assert!(
        office[0].contains("https://rollcall.school.test/#/missing"),
        "{}",
        office[0]
    );
    let reminder = &sink.to("tess@school.test")[0];
    assert!(
        reminder.contains("Register not taken: 7B at 10:00"),
        "{reminder}"
    );
    assert!(
        sink.to("pat@school.test").is_empty(),
        "Pat is not pastoral yet"
    );

    // Tess sees her own lesson's; Pat, with no class, nothing until she is made pastoral.
    let tess = board(&s.teacher).await;
    assert_eq!(
        (names(&tess["missing"]), &tess["whole_school"]),
        (vec!["Ada"], &json!(false))
    );
    assert_eq!(tess["missing"][0]["mine"], true);
    assert!(names(&board(&pat_api).await["missing"]).is_empty());
    let pat_id = pat["id"].as_str().unwrap();
    let (status, changed) = admin
        .patch(&format!("/users/{pat_id}"), json!({"pastoral": true}))
        .await;
    assert_eq!(
        (status, &changed["pastoral"]),
        (StatusCode::OK, &json!(true))
    );
    let pat_sees = board(&pat_api).await;
    assert_eq!(
        (names(&pat_sees["missing"]), &pat_sees["whole_school"]),
        (vec!["Ada"], &json!(true))
    );
    assert_eq!(pat_sees["missing"][0]["mine"], false);

    // Told once: passes go on, nothing is posted or mailed again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let events = posted(&got);
    assert_eq!(of(&events, "student.missing").len(), 1);
    assert_eq!(of(&events, "register.not_taken").len(), 1);
    assert_eq!(sink.to("office@school.test").len(), 1);
    assert_eq!(sink.to("tess@school.test").len(), 1);

    // 10:14 Lab 4's door sees her: found, with the time, told to the pastoral staff.
    hub.clock.set(UnixMillis(monday_at(10, 15)));
    seen(&hub, &lab4, "Lab 4", ada, monday_at(10, 14)).await;
    wait_for("found", Duration::from_secs(20), || async {
        of(&posted(&got), "student.found").len() == 1
    })
    .await;
    let found = of(&posted(&got), "student.found")[0].clone();
    narrate(
        "10:14",
        format!("Lab 4's door sees Ada; webhook student.found: {found}"),
    );
    assert_eq!(
        (&found["name"], &found["found_at"]),
        (&json!("Ada"), &json!(monday_at(10, 14)))
    );
    let now = board(&admin).await;
    assert!(names(&now["missing"]).is_empty(), "{now}");
    let ended = &now["ended"][0];
    assert_eq!(
        (&ended["name"], &ended["ended"]),
        (&json!("Ada"), &json!("found"))
    );
    assert_eq!(ended["ended_at"], monday_at(10, 14));
    wait_for("the found e-mail", Duration::from_secs(20), || async {
        sink.to("office@school.test").len() == 2 && sink.to("pat@school.test").len() == 1
    })
    .await;
    let mails = sink.to("office@school.test");
    let mail = mails.iter().find(|m| m.contains("Found: Ada (7B)"));
    assert!(mail.is_some_and(|m| m.contains("at 10:14")), "{mails:?}");
    assert!(
        now["not_taken"].as_array().unwrap().is_empty(),
        "Ada marked, Bo excused: taken"
    );

    // The clock goes back to 10:10: nobody is alerted of twice.
    hub.clock.set(UnixMillis(monday_at(10, 10)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(of(&posted(&got), "student.missing").len(), 1);
    hub.stop().await;
}

#[tokio::test]
async fn a_lesson_taken_off_the_timetable_ends_its_alerts_without_finding_anyone() {
    let Told {
        hub,
        sink: _sink,
        got,
        _dir,
    } = told().await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (p2, _, gate) = period_two_and_gate(&admin, &s).await;
    seen(&hub, &gate, "Main gate", &s.students[0], monday_at(8, 40)).await;
    seen(&hub, &gate, "Main gate", &s.students[1], monday_at(8, 41)).await;
    // Period 1 goes by with neither in Lab 3: both are missing from it at 09:10.
    hub.clock.set(UnixMillis(monday_at(9, 10)));
    wait_for("two alerts", Duration::from_secs(20), || async {
        of(&posted(&got), "student.missing").len() == 2
    })
    .await;
    let (status, _) = admin.delete(&format!("/timetable/{}", s.slot)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    wait_for("the alerts ended", Duration::from_secs(20), || async {
        let now = board(&admin).await;
        now["ended"].as_array().unwrap().len() == 2
    })
    .await;
    let now = board(&admin).await;
    assert!(names(&now["missing"]).is_empty());
    assert!(
        now["ended"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["ended"] == "lesson_gone"),
        "{now}"
    );
    assert!(
        of(&posted(&got), "student.found").is_empty(),
        "nobody was found: the lesson went"
    );
    // Period 2 still alerts, once each.
    hub.clock.set(UnixMillis(monday_at(10, 10)));
    wait_for("period 2's alerts", Duration::from_secs(20), || async {
        of(&posted(&got), "student.missing").len() == 4
    })
    .await;
    let events = posted(&got);
    let alerts = of(&events, "student.missing");
    assert!(
        alerts[2..].iter().all(|a| a["slot_id"] == json!(p2)),
        "{alerts:?}"
    );
    hub.stop().await;
}

/// Bo signed out at reception at 11:00 for the dentist: period 3 gets the medical code, the
/// on-site list and the roll call have him gone, and he is not missing; signed back in at
/// 11:30 he is watched again. Bad input is refused, saying what was wrong.
#[tokio::test]
async fn bo_signed_out_for_the_dentist_is_not_missing_until_he_is_back() {
    let hub = start_hub_at(UnixMillis(monday_at(8, 30)), |c| {
        c.register.check_every_secs = 1;
        c.auth.access_token_minutes = 1440;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (p2, lab4, gate) = period_two_and_gate(&admin, &s).await;
    let p3 = admin
        .created("/timetable", json!({"class_id": s.class, "room": "Lab 4", "weekday": 1, "start": "11:00", "end": "12:00", "from": "2026-09-01"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ada, bo) = (s.students[0].as_str(), s.students[1].as_str());
    for (student, at) in [(ada, monday_at(8, 40)), (bo, monday_at(8, 41))] {
        seen(&hub, &gate, "Main gate", student, at).await;
    }
    for student in [ada, bo] {
        seen(&hub, &s.device, "Lab 3", student, monday_at(9, 2)).await;
        seen(&hub, &lab4, "Lab 4", student, monday_at(10, 2)).await;
    }

    // 11:00, reception.
    hub.clock.set(UnixMillis(monday_at(11, 0)));
    let refused = [
        (
            json!({"student": bo, "reason": "collected"}),
            StatusCode::BAD_REQUEST,
            "collected_by",
        ),
        (
            json!({"student": bo, "reason": "holiday"}),
            StatusCode::BAD_REQUEST,
            "holiday",
        ),
        (
            json!({"student": s.class, "reason": "ill"}),
            StatusCode::NOT_FOUND,
            "student",
        ),
    ];
    for (body, status, says) in refused {
        let (got, answer) = admin.post("/sign-outs", body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer.to_string().contains(says), "{body}: {answer}");
    }
    let out = admin
        .created(
            "/sign-outs",
            json!({"student": bo, "reason": "medical", "note": "dentist"}),
        )
        .await;
    assert_eq!(
        (&out["name"], &out["out_at"]),
        (&json!("Bo"), &json!(monday_at(11, 0)))
    );
    narrate(
        "11:00",
        format!("POST /sign-outs (Bo, medical, dentist): {out}"),
    );
    let (status, again) = admin
        .post("/sign-outs", json!({"student": bo, "reason": "ill"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let (_, roster) = admin.get(&format!("/sessions/{p3}/2026-11-23")).await;
    let line = row(&roster, "Bo");
    narrate("11:00", format!("period 3's roster, Bo: {line}"));
    assert_eq!(line["mark"], "excused", "{line}");
    assert_eq!(
        line["reason"],
        "Signed out at reception at 11:00 (medical appointment): dentist"
    );
    let (_, roster) = admin.get(&format!("/sessions/{p2}/2026-11-23")).await;
    assert_eq!(
        row(&roster, "Bo")["mark"],
        "present",
        "the lesson he left keeps his mark"
    );
    let (_, on_site) = admin.get("/on-site").await;
    let bo_now = on_site["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "Bo")
        .unwrap();
    assert_eq!(
        (&bo_now["on_site"], &bo_now["last_room"]),
        (&json!(false), &json!("Reception"))
    );
    let (_, roll) = admin.get("/roll-call").await;
    assert!(
        !roll.to_string().contains("\"Bo\""),
        "not expected at the assembly point: {roll}"
    );

    // 11:10: Ada, in school and not in period 3, is missing; Bo is not.
    hub.clock.set(UnixMillis(monday_at(11, 10)));
    wait_for(
        "Ada missing from period 3",
        Duration::from_secs(20),
        || async { names(&board(&admin).await["missing"]) == ["Ada"] },
    )
    .await;
    narrate(
        "11:10",
        "GET /missing: Ada missing from period 3; Bo, signed out, is not",
    );

    // 11:30 he is back: period 3's mark comes off, and he is watched again.
    hub.clock.set(UnixMillis(monday_at(11, 30)));
    let id = out["id"].as_str().unwrap();
    let (status, back) = admin
        .post(&format!("/sign-outs/{id}/sign-in"), json!({}))
        .await;
    assert_eq!(
        (status, &back["back_at"]),
        (StatusCode::OK, &json!(monday_at(11, 30)))
    );
    let (status, twice) = admin
        .post(&format!("/sign-outs/{id}/sign-in"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    let (_, roster) = admin.get(&format!("/sessions/{p3}/2026-11-23")).await;
    assert_eq!(
        row(&roster, "Bo")["mark"],
        Value::Null,
        "unmarked until he comes in"
    );
    wait_for("Bo watched again", Duration::from_secs(20), || async {
        names(&board(&admin).await["missing"]) == ["Ada", "Bo"]
    })
    .await;
    let (_, day) = admin.get("/sign-outs").await;
    assert_eq!(
        (&day["out"], &day["sign_outs"][0]["back_at"]),
        (&json!(0), &json!(monday_at(11, 30)))
    );
    hub.stop().await;
}
