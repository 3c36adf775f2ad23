//! Roster import against a real hub: a dry run of a plain CSV says what would be created and
//! changes nothing; the import makes the classes, students and memberships the API then shows;
//! the same file again changes nothing; a file with bad rows is refused whole with each row's
//! problem. Then a school's nights as its information system sends them, from OneRoster 1.2
//! packages written from the specification's tables (`school/tests/data/oneroster`): a bulk export,
//! a delta in which a student joins and one is renamed, a delta in which one leaves; after
//! each, the register and the door unit's gallery show exactly the class.

use std::io::Write as _;
use std::path::Path;

use reqwest::StatusCode;
use rollcall_school::gallery;
use rollcall_shared::{ModelId, UnixMillis};
use serde_json::{Value, json};

use crate::common::*;

const PLAIN: &str = "\
student_id,student_name,class_id,class_name,teacher_id,teacher_username,teacher_name,teacher_email
S1,Ada Lovelace,C7B,7B,T1,tess,Tess Ting,tess@school.test
S2,Bo Diddley,C7B,7B,T1,tess,Tess Ting,tess@school.test
";

async fn upload(hub: &TestHub, admin: &Api, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let url = format!("http://{}/api/v1/roster/import?{query}", hub.addr);
    let reply = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(url)
        .bearer_auth(admin.token.as_deref().unwrap())
        .body(body)
        .send()
        .await
        .unwrap();
    let status = reply.status();
    (status, reply.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_plain_csv_is_checked_imported_once_and_refused_whole_when_a_row_is_bad() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;

    let (status, dry) = upload(&hub, &admin, "format=csv&dry_run=true", PLAIN.into()).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["counts"]["student"]["create"], json!(2));
    assert_eq!(dry["counts"]["membership"]["create"], json!(2));
    assert!(!dry["steps"][0]["reason"].as_str().unwrap().is_empty());
    let (_, students) = admin.get("/students").await;
    assert_eq!(
        students.as_array().unwrap().len(),
        0,
        "a dry run changes nothing"
    );

    let (status, done) = upload(&hub, &admin, "format=csv", PLAIN.into()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, classes) = admin.get("/classes").await;
    let class = &classes.as_array().unwrap()[0];
    assert_eq!(class["name"], json!("7B"));
    let (_, members) = admin
        .get(&format!(
            "/classes/{}/students",
            class["id"].as_str().unwrap()
        ))
        .await;
    let names: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada Lovelace", "Bo Diddley"]);
    assert_eq!(members[0]["external_ref"], json!("S1"));

    let (_, again) = upload(&hub, &admin, "format=csv", PLAIN.into()).await;
    assert_eq!(again["counts"]["student"], json!({"unchanged": 2}));
    assert_eq!(again["counts"]["membership"], json!({"unchanged": 2}));

    let bad = format!("{PLAIN}S3,,C7B,7B,,,,\nS4,Di,C7B,,,,,\n");
    let (status, body) = upload(&hub, &admin, "format=csv", bad.into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], json!("bad_rows"));
    let rows = body["error"]["rows"].as_array().unwrap();
    let lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [4, 5]);
    let (_, students) = admin.get("/students").await;
    assert_eq!(
        students.as_array().unwrap().len(),
        2,
        "nothing of a bad file"
    );

    let (status, _) = upload(&hub, &admin, "format=xml", PLAIN.into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    hub.stop().await;
}

