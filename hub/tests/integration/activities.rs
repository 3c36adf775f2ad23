//! One-off registers (issue 70) over a real hub: a teacher's trip leaving in the middle of
//! period 2 gives both pupils the off-site code there, so Ada, seen at the gate, is not
//! missing from it; taken "all present except Bo" in one call (sent twice, the same), Bo is
//! back in period 2 and, in school and unmarked, missing from it; another teacher can neither
//! take the trip nor put pupils not his on one; a club leaves lessons alone; cancelling the
//! trip takes its marks off; and bad input is refused, saying what was wrong. A lesson's own
//! register taken at once ("all present except…") marks only pupils nobody has marked.

use reqwest::StatusCode;
use rollcall_shared::UnixMillis;
use serde_json::{Value, json};

use crate::common::*;
use crate::missing::{board, names, period_two_and_gate, seen};

const MONDAY: &str = "2026-11-23";
const TRIP_WORDS: &str = "On the trip \u{201c}Science museum\u{201d} (10:30\u{2013}15:00)";

/// `student`'s line of the roster of `slot` on Monday, as `api` sees it.
async fn line(api: &Api, slot: &str, student: &str) -> Value {
    let (status, roster) = api.get(&format!("/sessions/{slot}/{MONDAY}")).await;
    assert_eq!(status, StatusCode::OK, "{roster}");
    roster["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["student"] == student)
        .cloned()
        .unwrap_or_else(|| panic!("{student} not in {roster}"))
}

fn marks(activity: &Value) -> Vec<(&str, &Value)> {
    activity["pupils"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), &p["mark"]))
        .collect()
}

