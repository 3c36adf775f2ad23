//! The Wonde endpoints of one school, `/v1.0/schools/{school_id}/…`: who may call them (the
//! school's token, as `Bearer` or as the Basic user with an empty password), reading students,
//! attendance codes and lessons a page at a time (a page's links keep the request's filters),
//! writing session and lesson registers, and reading the registers back. Fault modes and the
//! request record are `main`'s, not this module's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::answers::{self, Links};
use crate::lessons::{Asked, Lesson};
use crate::model::{Model, Register};
use crate::store::Store;
use crate::validate::{self, Known, Problems};
use rollcall_e2e::standin::http::{Answer, Request, basic_credentials};

/// One attendance code of the school, as `/attendance-codes` lists it.
#[derive(Clone, Debug)]
pub struct Code {
    pub id: String,
    pub code: String,
}

/// What the endpoints read and write.
#[derive(Debug)]
pub struct School<'a> {
    pub model: &'a Model,
    pub id: &'a str,
    pub token: &'a str,
    /// Wonde student id → MIS id.
    pub students: &'a BTreeMap<String, String>,
    pub codes: &'a [Code],
    pub lessons: &'a [Lesson],
    pub store: &'a mut Store,
}

/// Answers `request`; `root` is this server's URL for the pagination links.
pub fn answer(school: School<'_>, request: &Request, root: &str) -> Answer {
    if !authenticated(request, school.token) {
        return answers::unauthenticated();
    }
    let Some(rest) = request
        .path
        .strip_prefix(school.model.schools_prefix.as_str())
    else {
        return answers::not_found();
    };
    let (id, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if id != school.id {
        return answers::not_found();
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let model = school.model;
    let method = request.method.as_str();
    if rest == model.students_path || rest == model.codes_path {
        if method != "GET" {
            return answers::method_not_allowed("GET");
        }
        let items = if rest == model.students_path {
            students(school.students)
        } else {
            codes(school.codes)
        };
        return list(model, request, root, &[], items.len(), |o, l| {
            page_of(&items, o, l)
        });
    }
    if rest == model.lessons_path {
        if method != "GET" {
            return answers::method_not_allowed("GET");
        }
        return lessons(model, school.lessons, request, root);
    }
    let Some((name, register)) = model.register_at(rest) else {
        return answers::not_found();
    };
    match method {
        "GET" => {
            let store = &*school.store;
            let total = store.page(name, 0, 0).0;
            list(model, request, root, &[], total, |o, l| {
                store.page(name, o, l).1
            })
        }
        "POST" => write(school, request, name, register),
        _ => answers::method_not_allowed("GET, POST"),
    }
}

/// The school's token as `Authorization: Bearer T`, or `Basic base64(T:)`.
fn authenticated(request: &Request, token: &str) -> bool {
    let Some(value) = request.authorization.as_deref() else {
        return false;
    };
    if let Some((scheme, given)) = value.split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
    {
        return given.trim() == token;
    }
    basic_credentials(value).is_some_and(|(user, password)| user == token && password.is_empty())
}

fn students(students: &BTreeMap<String, String>) -> Vec<Value> {
    students
        .iter()
        .map(|(id, mis_id)| json!({"id": id, "mis_id": mis_id}))
        .collect()
}

fn codes(codes: &[Code]) -> Vec<Value> {
    codes
        .iter()
        .map(|c| json!({"id": c.id, "code": c.code}))
        .collect()
}

/// `GET …/lessons`: the lessons starting when the filters ask, a page at a time.
fn lessons(model: &Model, lessons: &[Lesson], request: &Request, root: &str) -> Answer {
    let (after, before) = (&model.lessons_after_param, &model.lessons_before_param);
    let asked = match Asked::parse(&request.query, after, before) {
        Ok(asked) => asked,
        Err(problems) => return answers::bad_request(problems),
    };
    let items: Vec<Value> = (lessons.iter())
        .filter(|l| asked.wants(l.start_at))
        .map(|l| l.item(asked.include_class))
        .collect();
    let filters = [after.as_str(), before.as_str()];
    list(model, request, root, &filters, items.len(), |o, l| {
        page_of(&items, o, l)
    })
}

fn page_of(items: &[Value], offset: usize, limit: usize) -> Vec<Value> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

/// One page of a list of `total` items; `fetch(offset, limit)` gives the page's items.
/// `filters`: the parameters this list takes besides the paging and `include`.
fn list(
    model: &Model,
    request: &Request,
    root: &str,
    filters: &[&str],
    total: usize,
    fetch: impl FnOnce(usize, usize) -> Vec<Value>,
) -> Answer {
    let (page, per_page) = match paging(model, &request.query, filters) {
        Ok(paging) => paging,
        Err(problems) => return answers::bad_request(problems),
    };
    let offset = (page - 1).saturating_mul(per_page);
    let (p, n) = (&model.page_param, &model.per_page_param);
    // The request's other parameters (filters, `include`) ride along to every page.
    let kept: String = (request.query.iter())
        .filter(|(name, _)| name != p && name != n)
        .map(|(name, value)| format!("&{}={}", encode(name), encode(value)))
        .collect();
    let link = |page: usize| format!("{root}{}?{p}={page}&{n}={per_page}{kept}", request.path);
    let links = Links {
        next: (offset.saturating_add(per_page) < total).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
    };
    answers::list(fetch(offset, per_page), links)
}

/// `text` for a query string: every byte but the unreserved ones (RFC 3986) as `%XX`.
fn encode(text: &str) -> String {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    (text.bytes())
        .map(|b| match unreserved(b) {
            true => char::from(b).to_string(),
            false => format!("%{b:02X}"),
        })
        .collect()
}

/// `page` (from 1) and `per_page` (1 to the model's maximum). `include` and the list's
/// `filters` are taken and left to the list (only lessons embed what `include` names); any
/// other parameter is refused.
fn paging(
    model: &Model,
    query: &[(String, String)],
    filters: &[&str],
) -> Result<(usize, usize), Problems> {
    let mut page = 1;
    let mut per_page = model.per_page_default;
    let mut problems = Problems::new();
    for (name, value) in query {
        let number = value.parse::<usize>().ok();
        if *name == model.page_param {
            match number.filter(|n| *n >= 1 && *n <= u32::MAX as usize) {
                Some(n) => page = n,
                None => add(&mut problems, name, "must be a whole number from 1."),
            }
        } else if *name == model.per_page_param {
            match number.filter(|n| (1..=model.per_page_max).contains(n)) {
                Some(n) => per_page = n,
                None => {
                    let max = model.per_page_max;
                    add(
                        &mut problems,
                        name,
                        &format!("must be a whole number from 1 to {max}."),
                    );
                }
            }
        } else if name != "include" && !filters.contains(&name.as_str()) {
            add(
                &mut problems,
                name,
                "is not a parameter the stand-in knows.",
            );
        }
    }
    if problems.is_empty() {
        Ok((page, per_page))
    } else {
        Err(problems)
    }
}

fn add(problems: &mut Problems, name: &str, message: &str) {
    let message = format!("The {name} parameter {message}");
    problems.entry(name.to_owned()).or_default().push(message);
}

/// `POST` of a register: checked whole, then every mark written, or nothing.
fn write(school: School<'_>, request: &Request, name: &str, register: &Register) -> Answer {
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(e) => {
            let message = format!("The body is not JSON: {e}.");
            return answers::bad_request(Problems::from([("body".to_owned(), vec![message])]));
        }
    };
    let student_ids: BTreeSet<String> = school.students.keys().cloned().collect();
    let code_ids: BTreeSet<String> = school.codes.iter().map(|c| c.id.clone()).collect();
    let lesson_ids: BTreeSet<String> = school.lessons.iter().map(|l| l.id.clone()).collect();
    let known = Known {
        students: &student_ids,
        codes: &code_ids,
        lessons: &lesson_ids,
    };
    match validate::validate(school.model, register, &known, &body) {
        Ok(records) => answers::written(&school.store.write(name, register, records)),
        Err(problems) => answers::invalid(school.model.validation_status, problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(authorization: Option<&str>) -> Request {
        Request {
            method: "GET".to_owned(),
            path: "/".to_owned(),
            query: Vec::new(),
            authorization: authorization.map(str::to_owned),
            content_type: None,
            host: None,
            body: Vec::new(),
        }
    }

    fn model() -> Model {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        Model::load(&path.join("standins/wonde/model.json")).unwrap()
    }

    fn get(path: &str, query: &[(&str, &str)]) -> Request {
        let mut request = request(None);
        request.path = path.to_owned();
        let pairs = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        request.query = pairs.collect();
        request
    }

    /// Lessons `L00`, `L01`, … of class `C`, one an hour from 2026-11-23 00:00.
    fn timetable(n: u32) -> Vec<Lesson> {
        let class = crate::lessons::Class {
            id: "C".to_owned(),
            mis_id: "7B".to_owned(),
            name: "7B".to_owned(),
        };
        let midnight = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let hour = chrono::TimeDelta::hours(1);
        let lesson = |i: u32| Lesson {
            id: format!("L{i:02}"),
            class: class.clone(),
            start_at: midnight + hour * i as i32,
            end_at: midnight + hour * (i as i32 + 1),
        };
        (0..n).map(lesson).collect()
    }

    #[test]
    fn lessons_are_filtered_by_start_and_their_pages_keep_the_filters() {
        let model = model();
        let lessons = timetable(48);
        let query = [
            ("lessons_start_after", "2026-11-23 09:00:00"),
            ("lessons_start_before", "2026-11-24"),
            ("include", "class"),
            ("per_page", "10"),
        ];
        let request = get("/v1.0/schools/S/lessons", &query);
        let body = lessons_of(&model, &lessons, &request);
        let data = body["data"].as_array().unwrap();
        assert_eq!((data.len(), &data[0]["id"]), (10, &json!("L09")));
        assert_eq!(data[0]["class"]["data"]["mis_id"], "7B");
        let next = body["meta"]["pagination"]["next"].as_str().unwrap();
        assert_eq!(
            next,
            "http://x/v1.0/schools/S/lessons?page=2&per_page=10\
             &lessons_start_after=2026-11-23%2009%3A00%3A00&lessons_start_before=2026-11-24\
             &include=class"
        );
        let second = [("page", "2"), ("per_page", "10"), query[0], query[1]];
        let body = lessons_of(&model, &lessons, &get("/v1.0/schools/S/lessons", &second));
        let ids: Vec<&str> = (body["data"].as_array().unwrap().iter())
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["L19", "L20", "L21", "L22", "L23"]);
        assert_eq!(body["meta"]["pagination"]["next"], Value::Null);
        assert_eq!(body["data"][0]["class"], "C", "no include: the class's id");
    }

    fn lessons_of(model: &Model, lessons: &[Lesson], request: &Request) -> Value {
        let answer = super::lessons(model, lessons, request, "http://x");
        assert_eq!(answer.status, 200);
        answer.body.unwrap()
    }

    #[test]
    fn a_bad_filter_or_a_filter_on_another_list_is_refused() {
        let model = model();
        let bad = get("/", &[("lessons_start_after", "23/11/2026")]);
        let answer = super::lessons(&model, &[], &bad, "http://x");
        assert_eq!(answer.status, 400);
        let errors = &answer.body.unwrap()["errors"];
        assert!(errors["lessons_start_after"].is_array(), "{errors}");
        let students = get("/", &[("lessons_start_after", "2026-11-23")]);
        let answer = list(&model, &students, "http://x", &[], 0, |_, _| Vec::new());
        assert_eq!(answer.status, 400);
    }

    #[test]
    fn the_token_is_taken_as_bearer_or_as_the_basic_user() {
        assert!(authenticated(&request(Some("Bearer t0k")), "t0k"));
        assert!(authenticated(&request(Some("bearer t0k")), "t0k"));
        // base64("t0k:") and base64("t0k:pw").
        assert!(authenticated(&request(Some("Basic dDBrOg==")), "t0k"));
        assert!(!authenticated(&request(Some("Basic dDBrOnB3")), "t0k"));
        assert!(!authenticated(&request(Some("Bearer other")), "t0k"));
        assert!(!authenticated(&request(Some("t0k")), "t0k"));
        assert!(!authenticated(&request(None), "t0k"));
    }
}
