//! The data management API, `/data/v3/ed-fi/{resource}[/{id}]`: the bearer check, then POST
//! (validate, resolve the student and any section referred to, upsert), GET by example with
//! paging, GET and DELETE by id. Descriptor endpoints (`…/attendanceEventCategoryDescriptors`)
//! are `descriptors`'s; `sections` are read only here, their items `sections`'s.
//! It answers as the ODS/API 7 does; the HTTP plumbing and the fault modes live elsewhere.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::Value;

use crate::auth::Tokens;
use crate::descriptors;
use crate::model::{Model, Reference, Resource, select};
use crate::problem;
use crate::sections;
use crate::store::{Store, Upsert};
use crate::validate::{plain, validate};
use rollcall_e2e::standin::http::{Answer, Request};

/// Where the data management API lives under the root.
pub const DATA_PREFIX: &str = "/data/v3/ed-fi/";
/// `DefaultPageSizeLimit` in the ODS's shipped appsettings.json: the largest and the default
/// `limit`.
const PAGE_LIMIT: usize = 500;

/// What the data API reads and changes.
#[derive(Debug)]
pub struct Data<'a> {
    pub model: &'a Model,
    pub students: &'a BTreeSet<String>,
    pub tokens: &'a Tokens,
    pub store: &'a mut Store,
    pub now: Instant,
}

/// Answers a request whose path starts with `DATA_PREFIX`; `root` is the server's own URL.
pub fn answer(data: Data<'_>, request: &Request, root: &str) -> Answer {
    let rest = request.path.strip_prefix(DATA_PREFIX).unwrap_or_default();
    let (endpoint, id) = match rest.split_once('/') {
        Some((endpoint, id)) if !id.is_empty() => (endpoint, Some(id)),
        Some((endpoint, _)) => (endpoint, None),
        None => (rest, None),
    };
    if let Err(refusal) = data
        .tokens
        .check(request.authorization.as_deref(), data.now)
    {
        return problem::unauthenticated(refusal.message());
    }
    if let Some(name) = descriptors::served_at(endpoint, &data.model.descriptors) {
        return descriptors::answer(&data.model.descriptors[name], request, id);
    }
    let Some(resource) = data.model.resources.get(endpoint) else {
        return problem::not_found();
    };
    let location = |id: &str| format!("{root}{DATA_PREFIX}{endpoint}/{id}");
    match (request.method.as_str(), id) {
        (method, _) if endpoint == sections::ENDPOINT && method != "GET" => {
            problem::method_not_allowed(
                "The stand-in's sections are read only: give them with --sections.",
            )
        }
        ("POST", None) => post(data, endpoint, resource, &request.body, location),
        ("GET", None) => get_many(data.store, endpoint, resource, &request.query),
        ("GET", Some(id)) => match guid(id) {
            Some(id) => data
                .store
                .get(endpoint, &id)
                .map_or_else(problem::item_not_found, |item| Answer::json(200, item)),
            None => malformed_id(id),
        },
        ("DELETE", Some(id)) => match guid(id) {
            Some(id) if data.store.delete(endpoint, &id) => Answer::empty(204),
            Some(_) => problem::item_not_found(),
            None => malformed_id(id),
        },
        ("POST", Some(_)) => problem::method_not_allowed(
            "Resource items can only be updated using PUT. To \"upsert\" an item in the \
             resource collection using POST, remove the \"id\" from the route.",
        ),
        ("DELETE", None) => problem::method_not_allowed(
            "Resource collections cannot be deleted. To delete a specific item, use DELETE and \
             include the \"id\" in the route.",
        ),
        (method, _) => problem::method_not_allowed(&format!(
            "The endpoint of the request does not support the '{method}' method."
        )),
    }
}

/// POST: checks, resolves the student, then creates (201) or updates (200) by natural key.
fn post(
    data: Data<'_>,
    endpoint: &str,
    resource: &Resource,
    body: &[u8],
    location: impl Fn(&str) -> String,
) -> Answer {
    if body.iter().all(u8::is_ascii_whitespace) {
        return problem::could_not_process("A non-empty request body is required.");
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return problem::could_not_process("The request body is not valid JSON.");
    };
    if !body.is_object() {
        return problem::could_not_process("The request body must be a JSON object.");
    }
    if body.get("id").is_some() {
        return problem::data_constructed_incorrectly(
            "Resource identifiers cannot be assigned by the client. The 'id' property should \
             not be included in the request body.",
        );
    }
    let errors = validate(resource, &data.model.descriptors, &body);
    if !errors.is_empty() {
        return problem::validation_failed(errors);
    }
    if let Some(path) = &resource.student_path {
        let student = select(&body, path);
        let known = student
            .first()
            .and_then(|(_, v)| v.as_str())
            .is_some_and(|s| data.students.contains(s));
        if !known {
            return problem::unresolved_reference("Student");
        }
    }
    let unresolved =
        (resource.references.iter()).find(|r| !resolves(data.model, data.store, r, &body));
    if let Some(reference) = unresolved {
        return problem::unresolved_reference(&reference.resource);
    }
    let (status, id) = match data.store.upsert(endpoint, resource, body) {
        Upsert::Created(id) => (201, id),
        Upsert::Updated(id) => (200, id),
    };
    Answer::empty(status).with_header("location", location(&id))
}