#[tokio::test]
async fn a_trip_taken_all_present_except_bo_keeps_ada_out_of_period_two_and_bo_in_it() {
    let hub = start_hub_at(UnixMillis(monday_at(8, 30)), |c| {
        c.register.check_every_secs = 1;
        c.auth.access_token_minutes = 1440;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (p2, _lab4, gate) = period_two_and_gate(&admin, &s).await;
    let (ada, bo) = (s.students[0].as_str(), s.students[1].as_str());
    let p1 = s.slot.as_str();
    seen(&hub, &gate, "Main gate", ada, monday_at(8, 40)).await;
    seen(&hub, &gate, "Main gate", bo, monday_at(8, 41)).await;
    seen(&hub, &s.device, "Lab 3", ada, monday_at(9, 2)).await;
    seen(&hub, &s.device, "Lab 3", bo, monday_at(9, 2)).await;

    // 09:30 Tess makes the trip: the coach leaves at 10:30, half way through period 2.
    hub.clock.set(UnixMillis(monday_at(9, 30)));
    let trip = s
        .teacher
        .created(
            "/activities",
            json!({"kind": "trip", "title": "Science museum", "start": "10:30", "end": "15:00",
                   "place": "Exhibition Road", "pupils": [ada, bo]}),
        )
        .await;
    let id = trip["id"].as_str().unwrap();
    assert_eq!(
        (&trip["day"], &trip["start"], &trip["yours"]),
        (&json!(MONDAY), &json!("10:30"), &json!(true))
    );
    assert_eq!(marks(&trip), [("Ada", &Value::Null), ("Bo", &Value::Null)]);
    for pupil in [ada, bo] {
        let l = line(&s.teacher, &p2, pupil).await;
        assert_eq!(
            (&l["mark"], &l["reason"]),
            (&json!("present"), &json!(TRIP_WORDS)),
            "{l}"
        );
        assert_eq!(
            line(&s.teacher, p1, pupil).await["source"],
            "record",
            "period 1, before the coach, is the door's"
        );
    }

    // 10:12: in school, on the trip, not missing from period 2.
    hub.clock.set(UnixMillis(monday_at(10, 12)));
    let now = board(&admin).await;
    assert!(names(&now["missing"]).is_empty(), "{now}");

    // Tom, another teacher, neither takes Tess's trip nor puts her pupils on his club.
    admin
        .created(
            "/users",
            json!({"username": "tom", "role": "teacher", "password": "tom's password"}),
        )
        .await;
    let tom = hub.api().login("tom", "tom's password").await;
    let (status, body) = tom
        .post(&format!("/activities/{id}/register"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = tom
        .post(
            "/activities",
            json!({"kind": "club", "title": "Chess", "start": "15:30", "end": "16:30", "pupils": [ada]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, listed) = tom.get("/activities").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed["activities"][0]["yours"], false,
        "he sees it: {listed}"
    );

    // 10:25 at the coach: all present except Bo, one call; sent again, nothing changes.
    hub.clock.set(UnixMillis(monday_at(10, 25)));
    let path = format!("/activities/{id}/register");
    let (status, taken) = s.teacher.post(&path, json!({"absent": [bo]})).await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(
        marks(&taken),
        [("Ada", &json!("present")), ("Bo", &json!("absent"))]
    );
    hub.clock.set(UnixMillis(monday_at(10, 26)));
    let (status, again) = s.teacher.post(&path, json!({"absent": [bo]})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        again["pupils"], taken["pupils"],
        "the same, marked at 10:25"
    );

    // Bo stayed: his trip mark is off period 2, and in school and unmarked he is missing.
    let l = line(&s.teacher, &p2, bo).await;
    assert_eq!(l["reason"], Value::Null, "{l}");
    let now = board(&admin).await;
    assert_eq!(names(&now["missing"]), ["Bo"], "{now}");
    assert_eq!(line(&s.teacher, &p2, ada).await["reason"], TRIP_WORDS);

    // Marked present after all (he ran for the coach): the code is back.
    let (status, body) = s
        .teacher
        .put(
            &format!("/activities/{id}/pupils/{bo}"),
            json!({"mark": "late"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(line(&s.teacher, &p2, bo).await["reason"], TRIP_WORDS);

    // 10:45, the coach gone: both are off site, and a fire drill does not expect them.
    hub.clock.set(UnixMillis(monday_at(10, 45)));
    let (_, on_site) = admin.get("/on-site").await;
    for who in ["Ada", "Bo"] {
        let pupil = on_site["students"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == who)
            .unwrap_or_else(|| panic!("{who}: {on_site}"));
        assert_eq!(
            (&pupil["on_site"], &pupil["last_room"]),
            (&json!(false), &json!("Trip: Science museum")),
            "{pupil}"
        );
    }
    let (_, roll) = admin.get("/roll-call").await;
    assert!(
        !roll.to_string().contains("\"Ada\""),
        "not expected at the assembly point: {roll}"
    );

    // A club after school leaves the lessons alone.
    let club = s
        .teacher
        .created(
            "/activities",
            json!({"kind": "club", "title": "Robots", "start": "09:00", "end": "16:00", "pupils": [ada]}),
        )
        .await;
    assert_eq!(club["kind"], "club");
    assert_eq!(line(&s.teacher, p1, ada).await["source"], "record");

    // Bad input, each refused with what was wrong.
    let refused = [
        (
            json!({"kind": "trip", "title": "Back to front", "start": "15:00", "end": "10:00"}),
            "end",
        ),
        (
            json!({"kind": "trip", "title": "Last week", "day": "2026-11-16", "start": "09:00", "end": "10:00"}),
            "day",
        ),
        (
            json!({"kind": "party", "title": "?", "start": "09:00", "end": "10:00"}),
            "expected one of `trip`, `club`, `exam`, `detention`",
        ),
        (
            json!({"kind": "club", "title": "  ", "start": "09:00", "end": "10:00"}),
            "title",
        ),
        (
            json!({"kind": "club", "title": "Late", "start": "9am", "end": "10:00"}),
            "start",
        ),
    ];
    for (body, field) in refused {
        let (status, out) = s.teacher.post("/activities", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {out}");
        assert!(
            out["error"]["message"].as_str().unwrap().contains(field),
            "{out}"
        );
    }
    let stranger = "0191a0e8-0000-7000-8000-000000000000";
    let (status, out) = s.teacher.post(&path, json!({"absent": [stranger]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let (status, out) = s
        .teacher
        .post(&path, json!({"absent": [ada], "late": [ada]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let (status, out) = s
        .teacher
        .put(
            &format!("/activities/{id}/pupils/{ada}"),
            json!({"mark": "excused"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let (status, _) = s
        .teacher
        .put(
            &format!("/activities/{id}/pupils/{stranger}"),
            json!({"mark": "present"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        marks(&s.teacher.get(&format!("/activities/{id}")).await.1),
        [("Ada", &json!("present")), ("Bo", &json!("late"))],
        "nothing refused changed anything"
    );

    // The trip is called off: its marks come off period 2, not yet over.
    let (status, _) = tom.delete(&format!("/activities/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.teacher.delete(&format!("/activities/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for pupil in [ada, bo] {
        assert_eq!(line(&s.teacher, &p2, pupil).await["reason"], Value::Null);
    }
    let (status, _) = s.teacher.get(&format!("/activities/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_lessons_register_taken_at_once_marks_only_the_unmarked_and_refuses_the_rest() {
    let hub = start_hub_at(UnixMillis(monday_at(9, 10)), |c| {
        c.auth.access_token_minutes = 1440;
    })
    .await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].as_str(), s.students[1].as_str());
    seen(&hub, &s.device, "Lab 3", ada, monday_at(9, 2)).await;
    let path = format!("/sessions/{}/{MONDAY}/register", s.slot);

    // Ada was seen by the door: naming her is refused, and nothing is marked.
    let (status, out) = s
        .teacher
        .post(&path, json!({"present": [bo], "absent": [ada]}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Ada was marked since the page was drawn"),
        "{out}"
    );
    assert_eq!(line(&s.teacher, &s.slot, bo).await["mark"], Value::Null);
    for (body, status) in [
        (
            json!({"present": [bo], "absent": [bo]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"present": ["0191a0e8-0000-7000-8000-000000000000"]}),
            StatusCode::NOT_FOUND,
        ),
        (json!({"present": "everyone"}), StatusCode::BAD_REQUEST),
    ] {
        let (got, out) = s.teacher.post(&path, body.clone()).await;
        assert_eq!(got, status, "{body}: {out}");
    }
    let tom = json!({"username": "tom", "role": "teacher", "password": "tom's password"});
    admin.created("/users", tom).await;
    let tom = hub.api().login("tom", "tom's password").await;
    let (status, _) = tom.post(&path, json!({"present": [bo]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not his class");

    // Bo alone, as present: the roster is whole.
    let (status, roster) = s.teacher.post(&path, json!({"present": [bo]})).await;
    assert_eq!(status, StatusCode::OK, "{roster}");
    let l = line(&s.teacher, &s.slot, bo).await;
    assert_eq!(
        (&l["mark"], &l["reason"]),
        (
            &json!("present"),
            &json!("register taken by the teacher: all present except those marked absent or late")
        )
    );
    let (status, _) = s.teacher.post(&path, json!({"present": [bo]})).await;
    assert_eq!(status, StatusCode::CONFLICT, "marked once");
}
