//! `rollcall-fake-edfi`, the Ed-Fi ODS/API 7 stand-in, as a real process: its token flow, the
//! attendance resources' upsert, read and delete, the checks it makes on every body, the
//! unresolved-reference answer, its fault modes and its record of requests.

use std::time::{Duration, Instant};

use rollcall_e2e::standin::launch::StandIn;
use serde_json::{Value, json};

const CLIENT: &str = "hub-writeback";
const SECRET: &str = "s3cret";
const STUDENT: &str = "604822";
const SCHOOL_EVENTS: &str = "/data/v3/ed-fi/studentSchoolAttendanceEvents";
const SECTION_EVENTS: &str = "/data/v3/ed-fi/studentSectionAttendanceEvents";
const CATEGORY: &str = "uri://ed-fi.org/AttendanceEventCategoryDescriptor";

/// The stand-in, with this vendor's calls.
struct FakeEdfi(StandIn);

impl std::ops::Deref for FakeEdfi {
    type Target = StandIn;

    fn deref(&self) -> &StandIn {
        &self.0
    }
}

impl FakeEdfi {
    fn start(extra: &[&str]) -> anyhow::Result<Self> {
        let mut args = vec!["--client-id", CLIENT, "--client-secret", SECRET];
        args.extend(["--students", STUDENT]);
        args.extend(extra);
        StandIn::start("rollcall-fake-edfi", &args).map(Self)
    }

    async fn token_with(&self, id: &str, secret: &str) -> reqwest::Response {
        let form = [("grant_type", "client_credentials")];
        let request = self.http.post(self.url("/oauth/token"));
        request
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// A token for the client named by form fields rather than HTTP Basic.
    async fn token_by_form(&self) -> reqwest::Response {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ];
        let request = self.http.post(self.url("/oauth/token")).form(&form);
        request.send().await.unwrap()
    }

    async fn token(&self) -> String {
        let answer = self.token_with(CLIENT, SECRET).await;
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        let request = self.http.post(self.url(path)).bearer_auth(token);
        request.json(body).send().await.unwrap()
    }

    async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn list(&self, token: &str, query: &str) -> Vec<Value> {
        let answer = self.get(token, &format!("{SCHOOL_EVENTS}?{query}")).await;
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }
}

fn school_event(category: &str) -> Value {
    json!({
        "studentReference": {"studentUniqueId": STUDENT},
        "schoolReference": {"schoolId": 255901001},
        "sessionReference": {"schoolId": 255901001, "schoolYear": 2025, "sessionName": "Fall"},
        "eventDate": "2024-09-03",
        "attendanceEventCategoryDescriptor": format!("{CATEGORY}#{category}"),
    })
}

fn section_event() -> Value {
    json!({
        "studentReference": {"studentUniqueId": STUDENT},
        "sectionReference": {
            "localCourseCode": "ALG-1",
            "schoolId": 255901001,
            "schoolYear": 2025,
            "sectionIdentifier": "ALG-1-01",
            "sessionName": "Fall"
        },
        "eventDate": "2024-09-03",
        "attendanceEventCategoryDescriptor": format!("{CATEGORY}#Tardy"),
    })
}

/// The path part of a `Location` header, checked to be one of this server's URLs.
fn location(fake: &FakeEdfi, answer: &reqwest::Response) -> String {
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let base = fake.url("");
    let path = location
        .strip_prefix(&base)
        .expect("an absolute URL of the stand-in");
    path.to_owned()
}

