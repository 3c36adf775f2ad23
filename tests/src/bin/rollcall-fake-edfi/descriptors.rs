//! The descriptor endpoints, `/data/v3/ed-fi/{xyz}Descriptors[/{id}]`, read only: GET lists the
//! values the model (or `--descriptors`) holds for `XyzDescriptor` a page at a time, and GET by
//! id gives one. An item carries `id`, `namespace`, `codeValue`, `shortDescription` and
//! `description`, members every Ed-Fi descriptor has (SOURCE.md). Both descriptions repeat the
//! code value, and the ids are the stand-in's own: the same for a value in every run of one
//! build. Values cannot be added, changed or deleted here.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Value, json};

use crate::model::Descriptors;
use crate::ods::{Paging, guid, malformed_id};
use crate::problem;
use rollcall_e2e::standin::http::{Answer, Request};

/// The descriptor `endpoint` serves (`attendanceEventCategoryDescriptors` →
/// `AttendanceEventCategoryDescriptor`), if the model has values for it.
pub fn served_at<'a>(endpoint: &str, descriptors: &'a Descriptors) -> Option<&'a str> {
    let singular = endpoint.strip_suffix('s')?;
    let mut chars = singular.chars();
    let first = chars.next()?;
    let name: String = first.to_uppercase().chain(chars).collect();
    let (name, _) = descriptors.get_key_value(&name)?;
    name.ends_with("Descriptor").then_some(name.as_str())
}

/// Answers `request` for a descriptor whose values (full URIs) are `values`; `id` is the
/// route's item id, if any.
pub fn answer(values: &BTreeSet<String>, request: &Request, id: Option<&str>) -> Answer {
    let items: Vec<Value> = values.iter().map(|uri| item(uri)).collect();
    match (request.method.as_str(), id) {
        ("GET", None) => list(items, &request.query),
        ("GET", Some(id)) => match guid(id) {
            Some(id) => items
                .into_iter()
                .find(|item| item["id"] == id.as_str())
                .map_or_else(problem::item_not_found, |item| Answer::json(200, item)),
            None => malformed_id(id),
        },
        _ => problem::method_not_allowed(
            "The stand-in serves descriptors to read only: it takes GET and nothing else.",
        ),
    }
}

/// One page of `items`: `offset`, `limit` and `totalCount` as for resources; no filters.
fn list(items: Vec<Value>, query: &[(String, String)]) -> Answer {
    let mut paging = Paging::default();
    for (name, value) in query {
        match paging.take(name, value) {
            Some(Ok(())) => {}
            Some(Err(answer)) => return answer,
            None => {
                let error = format!(
                    "The query parameter '{name}' is not one the stand-in takes for descriptors \
                     (offset, limit, totalCount); the stand-in refuses it."
                );
                return problem::parameter_invalid(&error);
            }
        }
    }
    let count = items.len();
    let page = items
        .into_iter()
        .skip(paging.offset)
        .take(paging.limit)
        .collect();
    paging.answer(count, page)
}

/// A value as the ODS lists it, from its URI (`namespace#codeValue`).
fn item(uri: &str) -> Value {
    let (namespace, code_value) = uri.split_once('#').unwrap_or(("", uri));
    json!({
        "id": id_of(uri),
        "namespace": namespace,
        "codeValue": code_value,
        "shortDescription": code_value,
        "description": code_value,
    })
}

/// A GUID (32 hex digits, as the ODS writes ids) made from the value's URI.
fn id_of(uri: &str) -> String {
    let half = |seed: u8| {
        let mut hasher = DefaultHasher::new();
        seed.hash(&mut hasher);
        uri.hash(&mut hasher);
        hasher.finish()
    };
    uuid::Uuid::from_u64_pair(half(1), half(2))
        .simple()
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::Model;

    fn model() -> Model {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/edfi/model.json");
        Model::load(&path).unwrap()
    }

    fn get(query: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".to_owned(),
            path: "/data/v3/ed-fi/attendanceEventCategoryDescriptors".to_owned(),
            query: query
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            authorization: None,
            content_type: None,
            host: None,
            body: Vec::new(),
        }
    }

    #[test]
    fn each_descriptor_is_served_at_its_plural_camel_case_name() {
        let model = model();
        let served = |endpoint| served_at(endpoint, &model.descriptors);
        assert_eq!(
            served("attendanceEventCategoryDescriptors"),
            Some("AttendanceEventCategoryDescriptor")
        );
        assert_eq!(
            served("educationalEnvironmentDescriptors"),
            Some("EducationalEnvironmentDescriptor")
        );
        for not_one in [
            "studentSchoolAttendanceEvents",
            "attendanceEventCategoryDescriptor",
            "s",
            "",
        ] {
            assert_eq!(served(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn values_are_listed_a_page_at_a_time_and_found_by_id() {
        let model = model();
        let values = &model.descriptors["AttendanceEventCategoryDescriptor"];
        let all = answer(values, &get(&[("totalCount", "true")]), None);
        assert_eq!(all.headers, [("total-count", values.len().to_string())]);
        let items = all.body.unwrap();
        let tardy = items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["codeValue"] == "Tardy")
            .unwrap()
            .clone();
        assert_eq!(
            tardy["namespace"],
            "uri://ed-fi.org/AttendanceEventCategoryDescriptor"
        );
        assert_eq!(tardy["shortDescription"], "Tardy");
        let page = answer(values, &get(&[("offset", "5"), ("limit", "5")]), None);
        assert_eq!(
            page.body.unwrap().as_array().unwrap().len(),
            values.len() - 5
        );
        let id = tardy["id"].as_str().unwrap();
        let one = answer(values, &get(&[]), Some(id));
        assert_eq!(one.body.unwrap(), tardy);
        let again = answer(values, &get(&[]), None).body.unwrap();
        assert_eq!(again, items, "ids are the same on every call");
    }

    #[test]
    fn anything_but_reading_is_refused() {
        let model = model();
        let values = &model.descriptors["AttendanceEventCategoryDescriptor"];
        assert_eq!(
            answer(values, &get(&[("codeValue", "Tardy")]), None).status,
            400
        );
        assert_eq!(answer(values, &get(&[]), Some("nope")).status, 400);
        let absent = "0123456789abcdef0123456789abcdef";
        assert_eq!(answer(values, &get(&[]), Some(absent)).status, 404);
        let mut post = get(&[]);
        post.method = "POST".to_owned();
        assert_eq!(answer(values, &post, None).status, 405);
    }
}