/// A OneRoster package from `school/tests/data/oneroster/CASE`, zipped inside a folder as export
/// tools do.
fn package(case: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../school/tests/data/oneroster")
        .join(case);
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = format!("sis-export/{}", path.file_name().unwrap().to_str().unwrap());
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&std::fs::read(path).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// Who the register of the class's Monday lesson lists.
async fn register(admin: &Api, slot: &str) -> Vec<String> {
    let (status, session) = admin.get(&format!("/sessions/{slot}/{}", monday())).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let mut names: Vec<String> = session["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// How many students the gallery of the door unit in the class's room holds.
fn gallery_size(hub: &TestHub) -> usize {
    let model = ModelId::new("dlib-resnet-v1").unwrap();
    let now = UnixMillis(monday_at(8, 0));
    let state = hub
        .db()
        .read_blocking(|sql| gallery::target(sql, "Lab 3", &model, now))
        .unwrap();
    state.entries.len()
}

/// Every imported student gets an enrolment template, as an admin's photos would give.
async fn enrol_all(admin: &Api) {
    let (_, students) = admin.get("/students").await;
    for (i, s) in students.as_array().unwrap().iter().enumerate() {
        let id = s["id"].as_str().unwrap();
        let (_, faces) = admin.get(&format!("/students/{id}/embeddings")).await;
        if faces.as_array().is_some_and(|f| !f.is_empty()) {
            continue;
        }
        admin.give_consent(id).await;
        let embedding: Vec<f32> = (0..128)
            .map(|k| ((k * (i + 3)) % 17) as f32 / 17.0)
            .collect();
        let body = json!({"model": "dlib-resnet-v1", "embedding": embedding});
        admin
            .created(&format!("/students/{id}/embeddings"), body)
            .await;
    }
}

#[tokio::test]
async fn a_schools_nights_bulk_then_deltas_change_only_what_they_name() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;

    // Night 1: the whole school.
    let (status, plan) = upload(&hub, &admin, "format=oneroster", package("v1.2-bulk")).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["format"], json!("OneRoster 1.2"));
    assert_eq!(plan["counts"]["student"], json!({"create": 3}));
    assert_eq!(plan["counts"]["term"], json!({"offered": 2}), "{plan}");
    let (_, classes) = admin.get("/classes").await;
    let class = classes[0]["id"].as_str().unwrap().to_owned();
    let slot = admin
        .created(
            "/timetable",
            json!({"class_id": class, "room": "Lab 3", "weekday": 1, "start": "09:00", "end": "10:00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    enrol_all(&admin).await;
    assert_eq!(
        register(&admin, &slot).await,
        ["Ada Lovelace", "Bo Diddley", "Cy Young"]
    );
    assert_eq!(gallery_size(&hub), 3);

    // Night 2: a delta names two students; the others stay exactly as they were.
    let (status, plan) = upload(&hub, &admin, "format=oneroster", package("v1.2-delta-1")).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["coverage"]["users"], json!("delta"));
    assert_eq!(
        plan["counts"]["student"],
        json!({"create": 1, "update": 1}),
        "{plan}"
    );
    assert_eq!(plan["gate"]["leavers"], json!(0));
    enrol_all(&admin).await;
    assert_eq!(
        register(&admin, &slot).await,
        ["Ada King", "Bo Diddley", "Cy Young", "Di Prima"]
    );
    assert_eq!(gallery_size(&hub), 4);

    // Night 3: Bo leaves. One in four is past the school's 10 %: refused until confirmed.
    let (status, body) = upload(&hub, &admin, "format=oneroster", package("v1.2-delta-2")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], json!("leavers_unconfirmed"));
    assert_eq!(body["error"]["gate"]["leavers"], json!(1));
    assert_eq!(register(&admin, &slot).await.len(), 4, "nothing changed");
    let (status, plan) = upload(
        &hub,
        &admin,
        "format=oneroster&dry_run=true",
        package("v1.2-delta-2"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["steps"][0]["action"], json!("leaver"), "leavers first");
    assert_eq!(plan["gate"]["needs_confirmation"], json!(true));
    let query = "format=oneroster&confirm_leavers=1";
    let (status, plan) = upload(&hub, &admin, query, package("v1.2-delta-2")).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(
        register(&admin, &slot).await,
        ["Ada King", "Cy Young", "Di Prima"]
    );
    assert_eq!(gallery_size(&hub), 3, "the leaver is off the door");
    let (_, students) = admin.get("/students").await;
    assert_eq!(
        students.as_array().unwrap().len(),
        4,
        "a leaver is never deleted"
    );

    // The terms would go to the calendar when asked.
    let query = "format=oneroster&terms=true&dry_run=true";
    let (_, plan) = upload(&hub, &admin, query, package("v1.2-bulk")).await;
    assert_eq!(plan["counts"]["term"], json!({"create": 2}), "{plan}");

    let (status, body) = upload(&hub, &admin, "format=oneroster", b"not a zip".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    hub.stop().await;
}
