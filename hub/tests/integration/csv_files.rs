//! Every CSV file the hub writes, read back by a standard CSV reader (the `csv` crate, strict:
//! one header, every record as wide as it): the session register, a class's marks and figures,
//! a student's history, a class's register, the school's trend and at-risk list, and every
//! table of the school's export. Each has the rows its JSON twin has, and a name typed as a
//! spreadsheet formula, or holding commas and quotes, comes back as typed, the formula defused.

use std::io::Read as _;

use reqwest::StatusCode;
use rollcall_shared::*;
use serde_json::{Value, json};

use crate::common::*;

const FORMULA: &str = "=HYPERLINK(\"http://x.example\",\"y\")";
const COMMAS: &str = "Ng, \"Bo\" Lee";

/// A CSV file's header and records, refused unless every record is as wide as the header
/// and the header names each column once.
fn read(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut unique = header.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        header.len(),
        "a column named twice: {header:?}"
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}\n{text}"))
                .iter()
                .map(String::from)
                .collect()
        })
        .collect();
    (header, rows)
}

async fn csv_of(api: &Api, path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, kind, body) = api.bytes(&format!("{path}{sep}format=csv")).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    assert!(kind.unwrap_or_default().starts_with("text/csv"), "{path}");
    String::from_utf8(body).unwrap()
}

/// Every cell of a file's column `name`.
fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{name} in {header:?}"));
    rows.iter().map(|r| r[i].as_str()).collect()
}

async fn json_of(api: &Api, path: &str) -> Value {
    let (status, body) = api.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

#[track_caller]
fn len(v: &Value) -> usize {
    match v.as_array() {
        Some(a) => a.len(),
        None => panic!("an array: {v}"),
    }
}

#[tokio::test]
async fn every_csv_file_reads_back_whole_with_formulas_defused() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    for name in [FORMULA, COMMAS] {
        let id = admin.created("/students", json!({"name": name})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _) = admin
            .put(&format!("/classes/{}/students/{id}", s.class), json!({}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let at = monday_at(9, 2);
    let seen = record(
        s.device.parse().unwrap(),
        Decision::Confident,
        &[(&s.students[0], 0.3)],
        at,
    );
    store(&hub, seen).await;
    hub.clock.set(UnixMillis(monday_at(11, 0)));
    // A jump of the hub's clock ends older sign-ins.
    let admin = hub.admin().await;
    let day = monday();
    let range = format!("from={day}&to={day}");

    // One session's register: a row per student.
    let path = format!("/reports/sessions/{}/{day}", s.slot);
    let json = json_of(&admin, &path).await;
    let (header, rows) = read(&csv_of(&admin, &path).await);
    assert_eq!(rows.len(), len(&json["rows"]), "{header:?}");
    let names = column(&header, &rows, "name");
    assert!(
        names.contains(&format!("'{FORMULA}").as_str()),
        "defused: {names:?}"
    );
    assert!(names.contains(&COMMAS), "as typed: {names:?}");

    // A class's marks and its figures: a row per student.
    let path = format!("/reports/classes/{}?{range}", s.class);
    let json = json_of(&admin, &path).await;
    let (_, rows) = read(&csv_of(&admin, &path).await);
    assert_eq!(rows.len(), len(&json["students"]));
    let path = format!("/reports/classes/{}/stats?{range}", s.class);
    let json = json_of(&admin, &path).await;
    let (_, rows) = read(&csv_of(&admin, &path).await);
    assert_eq!(rows.len(), len(&json["students"]), "{json}");

    // A student's history: a row per lesson.
    let path = format!("/reports/students/{}?{range}", s.students[0]);
    let json = json_of(&admin, &path).await;
    let (_, rows) = read(&csv_of(&admin, &path).await);
    assert_eq!(rows.len(), len(&json), "{json}");

    // A class's register: a row per session and student.
    let path = format!("/reports/classes/{}/register?{range}", s.class);
    let json = json_of(&admin, &path).await;
    let (_, rows) = read(&csv_of(&admin, &path).await);
    let entries: usize = json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| len(&r["rows"]))
        .sum();
    assert_eq!(rows.len(), entries, "{json}");
    assert!(entries >= 4, "the four students of the lesson: {json}");

    // The school's trend (a row per day) and the students at risk (a row each).
    let path = format!("/reports/school/trend?{range}");
    let json = json_of(&admin, &path).await;
    let (_, rows) = read(&csv_of(&admin, &path).await);
    assert_eq!(rows.len(), len(&json["days"]), "{json}");
    let path = format!("/reports/school/at-risk?{range}");
    let json = json_of(&admin, &path).await;
    let (_, rows) = read(&csv_of(&admin, &path).await);
    let classes = json["classes"].as_array().unwrap().iter();
    let at_risk: usize = classes.map(|c| len(&c["students"])).sum();
    assert_eq!(rows.len(), at_risk, "{json}");
    assert!(at_risk >= 3, "the three students not seen: {json}");

    // The school's export: every CSV table as wide as its header, the students as typed.
    let (status, _, body) = admin.bytes("/export").await;
    assert_eq!(status, StatusCode::OK);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
    let mut tables = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        if !entry.name().ends_with(".csv") {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let (header, rows) = read(&text);
        tables += 1;
        if entry.name().ends_with("/students.csv") {
            let names = column(&header, &rows, "name");
            assert_eq!(rows.len(), 4);
            assert!(names.contains(&format!("'{FORMULA}").as_str()), "{names:?}");
            assert!(names.contains(&COMMAS), "{names:?}");
        }
    }
    assert!(tables >= 8, "{tables} CSV tables in the export");
    hub.stop().await;
}
