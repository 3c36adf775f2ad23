//! Roster import against a real hub: a dry run of a plain CSV says what would be created and
//! changes nothing; the import makes the classes, students and memberships the API then shows;
//! the same file again changes nothing; a file with bad rows is refused whole with each row's
//! problem; a OneRoster zip imports too, and a student it no longer has becomes a leaver.

mod common;

use std::io::Write as _;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

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

fn oneroster_zip(students: &[(&str, &str)]) -> Vec<u8> {
    let mut users = String::from(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName\n",
    );
    let mut enrollments = String::from(
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary\n",
    );
    for (i, (id, name)) in students.iter().enumerate() {
        let (given, family) = name.split_once(' ').unwrap();
        users += &format!("{id},active,,true,O1,student,{id},,{given},{family}\n");
        enrollments += &format!("E{i},,,K1,O1,{id},student,false\n");
    }
    let files = [
        ("oneroster/orgs.csv", "sourcedId,status,dateLastModified,name,type\nO1,,,St Mary's,school\n".to_owned()),
        ("oneroster/academicSessions.csv", "sourcedId,status,dateLastModified,title,type,startDate,endDate\nT1,,,Autumn,term,2026-09-01,2026-12-18\n".to_owned()),
        ("oneroster/classes.csv", "sourcedId,status,dateLastModified,title\nK1,,,8A Science\n".to_owned()),
        ("oneroster/users.csv", users),
        ("oneroster/enrollments.csv", enrollments),
    ];
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, text) in files {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_oneroster_zip_imports_and_a_student_it_drops_becomes_a_leaver() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let first = oneroster_zip(&[("U1", "Ada Lovelace"), ("U2", "Bo Diddley")]);
    let (status, plan) = upload(&hub, &admin, "format=oneroster", first).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["counts"]["student"]["create"], json!(2));

    let second = oneroster_zip(&[("U1", "Ada Lovelace")]);
    let (_, plan) = upload(&hub, &admin, "format=oneroster", second).await;
    assert_eq!(plan["counts"]["student"]["leaver"], json!(1), "{plan}");
    let leaver = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == json!("leaver"))
        .unwrap();
    assert_eq!(leaver["source_id"], json!("U2"));
    let (_, students) = admin.get("/students").await;
    assert_eq!(
        students.as_array().unwrap().len(),
        2,
        "a leaver is never deleted"
    );

    let (status, body) = upload(&hub, &admin, "format=oneroster", b"not a zip".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    hub.stop().await;
}
