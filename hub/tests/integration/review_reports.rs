//! The review queue changing marks and reports: Confident records mark Present or Late,
//! Uncertain ones wait; approve, reject and reassign move the marks; overrides need a reason;
//! closed sessions mark the rest Absent; CSV reports carry the same.

use reqwest::{Method, StatusCode};
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::{self, *};

fn record(device: &str, student: &str, decision: Decision, captured_at: i64) -> AttendanceRecord {
    let candidates: &[(&str, f32)] = match decision {
        Decision::Unknown => &[],
        _ => &[(student, 0.4)],
    };
    common::record(device.parse().unwrap(), decision, candidates, captured_at)
}

fn marks(roster: &Value) -> Vec<Value> {
    roster["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mark"].clone())
        .collect()
}

#[tokio::test]
async fn reviews_move_marks_and_reports_follow() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let mut s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let session = format!("/sessions/{}/{}", s.slot, monday());

    store(
        &hub,
        record(&s.device, &ada, Decision::Confident, monday_at(8, 58)),
    )
    .await;
    let uncertain = store(
        &hub,
        record(&s.device, &ada, Decision::Uncertain, monday_at(9, 20)),
    )
    .await;
    let unknown = store(
        &hub,
        record(&s.device, &bo, Decision::Unknown, monday_at(9, 25)),
    )
    .await;

    let (status, roster) = s.teacher.get(&session).await;
    assert_eq!(status, StatusCode::OK, "{roster}");
    assert_eq!(
        marks(&roster),
        [json!("present"), Value::Null],
        "Bo waits while the session is open"
    );

    let (_, pending) = s.teacher.get("/records?status=pending").await;
    assert_eq!(pending.as_array().unwrap().len(), 2);
    let (status, _) = s
        .teacher
        .raw(
            Method::GET,
            &format!("/records/{uncertain}/thumbnail"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = s
        .teacher
        .post(&format!("/records/{unknown}/approve"), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an Unknown record has no one to approve: {body}"
    );
    let (status, r) = s
        .teacher
        .post(
            &format!("/records/{unknown}/reassign"),
            json!({"student": bo}),
        )
        .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (StatusCode::OK, Some("reassigned"))
    );
    let (_, roster) = s.teacher.get(&session).await;
    assert_eq!(
        marks(&roster),
        [json!("present"), json!("late")],
        "09:25 is past the 10 late minutes"
    );

    let (status, _) = s
        .teacher
        .post(&format!("/records/{unknown}/reject"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    hub.clock.set(UnixMillis(monday_at(10, 0)));
    s.teacher = hub.api().login("tess", "teacher password").await;
    let (_, roster) = s.teacher.get(&session).await;
    assert_eq!(
        marks(&roster),
        [json!("present"), json!("absent")],
        "closed: unmarked is Absent"
    );

    let (status, _) = s
        .teacher
        .put(
            &format!("{session}/marks/{bo}"),
            json!({"mark": "excused", "reason": ""}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an override needs a reason"
    );
    let (status, roster) = s
        .teacher
        .put(
            &format!("{session}/marks/{bo}"),
            json!({"mark": "excused", "reason": "dentist"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(marks(&roster), [json!("present"), json!("excused")]);
    assert_eq!(roster["rows"][1]["reason"], "dentist");

    let (status, csv) = s
        .teacher
        .raw(
            Method::GET,
            &format!("/reports/sessions/{}/{}?format=csv", s.slot, monday()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "student_id,name,mark,source,first_seen_at,reason,code,original_code,amendments"
    );
    assert!(
        lines[1].starts_with(&format!("{ada},Ada,present,record,")),
        "{csv}"
    );
    assert_eq!(
        lines[2],
        format!("{bo},Bo,excused,override,,dentist,,,"),
        "no code until the register is written"
    );

    let range = "from=2026-11-23&to=2026-11-30";
    let (_, matrix) = s
        .teacher
        .get(&format!("/reports/classes/{}?{range}", s.class))
        .await;
    assert_eq!(
        matrix["sessions"].as_array().unwrap().len(),
        2,
        "two Mondays"
    );
    assert_eq!(
        matrix["students"][0]["marks"],
        json!(["present", null]),
        "next Monday is still open"
    );
    let (_, stats) = s
        .teacher
        .get(&format!("/reports/classes/{}/stats?{range}", s.class))
        .await;
    assert_eq!(stats["students"][0]["present"], 1);
    let (status, csv) = s
        .teacher
        .raw(
            Method::GET,
            &format!("/reports/classes/{}/stats?{range}&format=csv", s.class),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with("student_id,name,present,late,absent,excused,attendance_rate,at_risk\r\n"),
        "{csv}"
    );
    let (_, history) = s
        .teacher
        .get(&format!("/reports/students/{bo}?{range}"))
        .await;
    assert_eq!(history[0]["mark"], "excused");

    let (_, audit) = hub.admin().await.get("/audit").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["record.reassign", "record.reject", "mark.override"] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn approving_an_uncertain_record_marks_its_top_candidate() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let bo = &s.students[1];
    let id = store(
        &hub,
        record(&s.device, bo, Decision::Uncertain, monday_at(9, 2)),
    )
    .await;
    let session = format!("/sessions/{}/{}", s.slot, monday());
    let (_, roster) = s.teacher.get(&session).await;
    assert_eq!(marks(&roster)[1], Value::Null);
    let (status, r) = s
        .teacher
        .post(&format!("/records/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        (status, r["final_student"].as_str()),
        (StatusCode::OK, Some(bo.as_str()))
    );
    let (_, roster) = s.teacher.get(&session).await;
    assert_eq!(marks(&roster)[1], json!("present"));

    admin
        .created(
            "/users",
            json!({"username": "otto", "role": "teacher", "password": "other password"}),
        )
        .await;
    let other = hub.api().login("otto", "other password").await;
    let (_, pending) = other.get("/records").await;
    assert!(
        pending.as_array().unwrap().is_empty(),
        "another teacher sees none of these records"
    );
    let (status, _) = other
        .post(&format!("/records/{id}/reject"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    hub.stop().await;
}

#[tokio::test]
async fn a_reassigned_crop_joins_the_gallery_only_past_the_quality_gate_and_says_why_not() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let bo = s.students[1].clone();
    let embeddings = |api: Api, who: String| async move {
        let (_, list) = api.get(&format!("/students/{who}/embeddings")).await;
        list.as_array().unwrap().len()
    };
    assert_eq!(embeddings(admin.clone(), bo.clone()).await, 1);

    let mut blurry = record(&s.device, &bo, Decision::Unknown, monday_at(9, 10));
    blurry.quality.face_px = 9.0;
    let blurry = store(&hub, blurry).await;
    let body = json!({"student": bo, "add_to_gallery": true});
    let path = format!("/records/{blurry}/reassign");
    let (status, out) = admin.post(&path, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        (out["status"].as_str(), out["final_student"].as_str()),
        (Some("reassigned"), Some(bo.as_str())),
        "the teacher said who it was: that stands"
    );
    assert_eq!(out["gallery"]["added"], false, "{out}");
    assert_eq!(out["gallery"]["code"], "too_small", "{out}");
    assert!(
        out["gallery"]["why"].as_str().unwrap().contains("small"),
        "{out}"
    );
    assert_eq!(
        embeddings(admin.clone(), bo.clone()).await,
        1,
        "a crop refused by the gate is not one of Bo's photos"
    );

    let good = store(
        &hub,
        record(&s.device, &bo, Decision::Unknown, monday_at(9, 12)),
    )
    .await;
    let (status, out) = admin.post(&format!("/records/{good}/reassign"), body).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["status"], "reassigned");
    assert_eq!(out["gallery"], json!({"added": true}), "{out}");
    assert_eq!(embeddings(admin.clone(), bo.clone()).await, 2);
    let (_, faces) = admin.get(&format!("/students/{bo}/faces")).await;
    assert_eq!(faces[1]["quality"]["face_px"], 60.0);
    assert!(faces[1]["thumbnail_url"].is_string());
    hub.stop().await;
}
