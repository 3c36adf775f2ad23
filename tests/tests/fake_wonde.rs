//! `rollcall-fake-wonde`, the Wonde API stand-in, as a real process: who may call it, reading
//! students and attendance codes a page at a time, writing session and lesson registers (one
//! mark per key, the newest winning) and reading them back, the checks it makes on every
//! register, its fault modes and its record of requests.

use std::time::{Duration, Instant};

use rollcall_e2e::standin::launch::StandIn;
use serde_json::{Value, json};

const TOKEN: &str = "7e76896f9aca62569048c667db292d72dd84f224";
const SCHOOL: &str = "A1930499544";
const STUDENTS: &str = "A1749191433=9919,A1749191434=9920,A1749191435=9921";
const STUDENT: &str = "A1749191433";
/// England's `/` (present AM) and `N` (no reason yet) in the stand-in's default codes.
const PRESENT: &str = "A1000000001";
const NO_REASON: &str = "A1000000019";

/// The stand-in, with this vendor's calls.
struct FakeWonde(StandIn);

impl std::ops::Deref for FakeWonde {
    type Target = StandIn;

    fn deref(&self) -> &StandIn {
        &self.0
    }
}

impl FakeWonde {
    fn start() -> anyhow::Result<Self> {
        let args = ["--token", TOKEN, "--school", SCHOOL, "--students", STUDENTS];
        StandIn::start("rollcall-fake-wonde", &args).map(Self)
    }

    fn school(&self, rest: &str) -> String {
        self.url(&format!("/v1.0/schools/{SCHOOL}/{rest}"))
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).bearer_auth(TOKEN).send().await.unwrap()
    }

    async fn post(&self, rest: &str, body: &Value) -> reqwest::Response {
        let request = self.http.post(self.school(rest)).bearer_auth(TOKEN);
        request.json(body).send().await.unwrap()
    }

    /// Every item of a list, following `meta.pagination.next`, with the pages' sizes.
    async fn all(&self, rest: &str) -> (Vec<Value>, Vec<usize>) {
        let mut url = Some(self.school(rest));
        let (mut items, mut sizes) = (Vec::new(), Vec::new());
        while let Some(next) = url {
            let answer = self.get(&next).await;
            assert_eq!(answer.status(), 200, "{next}");
            let body: Value = answer.json().await.unwrap();
            let page = body["data"].as_array().unwrap().clone();
            let pagination = &body["meta"]["pagination"];
            assert_eq!(pagination["more"], pagination["next"].is_string());
            sizes.push(page.len());
            items.extend(page);
            url = pagination["next"].as_str().map(str::to_owned);
        }
        (items, sizes)
    }
}

fn mark(session: &str, code: &str) -> Value {
    json!({"student_id": STUDENT, "date": "2024-09-03", "session": session,
        "attendance_code_id": code})
}

fn register(marks: &[Value]) -> Value {
    json!({ "attendance": marks })
}

