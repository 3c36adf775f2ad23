//! The sections the ODS knows. They are read only here: they come from `--sections FILE` (a
//! JSON array), never from a client's POST. (`POST /control` does not take them yet: its body
//! is read by the shared `rollcall_e2e::standin`, which knows only modes and students.)
//! Each is a section document as the ODS takes one (`sectionIdentifier` and
//! `courseOfferingReference {localCourseCode, schoolId, schoolYear, sessionName}` at least),
//! checked against the model's `sections` resource, and stored with an `id` as any item, so
//! GET by example and by id answer it as for the other resources. A
//! `studentSectionAttendanceEvent`'s `sectionReference` must name one (`ods` resolves it).

use std::path::Path;

use anyhow::{Context, ensure};
use rollcall_e2e::standin::json;
use serde_json::Value;

use crate::model::Model;
use crate::store::Store;
use crate::validate::validate;

/// Where the sections are served, and the model's name for their resource.
pub const ENDPOINT: &str = "sections";

/// The sections in the file at `path`: a JSON array of section documents.
pub fn load(path: &Path) -> anyhow::Result<Vec<Value>> {
    json::load(path, "sections", |json| {
        let list = json.as_array().context("not a JSON array of sections")?;
        Ok(list.clone())
    })
}

/// Checks each of `sections` against the model, then stores them all; none if one is wrong.
/// A section with the identity of one already held replaces it and keeps its `id`.
pub fn add(model: &Model, store: &mut Store, sections: &[Value]) -> anyhow::Result<()> {
    let resource = (model.resources.get(ENDPOINT)).context("the model has no sections resource")?;
    for (i, section) in sections.iter().enumerate() {
        ensure!(section.is_object(), "section {i} is not a JSON object");
        ensure!(
            section.get("id").is_none(),
            "section {i} has an id: the stand-in gives each its own"
        );
        let errors = validate(resource, &model.descriptors, section);
        let said: Vec<String> = (errors.iter())
            .flat_map(|(path, messages)| messages.iter().map(move |m| format!("{path}: {m}")))
            .collect();
        ensure!(said.is_empty(), "section {i}: {}", said.join("; "));
    }
    for section in sections {
        store.upsert(ENDPOINT, resource, section.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    use rollcall_e2e::standin::http::{Answer, Request};
    use serde_json::json;

    use super::*;
    use crate::auth::Tokens;
    use crate::ods::{self, DATA_PREFIX, Data};

    const SCHOOL: i64 = 255901001;

    /// What one ODS holds, as `main` puts it together, and a token it takes.
    struct Held {
        model: Model,
        students: BTreeSet<String>,
        tokens: Tokens,
        store: Store,
        bearer: String,
    }

    impl Held {
        fn new() -> Self {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/edfi/model.json");
            let mut tokens = Tokens::new("c".into(), "s".into(), Duration::from_secs(60));
            let mut asked = request("POST", "/oauth/token", &[], Vec::new());
            asked.body = b"grant_type=client_credentials&client_id=c&client_secret=s".to_vec();
            let token = tokens.token(&asked, Instant::now()).body.unwrap();
            Self {
                model: Model::load(&path).unwrap(),
                students: BTreeSet::from(["604822".to_owned()]),
                tokens,
                store: Store::default(),
                bearer: format!("Bearer {}", token["access_token"].as_str().unwrap()),
            }
        }

        /// The data API's answer to `method` of `endpoint` with `query` and `body`.
        fn ask(
            &mut self,
            method: &str,
            endpoint: &str,
            query: &[(&str, &str)],
            body: Value,
        ) -> Answer {
            let body = if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            };
            let mut request = request(method, &format!("{DATA_PREFIX}{endpoint}"), query, body);
            request.authorization = Some(self.bearer.clone());
            let data = Data {
                model: &self.model,
                students: &self.students,
                tokens: &self.tokens,
                store: &mut self.store,
                now: Instant::now(),
            };
            ods::answer(data, &request, "http://ods.test")
        }
    }

    fn request(method: &str, path: &str, query: &[(&str, &str)], body: Vec<u8>) -> Request {
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: (query.iter())
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            authorization: None,
            content_type: None,
            host: None,
            body,
        }
    }

    fn section(identifier: &str, course: &str, session: &str) -> Value {
        json!({
            "sectionIdentifier": identifier,
            "sectionName": format!("{identifier} ({session})"),
            "courseOfferingReference": {
                "localCourseCode": course,
                "schoolId": SCHOOL,
                "schoolYear": 2025,
                "sessionName": session,
            },
        })
    }

    /// The `sectionName` of each item of a list answer, in order.
    fn names(answer: &Answer) -> Vec<String> {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let items = answer.body.as_ref().unwrap().as_array().unwrap();
        assert!(
            items
                .iter()
                .all(|i| i["id"].as_str().is_some_and(|id| id.len() == 32))
        );
        items
            .iter()
            .map(|i| i["sectionName"].as_str().unwrap().to_owned())
            .collect()
    }

    fn held_sections() -> Held {
        let mut held = Held::new();
        let sections = [
            section("7B-SCI", "SCI-7", "Autumn Term"),
            section("7B-SCI", "SCI-7", "Spring Term"),
            section("8C-MAT", "MAT-8", "Autumn Term"),
        ];
        add(&held.model, &mut held.store, &sections).unwrap();
        held
    }

    #[test]
    fn sections_are_found_by_example_a_page_at_a_time() {
        let mut held = held_sections();
        let school = SCHOOL.to_string();
        let by = [
            ("sectionIdentifier", "7B-SCI"),
            ("schoolId", &school),
            ("schoolYear", "2025"),
        ];
        let found = held.ask("GET", ENDPOINT, &by, Value::Null);
        assert_eq!(
            names(&found),
            ["7B-SCI (Autumn Term)", "7B-SCI (Spring Term)"]
        );
        let page = [by.as_slice(), &[("offset", "1"), ("limit", "1")]].concat();
        let found = held.ask("GET", ENDPOINT, &page, Value::Null);
        assert_eq!(names(&found), ["7B-SCI (Spring Term)"]);
        let session = [by.as_slice(), &[("sessionName", "Autumn Term")]].concat();
        let found = held.ask("GET", ENDPOINT, &session, Value::Null);
        assert_eq!(names(&found), ["7B-SCI (Autumn Term)"]);
        let found = held.ask("GET", ENDPOINT, &[("schoolYear", "2026")], Value::Null);
        assert_eq!(names(&found), Vec::<String>::new());
        // Only the model's query fields are taken: a section names no student.
        let wrong = held.ask(
            "GET",
            ENDPOINT,
            &[("studentUniqueId", "604822")],
            Value::Null,
        );
        assert_eq!(wrong.status, 400);
        // Read only: a client adds none.
        let posted = held.ask(
            "POST",
            ENDPOINT,
            &[],
            section("9A-ART", "ART-9", "Autumn Term"),
        );
        assert_eq!(posted.status, 405);
        let all = held.ask("GET", ENDPOINT, &[], Value::Null);
        assert_eq!(names(&all).len(), 3);
    }

    #[test]
    fn a_section_named_again_keeps_its_id_and_a_wrong_one_adds_none() {
        let mut held = held_sections();
        let id = |held: &mut Held| {
            let found = held.ask(
                "GET",
                ENDPOINT,
                &[("sectionIdentifier", "8C-MAT")],
                Value::Null,
            );
            found.body.unwrap()[0]["id"].clone()
        };
        let before = id(&mut held);
        add(
            &held.model,
            &mut held.store,
            &[section("8C-MAT", "MAT-8", "Autumn Term")],
        )
        .unwrap();
        assert_eq!(id(&mut held), before);
        let mut wrong = section("9A-ART", "ART-9", "Autumn Term");
        wrong["courseOfferingReference"]
            .as_object_mut()
            .unwrap()
            .remove("sessionName");
        let good = section("9B-ART", "ART-9", "Autumn Term");
        let e = add(&held.model, &mut held.store, &[good, wrong]).unwrap_err();
        let said = e.to_string();
        assert!(
            said.starts_with("section 1: $.courseOfferingReference.sessionName: "),
            "{said}"
        );
        let found = held.ask(
            "GET",
            ENDPOINT,
            &[("localCourseCode", "ART-9")],
            Value::Null,
        );
        assert_eq!(
            names(&found),
            Vec::<String>::new(),
            "none of them was added"
        );
        let given_id = json!({"id": "x", "sectionIdentifier": "9C-ART"});
        assert!(add(&held.model, &mut held.store, &[given_id]).is_err());
    }

    #[test]
    fn a_section_event_naming_no_section_held_is_an_unresolved_reference() {
        let mut held = held_sections();
        let event = |identifier: &str, session: &str| {
            json!({
                "studentReference": {"studentUniqueId": "604822"},
                "sectionReference": {
                    "localCourseCode": "SCI-7", "schoolId": SCHOOL, "schoolYear": 2025,
                    "sectionIdentifier": identifier, "sessionName": session,
                },
                "eventDate": "2025-09-03",
                "attendanceEventCategoryDescriptor":
                    "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy",
            })
        };
        let endpoint = "studentSectionAttendanceEvents";
        for (identifier, session) in [("7B-SCIENCE", "Autumn Term"), ("7B-SCI", "Summer Term")] {
            let answer = held.ask("POST", endpoint, &[], event(identifier, session));
            assert_eq!(answer.status, 409, "{identifier} {session}");
            let body = answer.body.unwrap();
            assert_eq!(
                body["detail"],
                "The referenced 'Section' item does not exist."
            );
            assert_eq!(
                body["type"],
                "urn:ed-fi:api:data-conflict:unresolved-reference"
            );
        }
        let answer = held.ask("POST", endpoint, &[], event("7B-SCI", "Spring Term"));
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        // The student is resolved first, as before.
        let mut stranger = event("7B-SCIENCE", "Autumn Term");
        stranger["studentReference"]["studentUniqueId"] = json!("999999");
        let answer = held.ask("POST", endpoint, &[], stranger);
        let body = answer.body.unwrap();
        assert_eq!(
            body["detail"],
            "The referenced 'Student' item does not exist."
        );
    }
}