/// Whether `body`'s `reference` names an item the store holds: one whose values at the
/// reference's identity paths are those `body` gives. A reference `body` does not give is
/// not checked.
fn resolves(model: &Model, store: &Store, reference: &Reference, body: &Value) -> bool {
    let Some(endpoint) = model.endpoint_of(&reference.resource) else {
        return false;
    };
    let given: Vec<(&str, String)> = (reference.paths.iter())
        .filter_map(|(identity, at)| Some((identity.as_str(), plain(select(body, at).first()?.1))))
        .collect();
    if given.is_empty() {
        return true;
    }
    let same = |item: &Value| {
        given.iter().all(|(identity, value)| {
            let found = select(item, identity);
            found.first().is_some_and(|(_, v)| plain(v) == *value)
        })
    };
    store.any(endpoint, same)
}

/// GET by example: equality filters on the model's query fields, and paging.
fn get_many(
    store: &Store,
    endpoint: &str,
    resource: &Resource,
    query: &[(String, String)],
) -> Answer {
    let mut filters = Vec::new();
    let mut paging = Paging::default();
    for (name, value) in query {
        match paging.take(name, value) {
            Some(Ok(())) => {}
            Some(Err(answer)) => return answer,
            None => match filter(resource, name, value) {
                Ok(found) => filters.push(found),
                Err(answer) => return answer,
            },
        }
    }
    let keep = |item: &Value| filters.iter().all(|f| f.matches(item));
    let (count, page) = store.list(endpoint, keep, paging.offset, paging.limit);
    paging.answer(count, page)
}

/// `offset`, `limit` and `totalCount` of a GET of many.
#[derive(Debug)]
pub struct Paging {
    pub offset: usize,
    pub limit: usize,
    total: bool,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: PAGE_LIMIT,
            total: false,
        }
    }
}

impl Paging {
    /// Takes query parameter `name` if it is one of the three; `None` when it is not.
    pub fn take(&mut self, name: &str, value: &str) -> Option<Result<(), Answer>> {
        let taken = match name.to_ascii_lowercase().as_str() {
            "offset" => match value.parse::<i64>() {
                Ok(n) if n >= 0 => {
                    self.offset = usize::try_from(n).unwrap_or(usize::MAX);
                    Ok(())
                }
                Ok(_) => Err(problem::parameter_invalid(
                    "Offset cannot be a negative value.",
                )),
                Err(_) => Err(not_valid_for(name, value)),
            },
            "limit" => match value.parse::<i64>() {
                Ok(n) if (0..=PAGE_LIMIT as i64).contains(&n) => {
                    self.limit = n as usize;
                    Ok(())
                }
                Ok(_) => {
                    let error = format!("Limit must be a value between 0 and {PAGE_LIMIT}.");
                    Err(problem::parameter_invalid(&error))
                }
                Err(_) => Err(not_valid_for(name, value)),
            },
            "totalcount" => match value.to_ascii_lowercase().parse::<bool>() {
                Ok(asked) => {
                    self.total = asked;
                    Ok(())
                }
                Err(_) => Err(not_valid_for(name, value)),
            },
            _ => return None,
        };
        Some(taken)
    }

    /// `page` of a list of `count` items, with `Total-Count` when it was asked for.
    pub fn answer(&self, count: usize, page: Vec<Value>) -> Answer {
        let answer = Answer::json(200, Value::Array(page));
        if self.total {
            return answer.with_header("total-count", count.to_string());
        }
        answer
    }
}

/// One `name=value` condition of a GET by example.
#[derive(Debug)]
struct Filter {
    paths: Vec<String>,
    wanted: Wanted,
}

#[derive(Debug)]
enum Wanted {
    Number(f64),
    Text(String),
}

impl Filter {
    fn matches(&self, item: &Value) -> bool {
        let found = self.paths.iter().flat_map(|p| select(item, p)).next();
        match (&self.wanted, found) {
            (Wanted::Number(n), Some((_, v))) => v.as_f64() == Some(*n),
            (Wanted::Text(t), Some((_, v))) => plain(v) == *t,
            (_, None) => false,
        }
    }
}

/// The filter for query parameter `name` (matched without regard to case, as ASP.NET binds).
fn filter(resource: &Resource, name: &str, value: &str) -> Result<Filter, Answer> {
    let field = resource
        .query_fields
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name));
    let Some((known, paths)) = field else {
        let error = format!(
            "The query parameter '{name}' is not a property of {}; the stand-in refuses it.",
            resource.name
        );
        return Err(problem::parameter_invalid(&error));
    };
    let numeric = paths.iter().any(|(_, kind)| kind == "number");
    let wanted = if known == "id" {
        Wanted::Text(guid(value).ok_or_else(|| not_valid_for(known, value))?)
    } else if numeric {
        Wanted::Number(value.parse().map_err(|_| not_valid_for(known, value))?)
    } else {
        Wanted::Text(value.to_owned())
    };
    let paths = paths.iter().map(|(path, _)| path.clone()).collect();
    Ok(Filter { paths, wanted })
}

/// A resource id as the store keeps it (32 lower-case hex digits), from any GUID spelling.
pub fn guid(text: &str) -> Option<String> {
    uuid::Uuid::parse_str(text)
        .ok()
        .map(|id| id.simple().to_string())
}

pub fn malformed_id(id: &str) -> Answer {
    let mut errors = problem::ValidationErrors::new();
    errors.insert(
        "$.id".into(),
        vec![format!("The value '{id}' is not valid.")],
    );
    problem::validation_failed(errors)
}

fn not_valid_for(name: &str, value: &str) -> Answer {
    let mut shown = name.to_owned();
    if let Some(first) = shown.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let mut errors = problem::ValidationErrors::new();
    let message = format!("The value '{value}' is not valid for {shown}.");
    errors.insert(format!("$.{name}"), vec![message]);
    problem::validation_failed(errors)
}
