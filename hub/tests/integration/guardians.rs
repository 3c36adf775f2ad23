//! Students' guardians through the real hub: set in order by an admin, each field checked and
//! named, from a CSV file for many students (whole or not at all), hidden from teachers, in the
//! student's subject-access archive and gone with the student.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

const DELETE: reqwest::Method = reqwest::Method::DELETE;

#[tokio::test]
async fn guardians_are_set_in_order_imported_kept_from_teachers_and_erased_with_the_student() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = &s.students[0];
    let (status, out) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/students/{ada}"),
            Some(json!({"external_ref": "S1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let path = format!("/students/{ada}/guardians");
    let list = json!({"guardians": [
        {"name": "Mari Jones", "relationship": "parent", "email": "mari@home.test",
         "language": "CY"},
        {"name": "Taid Jones", "relationship": "relative", "phone": "07700 900123",
         "notices": false, "responsibility": false},
    ]});
    let (status, kept) = admin.put(&path, list).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept[0]["priority"], 1);
    assert_eq!(
        (&kept[0]["language"], &kept[1]["language"]),
        (&json!("cy"), &json!("en"))
    );
    assert_eq!(
        (&kept[1]["notices"], &kept[0]["notices"]),
        (&json!(false), &json!(true))
    );

    for (bad, says) in [
        (
            json!({"name": "X", "relationship": "aunt"}),
            "guardian 1: relationship",
        ),
        (
            json!({"name": "X", "relationship": "parent", "email": "x@"}),
            "guardian 1: email",
        ),
        (
            json!({"name": "X", "relationship": "parent", "language": "welsh"}),
            "guardian 1: language",
        ),
        (
            json!({"name": "X".repeat(10 * 1024), "relationship": "parent"}),
            "guardian 1: name",
        ),
    ] {
        let (status, out) = admin.put(&path, json!({"guardians": [bad]})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
        let message = out["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{message}");
    }
    let ten: Vec<Value> = (0..10)
        .map(|i| json!({"name": format!("G{i}"), "relationship": "other"}))
        .collect();
    let (status, _) = admin.put(&path, json!({"guardians": ten})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, held) = admin.get(&path).await;
    assert_eq!(held.as_array().unwrap().len(), 2, "nothing changed: {held}");

    let (status, _) = s.teacher.get(&path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a teacher does not see them");
    let (_, seen) = s.teacher.get(&format!("/students/{ada}")).await;
    assert!(!seen.to_string().contains("Mari"), "{seen}");

    let csv = "student_reference,name,relationship,email,phone,language,notices,responsibility\n\
        S1,Dai Evans,guardian,dai@home.test,,cy,yes,yes\n";
    let (status, out) = admin
        .post_bytes("/guardians/import", "text/csv", csv.into())
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out, json!({"students": 1, "guardians": 1}));
    let bad = "student_reference,name,relationship\nS1,Ok,parent\nS404,Nobody,parent\n";
    let (status, out) = admin
        .post_bytes("/guardians/import", "text/csv", bad.into())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["rows"][0]["line"], 3, "{out}");
    let (_, held) = admin.get(&path).await;
    assert_eq!(
        held[0]["name"], "Dai Evans",
        "the bad file changed nothing: {held}"
    );

    let (status, _, zip) = admin.bytes(&format!("/students/{ada}/archive")).await;
    assert_eq!(status, StatusCode::OK);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut text = String::new();
    let name = format!("rollcall-student-{ada}/guardians.csv");
    std::io::Read::read_to_string(&mut archive.by_name(&name).unwrap(), &mut text).unwrap();
    assert!(
        text.contains("Dai Evans") && text.contains("dai@home.test"),
        "{text}"
    );

    let (status, _) = admin.send(DELETE, &format!("/students/{ada}"), None).await;
    assert!(status.is_success(), "{status}");
    let (status, _) = admin.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone with the student");
}
