//! The statutory register through a real hub: a morning and an afternoon mark for each pupil,
//! made from their lessons as `[register.statutory]` says, with the DfE's codes; an amendment
//! to a lesson changes its session's mark; the CSV says the same; a teacher sees only their
//! own classes'; a setting that cannot hold is refused when the hub starts.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::*;

/// The marks of `student` on Monday: (AM, PM), `None` for no mark yet.
fn marks(register: &Value, student: &str) -> (Option<String>, Option<String>) {
    let pupil = register["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["student"] == student)
        .unwrap_or_else(|| panic!("{student} not in {register}"));
    let day = &pupil["days"][0];
    assert_eq!(day["day"], "2026-11-23", "{register}");
    let code = |half: &str| day[half]["code"].as_str().map(str::to_owned);
    (code("am"), code("pm"))
}

#[tokio::test]
async fn each_pupil_gets_a_morning_and_an_afternoon_mark_from_their_lessons() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    // 7B on Monday: 09:00 (seeded), 10:00 and 13:00, all in Lab 3.
    for (start, end) in [("10:00", "11:00"), ("13:00", "14:00")] {
        let slot = json!({"class_id": s.class, "room": "Lab 3", "weekday": 1, "start": start, "end": end, "from": "2026-09-01"});
        admin.created("/timetable", slot).await;
    }
    // Ada is there all day; Bo misses period 1, walks in to period 2, and is away after lunch.
    door_saw(&hub, &s.device, &ada, monday_at(9, 2)).await;
    door_saw(&hub, &s.device, &ada, monday_at(13, 1)).await;
    door_saw(&hub, &s.device, &bo, monday_at(10, 3)).await;
    let path = format!(
        "/reports/classes/{}/statutory?from=2026-11-23&to=2026-11-23",
        s.class
    );

    // Before any lesson's register is written, no session has a mark.
    let (status, open) = s.teacher.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(marks(&open, &ada), (None, None));
    assert_eq!(open["afternoon_from"], "12:00");

    hub.clock.set(UnixMillis(monday_at(15, 0)));
    let (teacher, admin) = (
        hub.api().login("tess", "teacher password").await,
        hub.admin().await,
    );
    wait_for(
        "Monday's lessons in the register",
        Duration::from_secs(20),
        || {
            let (teacher, path, ada) = (teacher.clone(), path.clone(), ada.clone());
            async move {
                let (_, register) = teacher.get(&path).await;
                marks(&register, &ada).1.is_some()
            }
        },
    )
    .await;
    let (_, register) = teacher.get(&path).await;
    assert_eq!(
        marks(&register, &ada),
        (Some("/".into()), Some("\\".into())),
        "present in each first lesson"
    );
    assert_eq!(
        marks(&register, &bo),
        (Some("U".into()), Some("N".into())),
        "no reason yet in period 1 but there in period 2: arrived after the register closed"
    );

    // The office learns Bo was at the doctor's first thing: the lesson is amended, and the
    // morning follows it.
    let amend = format!("/sessions/{}/2026-11-23/amendments/{bo}", s.slot);
    let (status, body) = admin
        .post(
            &amend,
            json!({"code": "M", "reason": "GP appointment, letter seen"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, amended) = teacher.get(&path).await;
    assert_eq!(marks(&amended, &bo), (Some("M".into()), Some("N".into())));

    let (status, csv) = admin
        .raw(Method::GET, &format!("{path}&format=csv"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "student,reference,name,day,am,pm");
    assert!(
        lines.contains(&format!("{ada},,Ada,2026-11-23,/,\\").as_str()),
        "{csv}"
    );
    assert!(
        lines.contains(&format!("{bo},,Bo,2026-11-23,M,N").as_str()),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "a line per pupil and day: {csv}");

    // Another teacher's class is not hers; a range the wrong way round is refused.
    let other = admin.created("/classes", json!({"name": "8C"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = format!("/reports/classes/{other}/statutory?from=2026-11-23&to=2026-11-23");
    assert_eq!(teacher.get(&theirs).await.0, StatusCode::FORBIDDEN);
    let backwards = format!(
        "/reports/classes/{}/statutory?from=2026-11-24&to=2026-11-23",
        s.class
    );
    assert_eq!(teacher.get(&backwards).await.0, StatusCode::BAD_REQUEST);
    hub.stop().await;
}

#[tokio::test]
async fn form_time_makes_the_morning_mark_when_the_school_says_so() {
    let hub = start_hub_with(None, |c| {
        c.register.check_every_secs = 1;
        c.register.statutory.morning = "08:45".into();
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let form = json!({"class_id": s.class, "room": "Lab 3", "weekday": 1, "start": "08:45", "end": "09:00", "from": "2026-09-01"});
    admin.created("/timetable", form).await;
    // Ada is at form time and skips period 1; Bo misses form time and comes to period 1.
    door_saw(&hub, &s.device, &ada, monday_at(8, 46)).await;
    door_saw(&hub, &s.device, &bo, monday_at(9, 2)).await;
    hub.clock.set(UnixMillis(monday_at(15, 0)));
    let teacher = hub.api().login("tess", "teacher password").await;
    let path = format!(
        "/reports/classes/{}/statutory?from=2026-11-23&to=2026-11-23",
        s.class
    );
    wait_for("Monday in the register", Duration::from_secs(20), || {
        let (teacher, path, bo) = (teacher.clone(), path.clone(), bo.clone());
        async move {
            let (_, register) = teacher.get(&path).await;
            marks(&register, &bo).0.is_some()
        }
    })
    .await;
    let (_, register) = teacher.get(&path).await;
    assert_eq!(
        marks(&register, &ada),
        (Some("/".into()), None),
        "{register}"
    );
    assert_eq!(
        marks(&register, &bo),
        (Some("U".into()), None),
        "{register}"
    );
    hub.stop().await;
}
