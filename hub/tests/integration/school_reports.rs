//! School-wide reports through a real hub: two classes over two weeks of records and a
//! teacher's mark, closed into the register; the daily trend, the students below the
//! configured at-risk threshold by class, the register export per class and term, who may see
//! which, and ranges refused.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rollcall_hub::config::Config;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::*;

const DAY_MS: i64 = 86_400_000;

/// Mon 23 Nov .. Fri 4 Dec 2026: the ten school days, as offsets from Monday.
const DAYS: [i64; 10] = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11];

struct Two {
    school: School,
    other_class: String,
    cy: String,
}

/// 7B (Tess's, Ada and Bo) at 09:00 and 8C (no teacher, Cy and Di) at 11:00, every weekday in
/// Lab 3; a term from Monday to 18 December. Ada misses two days (0.8), Bo is late once and
/// excused once by Tess (1.0), Cy misses one (0.9), Di none. The clock ends after Friday
/// 4 December with every session in the register.
async fn two_weeks(configure: impl FnOnce(&mut Config)) -> (TestHub, Two) {
    let hub = start_hub_with(None, |c| {
        c.register.check_every_secs = 1;
        configure(c);
    })
    .await;
    let admin = hub.admin().await;
    let mut s = seed_school(&admin).await;
    let other = admin.created("/classes", json!({"name": "8C"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut pupils = Vec::new();
    for name in ["Cy", "Di"] {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/classes/{other}/students/{id}");
        assert_eq!(admin.put(&path, json!({})).await.0, StatusCode::NO_CONTENT);
        pupils.push(id);
    }
    for weekday in 1..=5 {
        let slot = |class: &str, start: &str, end: &str| json!({"class_id": class, "room": "Lab 3", "weekday": weekday, "start": start, "end": end});
        if weekday > 1 {
            admin
                .created("/timetable", slot(&s.class, "09:00", "10:00"))
                .await;
        }
        admin
            .created("/timetable", slot(&other, "11:00", "12:00"))
            .await;
    }
    admin
        .created(
            "/calendar/terms",
            json!({"name": "Autumn 2", "first_day": "2026-11-23", "last_day": "2026-12-18"}),
        )
        .await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let (cy, di) = (pupils[0].clone(), pupils[1].clone());
    for (i, &d) in DAYS.iter().enumerate() {
        let at = |hh, mm| monday_at(hh, mm) + d * DAY_MS;
        if i != 2 && i != 7 {
            door_saw(&hub, &s.device, &ada, at(9, 2)).await;
        }
        match i {
            1 => door_saw(&hub, &s.device, &bo, at(9, 20)).await,
            4 => {}
            _ => door_saw(&hub, &s.device, &bo, at(9, 3)).await,
        }
        if i != 5 {
            door_saw(&hub, &s.device, &cy, at(11, 1)).await;
        }
        door_saw(&hub, &s.device, &di, at(11, 4)).await;
    }
    hub.clock.set(UnixMillis(monday_at(9, 30) + 4 * DAY_MS));
    s.teacher = hub.api().login("tess", "teacher password").await;
    let friday = format!("/sessions/{}/2026-11-27/marks/{bo}", friday_slot(&s).await);
    let (status, body) = s
        .teacher
        .put(&friday, json!({"mark": "excused", "reason": "dentist"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    hub.clock.set(UnixMillis(monday_at(13, 0) + 11 * DAY_MS));
    s.teacher = hub.api().login("tess", "teacher password").await;
    let admin = hub.admin().await;
    wait_for("the last session locked", Duration::from_secs(20), || {
        let admin = admin.clone();
        let path = format!("/reports/classes/{other}/register?from=2026-12-04&to=2026-12-04");
        async move {
            let (_, r) = admin.get(&path).await;
            r["sessions"][0]["session"]["locked"] == true
        }
    })
    .await;
    let two = Two {
        school: s,
        other_class: other,
        cy,
    };
    (hub, two)
}

/// 7B's Friday slot.
async fn friday_slot(s: &School) -> String {
    let (_, slots) = s.teacher.get("/timetable").await;
    slots
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["class_id"] == s.class.as_str() && t["weekday"] == 5)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn names(class: &Value) -> Vec<&str> {
    class["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_trend_the_at_risk_and_the_register_over_two_weeks() {
    let (hub, two) = two_weeks(|_| {}).await;
    let admin = hub.admin().await;
    let range = "from=2026-11-23&to=2026-12-04";

    let (status, trend) = admin.get(&format!("/reports/school/trend?{range}")).await;
    assert_eq!(status, StatusCode::OK, "{trend}");
    let days = trend["days"].as_array().unwrap();
    assert_eq!(days.len(), 10, "weekends hold no sessions");
    let counts = |d: &Value| {
        [
            "expected",
            "present",
            "late",
            "excused",
            "absent",
            "not_required",
        ]
        .map(|k| d[k].as_u64().unwrap())
    };
    assert_eq!(days[0]["day"], "2026-11-23");
    assert_eq!(counts(&days[0]), [4, 4, 0, 0, 0, 0]);
    assert_eq!(counts(&days[1]), [4, 3, 1, 0, 0, 0], "Bo late");
    assert_eq!(counts(&days[2]), [4, 3, 0, 0, 1, 0], "Ada away");
    assert_eq!(days[2]["attendance_rate"], 0.75);
    assert_eq!(counts(&days[4]), [4, 3, 0, 1, 0, 0], "Bo at the dentist");
    assert_eq!(days[4]["attendance_rate"], 1.0);
    assert_eq!(counts(&days[5]), [4, 3, 0, 0, 1, 0], "Cy away");

    let (status, csv) = admin
        .raw(
            Method::GET,
            &format!("/reports/school/trend?{range}&format=csv"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "day,expected,present,late,excused,absent,not_required,unmarked,attendance_rate"
    );
    assert_eq!(lines[3], "2026-11-25,4,3,0,0,1,0,0,0.750");

    // Default range: the current term up to today, which is these two weeks.
    let (status, risk) = admin.get("/reports/school/at-risk").await;
    assert_eq!(status, StatusCode::OK, "{risk}");
    assert_eq!(
        (&risk["from"], &risk["to"]),
        (&json!("2026-11-23"), &json!("2026-12-04"))
    );
    assert_eq!(risk["threshold"], 0.9);
    let classes = risk["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    let b7 = classes.iter().find(|c| c["class_name"] == "7B").unwrap();
    let c8 = classes.iter().find(|c| c["class_name"] == "8C").unwrap();
    assert_eq!(
        names(b7),
        ["Ada"],
        "0.8 is below 0.9; Bo's excused day does not count"
    );
    assert_eq!(b7["students"][0]["attendance_rate"], 0.8);
    assert_eq!(b7["students"][0]["absent"], 2);
    assert!(names(c8).is_empty(), "Cy at exactly 0.9 is not below it");
    let (_, csv) = admin
        .raw(
            Method::GET,
            &format!("/reports/school/at-risk?{range}&format=csv"),
            None,
        )
        .await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "class,student_id,name,sessions,attendance_rate,present,late,absent,excused"
    );
    assert_eq!(
        lines[1],
        format!("7B,{},Ada,10,0.800,8,0,2,0", two.school.students[0])
    );
    assert_eq!(lines.len(), 2);

    let (_, stats) = admin
        .get(&format!(
            "/reports/classes/{}/stats?{range}",
            two.school.class
        ))
        .await;
    assert_eq!(stats["threshold"], 0.9);
    assert_eq!(stats["at_risk"][0]["name"], "Ada");

    let (status, csv) = two
        .school
        .teacher
        .raw(
            Method::GET,
            &format!(
                "/reports/classes/{}/register?{range}&format=csv",
                two.school.class
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "date,start,room,student_id,student,code,mark,source,original_code,amendments,am,pm"
    );
    assert_eq!(lines.len(), 1 + 2 * 10, "a row per student per session");
    let bo = &two.school.students[1];
    assert!(
        lines
            .contains(&format!("2026-11-27,09:00,Lab 3,{bo},Bo,C,excused,override,C,,C,").as_str()),
        "{csv}"
    );
    let ada = &two.school.students[0];
    assert!(
        lines.contains(&format!("2026-11-25,09:00,Lab 3,{ada},Ada,N,absent,closed,N,,N,").as_str()),
        "{csv}"
    );
    hub.stop().await;
}

#[tokio::test]
async fn the_threshold_is_the_schools_and_teachers_see_their_classes() {
    let (hub, two) = two_weeks(|c| c.reports.at_risk_below = 0.95).await;
    let range = "from=2026-11-23&to=2026-12-04";
    let admin = hub.admin().await;
    let (_, risk) = admin.get(&format!("/reports/school/at-risk?{range}")).await;
    assert_eq!(risk["threshold"], 0.95);
    let c8 = risk["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class_name"] == "8C")
        .unwrap();
    assert_eq!(names(c8), ["Cy"], "0.9 is below 0.95");
    assert_eq!(c8["students"][0]["student"], two.cy.as_str());

    let teacher = &two.school.teacher;
    let (status, mine) = teacher
        .get(&format!("/reports/school/at-risk?{range}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let classes = mine["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 1, "Tess sees 7B only: {mine}");
    assert_eq!(classes[0]["class_name"], "7B");
    let (_, trend) = teacher.get(&format!("/reports/school/trend?{range}")).await;
    assert_eq!(trend["days"][0]["expected"], 2, "7B's two students only");
    let other = format!("/reports/classes/{}/register?{range}", two.other_class);
    assert_eq!(teacher.get(&other).await.0, StatusCode::FORBIDDEN);

    for bad in [
        "/reports/school/trend",
        "/reports/school/trend?from=2026-12-04&to=2026-11-23",
        "/reports/school/trend?from=2025-01-01&to=2026-12-04",
        "/reports/school/trend?from=2026-13-01&to=2026-12-04",
        "/reports/school/at-risk?from=2026-11-23",
    ] {
        let (status, body) = admin.get(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let class = &two.school.class;
    for bad in [
        format!("/reports/classes/{class}/register"),
        format!("/reports/classes/{class}/register?term=nope"),
        format!(
            "/reports/classes/{class}/register?term={}&{range}",
            uuid::Uuid::nil()
        ),
    ] {
        let (status, body) = admin.get(&bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let unknown = format!(
        "/reports/classes/{class}/register?term={}",
        uuid::Uuid::nil()
    );
    assert_eq!(admin.get(&unknown).await.0, StatusCode::NOT_FOUND);
    let (_, terms) = admin.get("/calendar/terms").await;
    let term = terms[0]["id"].as_str().unwrap();
    let (status, reg) = admin
        .get(&format!("/reports/classes/{class}/register?term={term}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    assert_eq!(
        (&reg["from"], &reg["to"]),
        (&json!("2026-11-23"), &json!("2026-12-18"))
    );
    hub.stop().await;
}