async fn problem(answer: reqwest::Response, status: u16) -> Value {
    assert_eq!(answer.status(), status);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_issued_to_the_client_only_and_refused_once_expired() {
    let fake = FakeEdfi::start(&["--token-seconds", "2"]).unwrap();
    let answer = fake.token_with(CLIENT, SECRET).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 2);
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(fake.get(&token, SCHOOL_EVENTS).await.status(), 200);

    // The same client by form fields; then a wrong secret and an unknown client.
    let by_form = fake.token_by_form().await;
    assert_eq!(by_form.status(), 200);
    let bad = fake.token_with(CLIENT, "guess").await;
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    assert_eq!(fake.token_with("someone", SECRET).await.status(), 401);

    // Data requests without a token, or with one never issued.
    let bare = fake.http.get(fake.url(SCHOOL_EVENTS)).send().await.unwrap();
    let body = problem(bare, 401).await;
    assert_eq!(body["errors"][0], "Authorization header is missing.");
    let forged = fake
        .get("00000000000000000000000000000000", SCHOOL_EVENTS)
        .await;
    assert_eq!(problem(forged, 401).await["errors"][0], "Invalid token");

    // The token stops working once its two seconds are up; a fresh one works.
    let deadline = Instant::now() + Duration::from_secs(15);
    while fake.get(&token, SCHOOL_EVENTS).await.status() != 401 {
        assert!(
            Instant::now() < deadline,
            "the token was still accepted after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = fake.token().await;
    assert_eq!(fake.get(&fresh, SCHOOL_EVENTS).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_attendance_event_is_upserted_by_its_natural_key_read_and_deleted() {
    let fake = FakeEdfi::start(&[]).unwrap();
    let token = fake.token().await;
    let excused = school_event("Excused Absence");
    let created = fake.post(&token, SCHOOL_EVENTS, &excused).await;
    assert_eq!(created.status(), 201);
    let item = location(&fake, &created);
    let id = item
        .strip_prefix(&format!("{SCHOOL_EVENTS}/"))
        .unwrap()
        .to_owned();

    let read: Value = fake.get(&token, &item).await.json().await.unwrap();
    let mut expected = excused.clone();
    expected["id"] = json!(id);
    assert_eq!(read, expected);

    // The same identity with a reason added: an update of the same item.
    let mut with_reason = excused.clone();
    with_reason["attendanceEventReason"] = json!("Dentist");
    let updated = fake.post(&token, SCHOOL_EVENTS, &with_reason).await;
    assert_eq!(updated.status(), 200);
    assert_eq!(location(&fake, &updated), item);
    let all = fake
        .list(&token, &format!("studentUniqueId={STUDENT}"))
        .await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["attendanceEventReason"], "Dentist");

    // Another category is another identity, so another item.
    let tardy = fake
        .post(&token, SCHOOL_EVENTS, &school_event("Tardy"))
        .await;
    assert_eq!(tardy.status(), 201);
    assert_ne!(location(&fake, &tardy), item);
    assert_eq!(fake.list(&token, "eventDate=2024-09-03").await.len(), 2);
    let query = format!("attendanceEventCategoryDescriptor={CATEGORY}%23Tardy");
    let tardies = fake.list(&token, &query).await;
    assert_eq!(tardies.len(), 1);
    assert_eq!(
        tardies[0]["attendanceEventCategoryDescriptor"],
        format!("{CATEGORY}#Tardy")
    );
    assert!(fake.list(&token, "eventDate=2024-09-04").await.is_empty());
    let second_page = fake.list(&token, "offset=1&limit=1").await;
    assert_eq!(second_page.len(), 1);
    assert_ne!(second_page[0]["id"], json!(id));
    let counted = fake
        .get(&token, &format!("{SCHOOL_EVENTS}?limit=0&totalCount=true"))
        .await;
    assert_eq!(counted.headers()["total-count"], "2");
    let too_many = fake
        .get(&token, &format!("{SCHOOL_EVENTS}?limit=501"))
        .await;
    problem(too_many, 400).await;

    let deleted = fake
        .http
        .delete(fake.url(&item))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    problem(fake.get(&token, &item).await, 404).await;
    let again = fake
        .http
        .delete(fake.url(&item))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(fake.list(&token, "").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_break_the_published_model_are_refused_and_name_the_field() {
    let fake = FakeEdfi::start(&[]).unwrap();
    // The section the section events below are of.
    let algebra = json!({"sectionIdentifier": "ALG-1-01", "courseOfferingReference":
        {"localCourseCode": "ALG-1", "schoolId": 255901001, "schoolYear": 2025,
         "sessionName": "Fall"}});
    fake.control(json!({"sections": [algebra]})).await;
    let refused = fake
        .http
        .post(fake.url("/control"))
        .json(&json!({"sections": [{}]}));
    assert_eq!(
        refused.send().await.unwrap().status(),
        400,
        "a section that breaks the model"
    );
    let token = fake.token().await;
    let refused = |body: Value| {
        let fake = &fake;
        let token = &token;
        async move {
            let answer = fake.post(token, SCHOOL_EVENTS, &body).await;
            let body = problem(answer, 400).await;
            assert_eq!(
                body["type"],
                "urn:ed-fi:api:bad-request:data-validation-failed"
            );
            body["validationErrors"]
                .as_object()
                .cloned()
                .unwrap_or_default()
        }
    };

    let mut missing = school_event("Tardy");
    missing.as_object_mut().unwrap().remove("eventDate");
    let errors = refused(missing).await;
    assert_eq!(errors["$.eventDate"], json!(["EventDate is required."]));

    let mut unknown = school_event("Tardy");
    unknown["attendanceStatus"] = json!("late");
    let errors = refused(unknown).await;
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["$.attendanceStatus"]);

    let mut bare = school_event("Tardy");
    bare["attendanceEventCategoryDescriptor"] = json!("Tardy");
    let errors = refused(bare).await;
    let message = errors["$.attendanceEventCategoryDescriptor"][0]
        .as_str()
        .unwrap();
    assert!(message.contains("a '#' is expected"), "{message}");

    let mut invented = school_event("Sunny");
    invented["sessionReference"]["schoolYear"] = json!("2025");
    let errors = refused(invented).await;
    assert_eq!(errors.len(), 1, "the type error first: {errors:?}");
    assert!(errors.contains_key("$.sessionReference.schoolYear"));
    let errors = refused(school_event("Sunny")).await;
    let message = errors["$.attendanceEventCategoryDescriptor"][0]
        .as_str()
        .unwrap();
    assert!(message.ends_with("does not exist."), "{message}");

    let mut section = section_event();
    section["sectionReference"]
        .as_object_mut()
        .unwrap()
        .remove("sectionIdentifier");
    let answer = fake.post(&token, SECTION_EVENTS, &section).await;
    let body = problem(answer, 400).await;
    assert!(body["validationErrors"]["$.sectionReference.sectionIdentifier"].is_array());
    assert_eq!(
        fake.post(&token, SECTION_EVENTS, &section_event())
            .await
            .status(),
        201
    );

    let mut with_id = school_event("Tardy");
    with_id["id"] = json!("092a2f5eaaa5491aa575ffdd5ec662ef");
    problem(fake.post(&token, SCHOOL_EVENTS, &with_id).await, 400).await;
    assert!(
        fake.list(&token, "").await.is_empty(),
        "nothing refused was stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_the_ods_does_not_know_is_an_unresolved_reference() {
    let fake = FakeEdfi::start(&[]).unwrap();
    let token = fake.token().await;
    let mut stranger = school_event("Tardy");
    stranger["studentReference"]["studentUniqueId"] = json!("999999");
    let body = problem(fake.post(&token, SCHOOL_EVENTS, &stranger).await, 409).await;
    assert_eq!(
        body["type"],
        "urn:ed-fi:api:data-conflict:unresolved-reference"
    );
    assert_eq!(
        body["detail"],
        "The referenced 'Student' item does not exist."
    );
    assert!(fake.list(&token, "").await.is_empty());

    fake.control(json!({"students": ["999999"]})).await;
    assert_eq!(
        fake.post(&token, SCHOOL_EVENTS, &stranger).await.status(),
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_mode_answers_as_told_until_switched_back() {
    let fake = FakeEdfi::start(&[]).unwrap();
    let token = fake.token().await;
    let event = school_event("Tardy");

    fake.control(json!({"mode": "unauthorized"})).await;
    problem(fake.post(&token, SCHOOL_EVENTS, &event).await, 401).await;
    assert_eq!(fake.token_with(CLIENT, SECRET).await.status(), 401);

    fake.control(json!({"mode": "throttle", "retryAfter": 7}))
        .await;
    let throttled = fake.post(&token, SCHOOL_EVENTS, &event).await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["retry-after"], "7");

    fake.control(json!({"mode": "fail"})).await;
    let failed = problem(fake.post(&token, SCHOOL_EVENTS, &event).await, 500).await;
    assert_eq!(failed["type"], "urn:ed-fi:api:system");

    fake.control(json!({"mode": "hang"})).await;
    let started = Instant::now();
    let hung = fake
        .http
        .post(fake.url(SCHOOL_EVENTS))
        .bearer_auth(&token)
        .json(&event)
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(hung.unwrap_err().is_timeout());
    assert!(started.elapsed() >= Duration::from_millis(500));

    fake.control(json!({"mode": "ok"})).await;
    assert_eq!(fake.post(&token, SCHOOL_EVENTS, &event).await.status(), 201);
    assert_eq!(
        fake.list(&token, "").await.len(),
        1,
        "no fault stored anything"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_recorded_without_its_secrets() {
    let fake = FakeEdfi::start(&[]).unwrap();
    let answer = fake.token_by_form().await;
    let body: Value = answer.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let event = school_event("Present");
    assert_eq!(fake.post(&token, SCHOOL_EVENTS, &event).await.status(), 201);
    let bare = fake.http.get(fake.url(SCHOOL_EVENTS)).send().await.unwrap();
    assert_eq!(bare.status(), 401);

    let seen = fake.requests().await;
    let summary: Vec<_> = seen
        .iter()
        .map(|r| {
            (
                r["method"].clone(),
                r["path"].clone(),
                r["authorization"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!("POST"), json!("/oauth/token"), json!(false)),
            (json!("POST"), json!(SCHOOL_EVENTS), json!(true)),
            (json!("GET"), json!(SCHOOL_EVENTS), json!(false)),
        ]
    );
    assert_eq!(seen[0]["body"]["client_secret"], "<redacted>");
    assert_eq!(seen[1]["body"], event);
    assert_eq!(seen[1]["status"], 201);
    let everything = serde_json::to_string(&seen).unwrap();
    assert!(!everything.contains(SECRET) && !everything.contains(&token));

    let file = std::fs::read_to_string(fake.dir.path().join("requests.jsonl")).unwrap();
    let lines: Vec<Value> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, seen);
}
