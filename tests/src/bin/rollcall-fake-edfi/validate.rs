//! Checks one POST body against a resource of the model: the insert schema (required members,
//! JSON types, lengths, ranges, date and time formats, no unknown members), descriptor values,
//! and key unification. Pure: a body in, the ODS-style `validationErrors` out. Messages are the
//! ODS/API 7 wording where upstream spells one (see SOURCE.md), plain English where not.

use chrono::{NaiveDate, NaiveTime};
use serde_json::Value;

use crate::model::{Descriptors, NO_EDGE_WHITESPACE, Resource, select};
use crate::problem::ValidationErrors;

/// Every problem with `body` as a resource of `resource`; empty when it may be stored.
pub fn validate(resource: &Resource, descriptors: &Descriptors, body: &Value) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    check(&resource.schema, body, "$", "", true, &mut errors);
    if errors.is_empty() {
        check_descriptors(resource, descriptors, body, &mut errors);
        check_unified_keys(resource, body, &mut errors);
    }
    errors
}

/// `Name` for member `name`: the ODS names members as its C# properties do.
fn display(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn add(errors: &mut ValidationErrors, path: &str, message: String) {
    errors.entry(path.to_owned()).or_default().push(message);
}

/// `value` at `path` (member `name`) against `schema`.
fn check(
    schema: &Value,
    value: &Value,
    path: &str,
    name: &str,
    required: bool,
    errors: &mut ValidationErrors,
) {
    let shown = display(name);
    match schema["type"].as_str().unwrap_or_default() {
        "object" => match value.as_object() {
            Some(members) => check_members(schema, members, path, errors),
            None => add(errors, path, format!("{shown} must be a JSON object.")),
        },
        "array" => match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(
                        &schema["items"],
                        item,
                        &format!("{path}[{i}]"),
                        name,
                        true,
                        errors,
                    );
                }
            }
            None => add(errors, path, format!("{shown} must be a JSON array.")),
        },
        "string" => match value.as_str() {
            Some(text) => check_string(schema, text, path, &shown, required, errors),
            None => add(errors, path, format!("{shown} must be a JSON string.")),
        },
        "integer" => match value.as_i64() {
            Some(n) => check_range(schema, n as f64, path, &shown, errors),
            None => add(errors, path, format!("{shown} must be a whole number.")),
        },
        "number" => match value.as_f64() {
            Some(n) => check_range(schema, n, path, &shown, errors),
            None => add(errors, path, format!("{shown} must be a number.")),
        },
        _ => {
            if !value.is_boolean() {
                add(errors, path, format!("{shown} must be true or false."));
            }
        }
    }
}

/// Required members present, known members only, each member checked.
fn check_members(
    schema: &Value,
    members: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut ValidationErrors,
) {
    let empty = serde_json::Map::new();
    let properties = schema["properties"].as_object().unwrap_or(&empty);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in &required {
        if members.get(*name).is_none_or(Value::is_null) {
            add(
                errors,
                &format!("{path}.{name}"),
                format!("{} is required.", display(name)),
            );
        }
    }
    for (name, value) in members {
        let at = format!("{path}.{name}");
        match properties.get(name) {
            Some(_) if value.is_null() => {}
            Some(property) => check(
                property,
                value,
                &at,
                name,
                required.contains(&name.as_str()),
                errors,
            ),
            None if schema["additionalProperties"] == Value::Bool(false) => add(
                errors,
                &at,
                format!("'{name}' is not a member of this resource; remove it."),
            ),
            None => {}
        }
    }
}

fn check_string(
    schema: &Value,
    text: &str,
    path: &str,
    shown: &str,
    required: bool,
    errors: &mut ValidationErrors,
) {
    if required && text.trim().is_empty() {
        add(
            errors,
            path,
            format!("{shown} is required and should not be left empty."),
        );
        return;
    }
    if let Some(max) = schema["maxLength"].as_u64()
        && text.chars().count() as u64 > max
    {
        add(
            errors,
            path,
            format!("{shown} must be at most {max} characters in length."),
        );
    }
    if schema["pattern"].as_str() == Some(NO_EDGE_WHITESPACE) && text.trim() != text {
        add(
            errors,
            path,
            format!("{shown} must not begin or end with whitespace."),
        );
    }
    match schema["format"].as_str() {
        Some("date") if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
            add(
                errors,
                path,
                format!("{shown} must be a date written yyyy-mm-dd."),
            );
        }
        Some("time") if NaiveTime::parse_from_str(text, "%H:%M:%S%.f").is_err() => {
            add(
                errors,
                path,
                format!("{shown} must be a time of day written hh:mm:ss."),
            );
        }
        _ => {}
    }
}

