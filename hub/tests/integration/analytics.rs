//! Analytics through the real hub: two classes over two months, each month's rate per class
//! and for the school, the classes at risk lowest first, the CSV, a teacher's own classes
//! only, and bad ranges refused.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn class<'a>(a: &'a Value, name: &str) -> &'a Value {
    a["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class_name"] == name)
        .unwrap_or_else(|| panic!("{name} in {a}"))
}

fn rates(c: &Value) -> Vec<&Value> {
    c["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["attendance_rate"])
        .collect()
}

#[tokio::test]
async fn classes_month_by_month_with_the_ones_at_risk() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = &s.students[0];
    // 8A meets on Tuesdays; Cy missed October and came every week of November.
    let a8 = admin.created("/classes", json!({"name": "8A"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cy = admin.created("/students", json!({"name": "Cy"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = admin
        .put(
            &format!("/classes/{a8}/students/{cy}"),
            json!({"from": "2026-09-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let tuesday = admin
        .created(
            "/timetable",
            json!({"class_id": a8, "room": "Lab 4", "weekday": 2, "start": "09:00", "end": "10:00", "from": "2026-09-01"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let present = json!({"mark": "present", "reason": "register taken by hand"});
    // Ada came to every Monday lesson before today; nobody says Bo did (absent).
    for day in ["05", "12", "19", "26"]
        .map(|d| format!("2026-10-{d}"))
        .into_iter()
        .chain(["02", "09", "16"].map(|d| format!("2026-11-{d}")))
    {
        let path = format!("/sessions/{}/{day}/marks/{ada}", s.slot);
        let (status, body) = admin.put(&path, present.clone()).await;
        assert_eq!(status, StatusCode::OK, "{day}: {body}");
    }
    for day in ["03", "10", "17"] {
        let path = format!("/sessions/{tuesday}/2026-11-{day}/marks/{cy}");
        let (status, body) = admin.put(&path, present.clone()).await;
        assert_eq!(status, StatusCode::OK, "{day}: {body}");
    }

    let range = "?from=2026-10-01&to=2026-11-23";
    let (status, a) = admin.get(&format!("/reports/analytics{range}")).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let months: Vec<&Value> = a["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["month"])
        .collect();
    assert_eq!(months, [&json!("2026-10"), &json!("2026-11")]);
    let (b7, a8_) = (class(&a, "7B"), class(&a, "8A"));
    assert_eq!(rates(b7), [&json!(0.5), &json!(0.5)], "{b7}");
    assert_eq!(rates(a8_), [&json!(0.0), &json!(1.0)], "{a8_}");
    assert_eq!(b7["months"][1]["unmarked"], 2, "today's lesson is on: {b7}");
    assert_eq!(
        a["at_risk"],
        json!([a8, b7["class_id"]]),
        "8A (3 of 7) before 7B (7 of 14), both below 90 %"
    );
    assert_eq!(
        (&a["overall"]["present"], &a["overall"]["absent"]),
        (&json!(10), &json!(11))
    );

    let (status, kind, csv) = admin
        .bytes(&format!("/reports/analytics{range}&format=csv"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.unwrap().starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("class,month,expected,present"),
        "{csv}"
    );
    assert!(
        lines.contains(&"7B,2026-10,8,4,0,0,4,0,0,0.500,yes"),
        "{csv}"
    );
    assert!(
        lines.contains(&"All classes,2026-11,11,6,0,0,3,0,2,0.667,"),
        "{csv}"
    );

    // A teacher sees their own classes.
    let (_, mine) = s.teacher.get(&format!("/reports/analytics{range}")).await;
    let names: Vec<&Value> = mine["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["class_name"])
        .collect();
    assert_eq!(names, [&json!("7B")], "{mine}");
    let (status, body) = s.teacher.get("/reports/analytics").await;
    assert_eq!(
        (status, &body["from"]),
        (StatusCode::OK, &json!("2025-12-01")),
        "a year of months by default"
    );

    for bad in [
        "?from=2026-11-01",
        "?from=2026-11-23&to=2026-10-01",
        "?from=2024-01-01&to=2026-01-01",
    ] {
        let (status, body) = admin.get(&format!("/reports/analytics{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    hub.stop().await;
}

/// Reports count a lesson only from its first day and a student only from the day they
/// joined the class (issue 73, point 4): a class made today has no past absences, and a
/// student who joins a running class is not absent from its lessons before they came.
#[tokio::test]
async fn a_class_made_today_has_no_past_absences_and_a_new_member_none_before_they_joined() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let class = admin.created("/classes", json!({"name": "9C"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut pupils = Vec::new();
    for name in ["Ivy", "Jo"] {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        pupils.push(id);
    }
    let member = |s: &str| format!("/classes/{class}/students/{s}");
    // Ivy joined today (no body); Jo on the first of the month, given.
    assert_eq!(
        admin.put(&member(&pupils[0]), json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    let from = json!({"from": "2026-11-01"});
    assert_eq!(
        admin.put(&member(&pupils[1]), from).await.0,
        StatusCode::NO_CONTENT
    );
    let bad = admin
        .put(&member(&pupils[1]), json!({"from": "soon"}))
        .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST, "{}", bad.1);
    // A Monday lesson made today (Monday 23 November), no first day given.
    let slot =
        json!({"class_id": class, "room": "Lab 9", "weekday": 1, "start": "09:00", "end": "10:00"});
    let slot = admin.created("/timetable", slot).await;
    assert_eq!(slot["valid_from"], "2026-11-23", "{slot}");
    let range = "from=2026-09-01&to=2026-11-23";
    let (status, matrix) = admin
        .get(&format!("/reports/classes/{class}?{range}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{matrix}");
    assert_eq!(
        matrix["sessions"].as_array().unwrap().len(),
        1,
        "only today's lesson: {matrix}"
    );
    let (_, stats) = admin
        .get(&format!("/reports/classes/{class}/stats?{range}"))
        .await;
    for s in stats["students"].as_array().unwrap() {
        assert_eq!(s["absent"], 0, "no past absences: {stats}");
    }

    // The same lesson had run since September: Jo is counted from 1 November, Ivy from today.
    let old = json!({"class_id": class, "room": "Lab 8", "weekday": 2, "start": "09:00", "end": "10:00", "from": "2026-09-01"});
    admin.created("/timetable", old).await;
    let (_, stats) = admin
        .get(&format!("/reports/classes/{class}/stats?{range}"))
        .await;
    let absent = |name: &str| {
        let row = stats["students"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name);
        row.map_or(0, |s| s["absent"].as_i64().unwrap())
    };
    // Tuesdays 3, 10 and 17 November passed without a mark: Jo's; none of them Ivy's.
    assert_eq!((absent("Jo"), absent("Ivy")), (3, 0), "{stats}");
}