/// The 422 answer's problems, after checking the status.
async fn problems(answer: reqwest::Response) -> Value {
    assert_eq!(answer.status(), 422);
    let body: Value = answer.json().await.unwrap();
    body["errors"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_schools_token_is_let_in() {
    let fake = FakeWonde::start().unwrap();
    let students = fake.school("students");
    let bare = fake.http.get(&students).send().await.unwrap();
    assert_eq!(bare.status(), 401);
    let wrong = fake.http.get(&students).bearer_auth("not-it");
    assert_eq!(wrong.send().await.unwrap().status(), 401);
    let basic = fake.http.get(&students).basic_auth(TOKEN, None::<&str>);
    assert_eq!(basic.send().await.unwrap().status(), 200);
    let with_password = fake.http.get(&students).basic_auth(TOKEN, Some("x"));
    assert_eq!(with_password.send().await.unwrap().status(), 401);
    assert_eq!(fake.get(&students).await.status(), 200);
    let elsewhere = fake.url("/v1.0/schools/A999/students");
    assert_eq!(fake.get(&elsewhere).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn students_and_codes_are_read_a_page_at_a_time() {
    let fake = FakeWonde::start().unwrap();
    let (students, sizes) = fake.all("students?per_page=2").await;
    assert_eq!(sizes, [2, 1]);
    assert_eq!(students[0], json!({"id": STUDENT, "mis_id": "9919"}));
    assert_eq!(students[2]["mis_id"], "9921");

    let second = fake.get(&fake.school("students?page=2&per_page=2")).await;
    let body: Value = second.json().await.unwrap();
    let previous = body["meta"]["pagination"]["previous"].as_str().unwrap();
    assert!(
        previous.ends_with("students?page=1&per_page=2"),
        "{previous}"
    );
    assert_eq!(body["meta"]["pagination"]["more"], false);

    let (codes, sizes) = fake.all("attendance-codes/?per_page=10").await;
    assert_eq!(sizes, [10, 10, 1]);
    let letters: Vec<&str> = codes.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(&letters[..3], ["/", "\\", "L"]);
    assert_eq!(codes[0]["id"], PRESENT);
    assert_eq!(fake.all("attendance-codes").await.1, [21]);

    for query in ["per_page=0", "per_page=201", "page=0", "colour=red"] {
        let answer = fake.get(&fake.school(&format!("students?{query}"))).await;
        assert_eq!(answer.status(), 400, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_mark_is_written_once_per_key_the_newest_winning() {
    let fake = FakeWonde::start().unwrap();
    let answer = fake
        .post("attendance/session", &register(&[mark("AM", NO_REASON)]))
        .await;
    assert_eq!(answer.status(), 200);
    let first: Value = answer.json().await.unwrap();
    assert!(
        first["writeback_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(
        fake.all("attendance/session").await.0,
        [mark("AM", NO_REASON)]
    );

    let mut late = mark("AM", PRESENT);
    late["comment"] = json!("Came in with a note");
    late["minutes_late"] = json!(10);
    let again = register(&[late.clone(), mark("PM", PRESENT)]);
    let answer = fake.post("attendance/session/", &again).await;
    assert_eq!(answer.status(), 200);
    let second: Value = answer.json().await.unwrap();
    assert_ne!(second["writeback_id"], first["writeback_id"]);
    let (marks, _) = fake.all("attendance/session").await;
    assert_eq!(marks, [late, mark("PM", PRESENT)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_mark_is_kept_per_student_and_lesson() {
    let fake = FakeWonde::start().unwrap();
    let class = json!({"id": "C1", "mis_id": "7B", "name": "7B"});
    let timetable = ["L1", "L2"].map(|id| {
        json!({"id": id, "class": class, "start_at": "2026-11-23 09:00:00",
            "end_at": "2026-11-23 10:00:00"})
    });
    fake.control(json!({"lessons": timetable})).await;
    let lesson = |lesson: &str, code: &str| json!({"lesson_id": lesson, "student_id": STUDENT, "attendance_code_id": code});
    let marks = [
        lesson("L1", NO_REASON),
        lesson("L2", PRESENT),
        lesson("L1", PRESENT),
    ];
    let answer = fake.post("attendance/lesson", &register(&marks)).await;
    assert_eq!(answer.status(), 200);
    let (kept, _) = fake.all("attendance/lesson").await;
    assert_eq!(kept, [lesson("L1", PRESENT), lesson("L2", PRESENT)]);
    assert!(fake.all("attendance/session").await.0.is_empty());

    // A lesson the timetable does not have is refused, naming the field; so is a key of
    // /control the stand-in does not take.
    let answer = fake
        .post("attendance/lesson", &register(&[lesson("L9", PRESENT)]))
        .await;
    assert!(problems(answer).await["attendance.0.lesson_id"].is_array());
    let refused = fake
        .http
        .post(fake.url("/control"))
        .json(&json!({"rooms": []}));
    assert_eq!(refused.send().await.unwrap().status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_that_break_the_model_are_refused_and_name_the_field() {
    let fake = FakeWonde::start().unwrap();
    let session = "attendance/session";
    let mut missing = mark("AM", PRESENT);
    missing.as_object_mut().unwrap().remove("date");
    let errors = problems(fake.post(session, &register(&[missing])).await).await;
    assert_eq!(
        errors["attendance.0.date"][0],
        "The date field is required."
    );

    let mut wrong_type = mark("PM", PRESENT);
    wrong_type["minutes_late"] = json!("ten");
    wrong_type["session"] = json!("EVENING");
    let body = register(&[mark("AM", PRESENT), wrong_type]);
    let errors = problems(fake.post(session, &body).await).await;
    let fields: Vec<&String> = errors.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["attendance.1.minutes_late", "attendance.1.session"]
    );

    let unknown_code = mark("AM", "A0000000000");
    let errors = problems(fake.post(session, &register(&[unknown_code])).await).await;
    let message = errors["attendance.0.attendance_code_id"][0]
        .as_str()
        .unwrap();
    assert!(message.contains("no attendance code"), "{message}");

    let mut unknown_student = mark("AM", PRESENT);
    unknown_student["student_id"] = json!("A404");
    let errors = problems(
        fake.post(session, &register(&[unknown_student.clone()]))
            .await,
    )
    .await;
    let message = errors["attendance.0.student_id"][0].as_str().unwrap();
    assert!(message.contains("'A404'"), "{message}");

    let errors = problems(fake.post(session, &json!([mark("AM", PRESENT)])).await).await;
    assert!(errors["attendance"].is_array());
    let not_json = fake
        .http
        .post(fake.school(session))
        .bearer_auth(TOKEN)
        .body("{");
    assert_eq!(not_json.send().await.unwrap().status(), 400);
    assert!(
        fake.all(session).await.0.is_empty(),
        "a refused register writes nothing"
    );

    fake.control(json!({"students": ["A404=404"]})).await;
    let answer = fake.post(session, &register(&[unknown_student])).await;
    assert_eq!(answer.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_mode_answers_as_told_until_switched_back() {
    let fake = FakeWonde::start().unwrap();
    let body = register(&[mark("AM", PRESENT)]);
    let session = "attendance/session";

    fake.control(json!({"mode": "unauthorized"})).await;
    assert_eq!(fake.post(session, &body).await.status(), 401);

    fake.control(json!({"mode": "throttle", "retryAfter": 7}))
        .await;
    let throttled = fake.post(session, &body).await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["retry-after"], "7");

    fake.control(json!({"mode": "fail"})).await;
    assert_eq!(fake.post(session, &body).await.status(), 500);

    fake.control(json!({"mode": "hang"})).await;
    let started = Instant::now();
    let request = fake
        .http
        .post(fake.school(session))
        .bearer_auth(TOKEN)
        .json(&body);
    let hung = request.timeout(Duration::from_millis(500)).send().await;
    assert!(hung.unwrap_err().is_timeout());
    assert!(started.elapsed() >= Duration::from_millis(500));

    fake.control(json!({"mode": "ok"})).await;
    assert!(
        fake.all(session).await.0.is_empty(),
        "no fault stored anything"
    );
    assert_eq!(fake.post(session, &body).await.status(), 200);
    assert_eq!(fake.all(session).await.0.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_recorded_without_the_token() {
    let fake = FakeWonde::start().unwrap();
    let body = register(&[mark("AM", PRESENT)]);
    assert_eq!(fake.post("attendance/session", &body).await.status(), 200);
    let bare = fake.http.get(fake.school("students")).send().await.unwrap();
    assert_eq!(bare.status(), 401);

    let seen = fake.requests().await;
    let summary: Vec<_> = seen
        .iter()
        .map(|r| {
            (
                r["method"].clone(),
                r["authorization"].clone(),
                r["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!("POST"), json!(true), json!(200)),
            (json!("GET"), json!(false), json!(401))
        ]
    );
    assert_eq!(seen[0]["body"], body);
    let everything = serde_json::to_string(&seen).unwrap();
    assert!(!everything.contains(TOKEN));

    let file = std::fs::read_to_string(fake.dir.path().join("requests.jsonl")).unwrap();
    let lines: Vec<Value> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, seen);
}