fn check_range(schema: &Value, n: f64, path: &str, shown: &str, errors: &mut ValidationErrors) {
    let (min, max) = match schema["format"].as_str() {
        Some("int32") => (Some(f64::from(i32::MIN)), Some(f64::from(i32::MAX))),
        _ => (None, None),
    };
    let min = schema["minimum"].as_f64().or(min);
    let max = schema["maximum"].as_f64().or(max);
    let below = min.is_some_and(|m| n < m);
    let above = max.is_some_and(|m| n > m);
    if below || above {
        let message = match (min, max) {
            (Some(lo), Some(hi)) => format!("{shown} must be between {lo} and {hi}."),
            (Some(lo), None) => format!("{shown} must be greater than or equal to {lo}."),
            (None, Some(hi)) => format!("{shown} must be less than or equal to {hi}."),
            (None, None) => return,
        };
        add(errors, path, message);
    }
}

/// Descriptor values in URI form and among the configured values.
fn check_descriptors(
    resource: &Resource,
    descriptors: &Descriptors,
    body: &Value,
    errors: &mut ValidationErrors,
) {
    for (path, descriptor) in &resource.descriptor_paths {
        for (at, value) in select(body, path) {
            let Some(uri) = value.as_str() else { continue };
            let known = descriptors.get(descriptor).is_some_and(|d| d.contains(uri));
            let message = if !uri.contains('#') {
                format!(
                    "{descriptor} value '{uri}' is not a valid value for use as a descriptor \
                     (a '#' is expected to delineate the namespace and code value portions)."
                )
            } else if !known {
                format!("{descriptor} value '{uri}' does not exist.")
            } else {
                continue;
            };
            add(errors, &at, message);
        }
    }
}

/// Values that upstream unifies into one key column must agree.
fn check_unified_keys(resource: &Resource, body: &Value, errors: &mut ValidationErrors) {
    for (source, target) in &resource.equality {
        let found: Vec<_> = select(body, target)
            .into_iter()
            .chain(select(body, source))
            .collect();
        let mut values: Vec<String> = found.iter().map(|(_, v)| plain(v)).collect();
        values.sort();
        values.dedup();
        if values.len() < 2 {
            continue;
        }
        let name = target.rsplit('.').next().unwrap_or(target);
        let listed = values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>();
        let message = format!(
            "All values supplied for '{name}' must match. Review all references and align the \
             following conflicting values: {}",
            listed.join(", ")
        );
        for (at, _) in &found {
            add(errors, at, message.clone());
        }
    }
}

/// A scalar as the ODS prints it in messages: strings without quotes.
pub fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::model::Model;

    fn model() -> Model {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/edfi/model.json");
        Model::load(&path).unwrap()
    }

    fn school_event() -> Value {
        json!({
            "studentReference": {"studentUniqueId": "604822"},
            "schoolReference": {"schoolId": 255901001},
            "sessionReference": {"schoolId": 255901001, "schoolYear": 2025, "sessionName": "Fall"},
            "eventDate": "2024-09-03",
            "attendanceEventCategoryDescriptor":
                "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"
        })
    }

    fn errors_for(body: &Value) -> ValidationErrors {
        let model = model();
        let resource = &model.resources["studentSchoolAttendanceEvents"];
        validate(resource, &model.descriptors, body)
    }

    #[test]
    fn a_complete_event_passes() {
        assert_eq!(errors_for(&school_event()), ValidationErrors::new());
    }

    #[test]
    fn each_kind_of_problem_is_named_by_its_path() {
        let mut body = school_event();
        body["sessionReference"]["schoolYear"] = json!(1800);
        body["eventDate"] = json!("3 Sept");
        body["studentReference"] = json!({});
        body["extra"] = json!(1);
        let errors = errors_for(&body);
        let paths: Vec<_> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "$.eventDate",
                "$.extra",
                "$.sessionReference.schoolYear",
                "$.studentReference.studentUniqueId"
            ]
        );
        assert_eq!(
            errors["$.studentReference.studentUniqueId"],
            ["StudentUniqueId is required."]
        );
    }

    #[test]
    fn descriptors_must_be_uris_that_exist() {
        let mut body = school_event();
        body["attendanceEventCategoryDescriptor"] = json!("Excused Absence");
        let errors = errors_for(&body);
        assert!(errors["$.attendanceEventCategoryDescriptor"][0].contains("a '#' is expected"));
        body["attendanceEventCategoryDescriptor"] =
            json!("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Sunny");
        let errors = errors_for(&body);
        assert!(errors["$.attendanceEventCategoryDescriptor"][0].ends_with("does not exist."));
    }

    #[test]
    fn unified_school_ids_must_agree() {
        let mut body = school_event();
        body["sessionReference"]["schoolId"] = json!(7);
        let errors = errors_for(&body);
        assert_eq!(errors.len(), 2);
        assert!(errors["$.schoolReference.schoolId"][0].ends_with("'255901001', '7'"));
    }
}
