//! The Wonde endpoints of one school, `/v1.0/schools/{school_id}/…`: who may call them (the
//! school's token, as `Bearer` or as the Basic user with an empty password), reading students
//! and attendance codes a page at a time, writing session and lesson registers, and reading
//! the registers back. Fault modes and the request record are `main`'s, not this module's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::answers::{self, Links};
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
        return list(model, request, root, items.len(), |o, l| {
            page_of(&items, o, l)
        });
    }
    let Some((name, register)) = model.register_at(rest) else {
        return answers::not_found();
    };
    match method {
        "GET" => {
            let store = &*school.store;
            let total = store.page(name, 0, 0).0;
            list(model, request, root, total, |o, l| store.page(name, o, l).1)
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

fn page_of(items: &[Value], offset: usize, limit: usize) -> Vec<Value> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

/// One page of a list of `total` items; `fetch(offset, limit)` gives the page's items.
fn list(
    model: &Model,
    request: &Request,
    root: &str,
    total: usize,
    fetch: impl FnOnce(usize, usize) -> Vec<Value>,
) -> Answer {
    let (page, per_page) = match paging(model, &request.query) {
        Ok(paging) => paging,
        Err(problems) => return answers::bad_request(problems),
    };
    let offset = (page - 1).saturating_mul(per_page);
    let link = |page: usize| {
        let (p, n) = (&model.page_param, &model.per_page_param);
        format!("{root}{}?{p}={page}&{n}={per_page}", request.path)
    };
    let links = Links {
        next: (offset.saturating_add(per_page) < total).then(|| link(page + 1)),
        previous: (page > 1).then(|| link(page - 1)),
    };
    answers::list(fetch(offset, per_page), links)
}

/// `page` (from 1) and `per_page` (1 to the model's maximum); `include` is taken and ignored.
fn paging(model: &Model, query: &[(String, String)]) -> Result<(usize, usize), Problems> {
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
        } else if name != "include" {
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
    let known = Known {
        students: &student_ids,
        codes: &code_ids,
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
