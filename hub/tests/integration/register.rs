//! The register as a record, through the real hub: a session is written and locked after it
//! closes; entries carry codes, sources and evidence; a change is an amendment that keeps
//! what it replaces; later timetable, class and calendar edits do not reach a closed
//! session; downtime closes sessions late but never skips one; codes are the admin's.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::{self, *};

/// A teacher and an admin signed in now (a jump of the hub's clock ends older sign-ins).
async fn sign_in(hub: &TestHub) -> (Api, Api) {
    let teacher = hub.api().login("tess", "teacher password").await;
    (teacher, hub.admin().await)
}

#[tokio::test]
async fn a_closed_session_is_written_once_and_changed_only_by_amendment() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let mut s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let cy = admin.created("/students", json!({"name": "Cy"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = admin
        .put(&format!("/classes/{}/students/{cy}", s.class), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let session = format!("/sessions/{}/{}", s.slot, monday());

    let seen = store(
        &hub,
        common::record(
            s.device.parse().unwrap(),
            Decision::Confident,
            &[(&ada, 0.3)],
            monday_at(9, 2),
        ),
    )
    .await;
    let (status, _) = s
        .teacher
        .put(
            &format!("{session}/marks/{cy}"),
            json!({"mark": "excused", "reason": "dentist"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Ended, but inside the 30-minute grace: still live, still markable.
    hub.clock.set(UnixMillis(monday_at(10, 20)));
    s.teacher = sign_in(&hub).await.0;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, live) = s.teacher.get(&session).await;
    assert_eq!(live["session"]["locked"], false, "{live}");
    assert_eq!(row(&live, "Bo")["mark"], "absent");
    assert_eq!(row(&live, "Bo")["code"], Value::Null);

    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let (teacher, admin) = sign_in(&hub).await;
    s.teacher = teacher;
    let closed = wait_locked(&s.teacher, &session).await;
    let ada_row = row(&closed, "Ada");
    assert_eq!(
        (&ada_row["code"], &ada_row["mark"], &ada_row["source"]),
        (&json!("/"), &json!("present"), &json!("record"))
    );
    let bo_row = row(&closed, "Bo");
    assert_eq!(
        (&bo_row["code"], &bo_row["mark"], &bo_row["source"]),
        (&json!("N"), &json!("absent"), &json!("closed")),
        "nobody saw Bo and nobody said why"
    );
    let cy_row = row(&closed, "Cy");
    assert_eq!(
        (&cy_row["code"], &cy_row["mark"], &cy_row["reason"]),
        (&json!("C"), &json!("excused"), &json!("dentist"))
    );
    let evidence: Vec<String> = hub
        .db()
        .read(|sql| {
            sql.query_one(
                "SELECT evidence FROM register_entries WHERE student_name = 'Ada'",
                &[],
                "Ada's entry",
                |r| r.get::<String>(0),
            )
        })
        .await
        .map(|e| serde_json::from_str(&e).unwrap())
        .unwrap();
    assert_eq!(
        evidence,
        [seen],
        "the entry names the record that put Ada there"
    );

    // A closed entry is not overwritten: the old way answers 409 and says what to do.
    let (status, body) = s
        .teacher
        .put(
            &format!("{session}/marks/{bo}"),
            json!({"mark": "present", "reason": "was there"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("amend"),
        "{body}"
    );

    // An amendment needs a known code and a reason, and keeps the original.
    let amend = format!("/sessions/{}/{}/amendments/{bo}", s.slot, monday());
    // A retired code is offered for no new amendment.
    let retire =
        json!({"code": "R", "meaning": "Religious observance", "mark": "excused", "retired": true});
    assert_eq!(admin.put("/codes", retire).await.0, StatusCode::OK);
    let (status, body) = s
        .teacher
        .post(&amend, json!({"code": "R", "reason": "feast day"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retired"),
        "{body}"
    );
    for bad in [
        json!({"code": "ZZ", "reason": "x"}),
        json!({"code": "I", "reason": "  "}),
    ] {
        let (status, body) = s.teacher.post(&amend, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, amended) = s
        .teacher
        .post(&amend, json!({"code": "I", "reason": "Mother phoned: flu"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{amended}");
    let bo_row = row(&amended, "Bo");
    assert_eq!(
        (&bo_row["code"], &bo_row["original_code"], &bo_row["mark"]),
        (&json!("I"), &json!("N"), &json!("excused"))
    );
    let a = &bo_row["amendments"][0];
    assert_eq!(
        (&a["by_user"], &a["by_role"], &a["reason"]),
        (
            &json!("tess"),
            &json!("teacher"),
            &json!("Mother phoned: flu")
        )
    );
    let (status, _) = admin
        .post(
            &amend,
            json!({"code": "/", "reason": "seen in class after all"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The database refuses an overwrite even from inside.
    let overwrite = hub
        .db()
        .write(|sql| sql.execute("UPDATE register_entries SET code = '/'", &[]))
        .await;
    assert!(overwrite.is_err(), "a trigger refuses UPDATE");

    // Later edits to the timetable, the class and the calendar do not reach it.
    let (status, _) = admin
        .delete(&format!("/classes/{}/students/{ada}", s.class))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin
        .post(
            "/calendar/holidays",
            json!({"day": monday(), "name": "Snow day"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = admin.delete(&format!("/timetable/{}", s.slot)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, after) = s.teacher.get(&session).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(row(&after, "Ada")["code"], "/");
    let chain: Vec<&Value> = row(&after, "Bo")["amendments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["code"])
        .collect();
    assert_eq!(chain, [&json!("I"), &json!("/")]);
    let (_, day) = s.teacher.get(&format!("/sessions?date={}", monday())).await;
    assert_eq!(day.as_array().unwrap().len(), 1, "still listed: {day}");

    // The CSV export carries codes and the amendment chain.
    let (status, _, csv) = s
        .teacher
        .bytes(&format!(
            "/reports/sessions/{}/{}?format=csv",
            s.slot,
            monday()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let bo_line = csv.lines().find(|l| l.contains(",Bo,")).unwrap();
    assert!(
        bo_line.contains(",/,N,") && bo_line.contains("Mother phoned: flu"),
        "{bo_line}"
    );
    hub.stop().await;
}

#[tokio::test]
async fn downtime_closes_sessions_late_but_never_skips_one() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    for weekday in [2, 3] {
        admin
            .created(
                "/timetable",
                json!({"class_id": s.class, "room": "Lab 3", "weekday": weekday,
                       "start": "09:00", "end": "10:00"}),
            )
            .await;
    }

    // The closer could not run from Monday morning to Thursday morning (a power cut, say):
    // Monday's, Tuesday's and Wednesday's sessions are all closed when it next looks.
    hub.clock.set(UnixMillis(monday_at(9, 5) + 3 * 86_400_000));
    let (teacher, _) = sign_in(&hub).await;
    let monday = monday();
    for day in [
        monday,
        monday.succ_opt().unwrap(),
        monday + chrono::Duration::days(2),
    ] {
        let (_, sessions) = teacher.get(&format!("/sessions?date={day}")).await;
        let slot = sessions[0]["slot_id"].as_str().unwrap().to_owned();
        let roster = wait_locked(&teacher, &format!("/sessions/{slot}/{day}")).await;
        let codes: Vec<&Value> = roster["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["code"])
            .collect();
        assert_eq!(codes, [&json!("N"), &json!("N")], "{day}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn attendance_codes_are_the_admins_to_keep() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (status, codes) = s.teacher.get("/codes").await;
    assert_eq!(status, StatusCode::OK);
    let by_code = |code: &str| {
        codes
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .cloned()
    };
    assert_eq!(by_code("I").unwrap()["mark"], "excused");
    assert_eq!(by_code("G").unwrap()["mark"], "absent");
    assert_eq!(by_code("#").unwrap()["mark"], "not_required");

    let am = json!({"code": "AM", "meaning": "Appointment, morning", "mark": "excused"});
    let (status, _) = s.teacher.put("/codes", am.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = admin.put("/codes", am).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .put(
            "/codes",
            json!({"code": "N", "meaning": "No reason yet", "mark": "excused"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the hub writes N: {body}");
    let (status, _) = admin.delete("/codes?code=N").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = admin.delete("/codes?code=AM").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for bad in [
        json!({"code": "", "meaning": "x", "mark": "late"}),
        json!({"code": "TOO LONG", "meaning": "x", "mark": "late"}),
    ] {
        let (status, _) = admin.put("/codes", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    hub.stop().await;
}

/// The first amendment of `name`'s entry in `roster`, waiting for the closer to make one.
async fn wait_amended(api: &Api, session: &str, name: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (_, roster) = api.get(session).await;
        let line = row(&roster, name).clone();
        if !line["amendments"].as_array().unwrap().is_empty() {
            return line;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} not amended: {roster}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_record_arriving_after_the_close_amends_only_an_automatic_absence() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let (ada, bo) = (s.students[0].clone(), s.students[1].clone());
    let session = format!("/sessions/{}/{}", s.slot, monday());

    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let (teacher, _) = sign_in(&hub).await;
    let closed = wait_locked(&teacher, &session).await;
    assert_eq!(row(&closed, "Ada")["code"], "N");
    assert_eq!(row(&closed, "Bo")["code"], "N");
    // Ada's mother phoned: the teacher's amendment is a person's word and stays.
    let amend = format!("/sessions/{}/{}/amendments/{ada}", s.slot, monday());
    let (status, _) = teacher
        .post(&amend, json!({"code": "I", "reason": "Mother phoned: flu"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // The door unit was offline; its outbox reaches the hub after the register closed.
    let device = s.device.parse().unwrap();
    for (who, minute) in [(&bo, 3), (&bo, 7), (&ada, 4)] {
        let r = common::record(
            device,
            Decision::Confident,
            &[(who, 0.3)],
            monday_at(9, minute),
        );
        store(&hub, r).await;
    }
    let bo_line = wait_amended(&teacher, &session, "Bo").await;
    assert_eq!(
        (
            &bo_line["code"],
            &bo_line["original_code"],
            &bo_line["mark"]
        ),
        (&json!("/"), &json!("N"), &json!("present")),
        "{bo_line}"
    );
    let a = &bo_line["amendments"][0];
    assert_eq!(
        (&a["by_user"], &a["by_role"]),
        (&json!("system"), &json!("system"))
    );
    assert!(
        a["reason"].as_str().unwrap().contains("Seen at 09:03"),
        "the earliest record, in school time: {a}"
    );

    // Later passes add nothing: one amendment for Bo, and Ada's stays the teacher's.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, roster) = teacher.get(&session).await;
    assert_eq!(
        row(&roster, "Bo")["amendments"].as_array().unwrap().len(),
        1
    );
    let ada_line = row(&roster, "Ada");
    assert_eq!(ada_line["code"], "I", "{ada_line}");
    assert_eq!(ada_line["amendments"].as_array().unwrap().len(), 1);
    hub.stop().await;
}

#[tokio::test]
async fn a_timetable_change_takes_effect_from_a_date_and_leaves_the_weeks_before() {
    let hub = start_hub_with(None, |c| c.register.check_every_secs = 1).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let next_monday = monday() + chrono::Duration::days(7);
    hub.clock.set(UnixMillis(monday_at(10, 31)));
    let (teacher, admin) = sign_in(&hub).await;
    wait_locked(&teacher, &format!("/sessions/{}/{}", s.slot, monday())).await;

    // A change cannot reach back before today.
    let change = |from: chrono::NaiveDate| {
        json!({"class_id": s.class, "room": "Lab 3", "weekday": 1,
               "start": "11:00", "end": "12:00", "from": from})
    };
    let yesterday = monday().pred_opt().unwrap();
    let slot_url = format!("/timetable/{}", s.slot);
    let (status, body) = admin.put(&slot_url, change(yesterday)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("amend"));

    // From next Monday: the slot with closed sessions ends the day before, a new one starts.
    let (status, moved) = admin.put(&slot_url, change(next_monday)).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_ne!(moved["id"], json!(s.slot), "a new slot: {moved}");
    assert_eq!(moved["valid_from"], json!(next_monday));
    let (_, slots) = admin.get("/timetable").await;
    let old = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == json!(s.slot))
        .unwrap_or_else(|| panic!("{slots}"));
    assert_eq!(old["valid_until"], json!(next_monday.pred_opt().unwrap()));

    // This Monday keeps 09:00 (closed, and its slot as it was); next Monday meets at 11:00.
    let starts = |sessions: &Value| -> Vec<(String, String)> {
        let list = sessions.as_array().unwrap().iter();
        list.map(|x| {
            (
                x["slot_id"].as_str().unwrap().into(),
                x["start"].as_str().unwrap().into(),
            )
        })
        .collect()
    };
    let (_, today) = teacher.get(&format!("/sessions?date={}", monday())).await;
    assert_eq!(
        starts(&today),
        [(s.slot.clone(), "09:00".to_owned())],
        "{today}"
    );
    let (_, later) = teacher.get(&format!("/sessions?date={next_monday}")).await;
    let new_id = moved["id"].as_str().unwrap().to_owned();
    assert_eq!(
        starts(&later),
        [(new_id.clone(), "11:00".to_owned())],
        "{later}"
    );

    // A slot none of whose sessions were kept is changed where it stands.
    let tuesday = admin
        .created(
            "/timetable",
            json!({"class_id": s.class, "room": "Lab 3", "weekday": 2,
                   "start": "09:00", "end": "10:00"}),
        )
        .await;
    let tuesday_url = format!("/timetable/{}", tuesday["id"].as_str().unwrap());
    let (status, edited) = admin
        .put(
            &tuesday_url,
            json!({"class_id": s.class, "room": "Lab 3", "weekday": 2,
                   "start": "13:00", "end": "14:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["id"], tuesday["id"]);

    // Taken out from next Monday: ended the day before, not deleted; gone from the list.
    let (status, _) = admin
        .delete(&format!(
            "/timetable/{new_id}?from={}",
            next_monday + chrono::Duration::days(7)
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin
        .delete(&format!("{slot_url}?from={next_monday}"))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the old slot already ended before then"
    );
    let (_, all) = admin.get("/timetable?ended=true").await;
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    hub.stop().await;
}
