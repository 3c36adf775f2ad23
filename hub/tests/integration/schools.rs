//! Schools sharing one PostgreSQL database, each in a schema of its own (issue 36, point 1):
//! no documented operation (every one in `openapi.json`) called by one school's admin returns
//! or changes another school's data. On the other school's hub every operation that needs a
//! sign-in is refused as unauthenticated, though the district signs both schools' tokens with
//! one key: the sign-in and its user are not in that school's tables. On its own hub, with the
//! other school's students, class, lesson, door unit and teacher named in the path, a call
//! finds none of them and answers nothing of theirs. The other school's data reads the same
//! before and after.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// The documented operations: method, path template, and whether it needs a sign-in.
fn operations() -> Vec<(Method, String, bool)> {
    let spec: Value = serde_json::from_str(include_str!("../../src/http/openapi.json")).unwrap();
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // A path item also holds its `parameters`.
            let Some(method) = ["get", "post", "put", "patch", "delete"]
                .contains(&method.as_str())
                .then(|| method.to_uppercase().parse::<Method>().unwrap())
            else {
                continue;
            };
            let public = op.get("security") == Some(&json!([]));
            out.push((method, path.clone(), !public));
        }
    }
    out
}

/// `template` with each parameter naming the other school's thing of that kind where it has
/// one (the `{id}` by the collection it follows), else an id or a day nobody has.
fn fill(template: &str, theirs: &Theirs) -> String {
    let nobody = uuid::Uuid::new_v4().to_string();
    let id = match template.split('/').nth(1) {
        Some("users") => &theirs.teacher,
        Some("classes") => &theirs.class,
        Some("students") => &theirs.students[0],
        Some("devices") => &theirs.device,
        Some("timetable") => &theirs.slot,
        Some("reports") if template.starts_with("/reports/classes/") => &theirs.class,
        Some("reports") if template.starts_with("/reports/students/") => &theirs.students[0],
        _ => &nobody,
    };
    template
        .replace("{id}", id)
        .replace("{student}", &theirs.students[1])
        .replace("{slot}", &theirs.slot)
        .replace("{date}", "2026-11-23")
        .replace("{day}", "2026-12-25")
        .replace("{face_id}", &nobody)
}

/// The other school's things, by id.
struct Theirs {
    teacher: String,
    class: String,
    slot: String,
    students: Vec<String>,
    device: String,
}

impl Theirs {
    fn ids(&self) -> Vec<&str> {
        let mut ids = vec![&self.teacher, &self.class, &self.slot, &self.device];
        ids.extend(&self.students);
        ids.into_iter().map(String::as_str).collect()
    }
}

/// What a school's admin reads of its school.
async fn snapshot(admin: &Api) -> Vec<Value> {
    let mut all = Vec::new();
    for path in [
        "/students",
        "/classes",
        "/timetable",
        "/devices",
        "/users",
        "/calendar/terms",
        "/calendar/holidays",
        "/codes",
        "/records",
    ] {
        let (status, body) = admin.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        all.push(body);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_documented_operation_of_one_school_reads_or_changes_another_schools_data() {
    let server = rollcall_e2e::postgres::Postgres::start()
        .unwrap_or_else(|e| panic!("the schools' test needs PostgreSQL: {e:#}"));
    let url = server.create_database("district").unwrap();
    let north = start_school_hub(&url, "north", None).await;
    let south = start_school_hub(&url, "south", Some(&north)).await;
    every_operation_keeps_to_its_school(north.api(), south.api()).await;
    north.stop().await;
    south.stop().await;
}

/// The same with both schools served by one hub process, each at its host name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_one_hub_serving_both_no_operation_of_one_school_reaches_the_others_data() {
    let server = rollcall_e2e::postgres::Postgres::start()
        .unwrap_or_else(|e| panic!("the schools' test needs PostgreSQL: {e:#}"));
    let url = server.create_database("district").unwrap();
    let broker = rollcall_e2e::mosquitto::Mosquitto::start().unwrap();
    let schools = [
        ("north", "north.school.test"),
        ("south", "south.school.test"),
    ];
    let hub = start_district_hub(&url, broker.addr(), &schools).await;
    let (north, south) = (
        Api::at_host(hub.addr, "north.school.test"),
        Api::at_host(hub.addr, "south.school.test"),
    );
    every_operation_keeps_to_its_school(north, south).await;
    hub.stop().await;
}

/// Every documented operation called by north's admin, at south's address with north's token
/// (refused) and at north's naming south's things (answering none of them); south's data
/// reads the same before and after. `north` and `south` are signed-out clients of each.
async fn every_operation_keeps_to_its_school(north: Api, south: Api) {
    let south_admin = south.login(ADMIN, PASSWORD).await;
    let school = seed_school(&south_admin).await;
    let (_, users) = south_admin.get("/users").await;
    let teacher = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "tess")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = Theirs {
        teacher,
        class: school.class,
        slot: school.slot,
        students: school.students,
        device: school.device,
    };
    let before = snapshot(&south_admin).await;

    let (status, login) = north
        .post(
            "/auth/login",
            json!({"username": ADMIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["access_token"].as_str().unwrap();
    let (north_admin, north_at_south) = (north.with_token(token), south.with_token(token));

    let operations = operations();
    assert!(operations.len() > 100, "{} operations", operations.len());
    let mut tried = 0;
    for (method, template, signed_in) in operations {
        // The open ones (sign-in, health, provisioning by code…) hold no school's data.
        if !signed_in {
            continue;
        }
        let path = fill(&template, &theirs);
        let body = matches!(method, Method::POST | Method::PUT | Method::PATCH).then(|| json!({}));

        let (status, answer) = north_at_south
            .send(method.clone(), &path, body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {template} on the other school's hub with this school's token: {answer}"
        );

        let (status, answer) = north_admin.send(method.clone(), &path, body).await;
        if status.is_success() {
            let text = answer.to_string();
            for id in theirs.ids() {
                assert!(
                    path.contains(id) || !text.contains(id),
                    "{method} {template} answered the other school's {id}: {text}"
                );
            }
        }
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {path}: {answer}"
        );
        tried += 1;
    }
    assert!(tried > 90, "{tried} operations tried");

    assert_eq!(
        snapshot(&south_admin).await,
        before,
        "the other school's data changed"
    );
}
