//! Checks one register body (`{"attendance": [record, …]}`) against a register of the model:
//! the batch shape, each record's required fields, JSON types, `Y-m-d` dates, session values,
//! no unknown members, and that the student, attendance code and lesson are the school's. Pure: a body
//! in, the records or the problems out, keyed by the path of what is wrong
//! (`attendance.0.session`). The wording is the stand-in's own (see SOURCE.md).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::model::{Field, Kind, Model, Register};

/// Messages keyed by the path they are about.
pub type Problems = BTreeMap<String, Vec<String>>;

/// One checked record: only the register's fields, as sent.
pub type Record = Map<String, Value>;

/// The ids a body may name.
#[derive(Debug)]
pub struct Known<'a> {
    pub students: &'a BTreeSet<String>,
    pub codes: &'a BTreeSet<String>,
    pub lessons: &'a BTreeSet<String>,
}

/// The records of `body`, or every problem with it.
pub fn validate(
    model: &Model,
    register: &Register,
    known: &Known<'_>,
    body: &Value,
) -> Result<Vec<Record>, Problems> {
    let mut problems = Problems::new();
    let batch = &register.batch_member;
    let Some(members) = body.as_object() else {
        add(
            &mut problems,
            batch,
            format!("The body must be a JSON object with {batch}."),
        );
        return Err(problems);
    };
    for name in members.keys().filter(|k| *k != batch) {
        add(
            &mut problems,
            name,
            format!("'{name}' is not a member of this register; remove it."),
        );
    }
    let records = match members.get(batch) {
        None | Some(Value::Null) => {
            add(
                &mut problems,
                batch,
                format!("The {batch} field is required."),
            );
            return Err(problems);
        }
        Some(Value::Array(items)) if items.is_empty() => {
            add(
                &mut problems,
                batch,
                format!("The {batch} field must hold at least one record."),
            );
            return Err(problems);
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            add(
                &mut problems,
                batch,
                format!("The {batch} field must be a JSON array."),
            );
            return Err(problems);
        }
    };
    let checked: Vec<Record> = records
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let at = format!("{batch}.{i}");
            check_record(model, register, known, item, &at, &mut problems)
        })
        .collect();
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

fn add(problems: &mut Problems, path: &str, message: String) {
    problems.entry(path.to_owned()).or_default().push(message);
}

/// One record at `at`; `None` when it has problems (added to `problems`).
fn check_record(
    model: &Model,
    register: &Register,
    known: &Known<'_>,
    item: &Value,
    at: &str,
    problems: &mut Problems,
) -> Option<Record> {
    let before = problems.len();
    let Some(members) = item.as_object() else {
        add(
            problems,
            at,
            "Each record must be a JSON object.".to_owned(),
        );
        return None;
    };
    for name in members.keys() {
        if !register.fields.iter().any(|f| &f.name == name) {
            let path = format!("{at}.{name}");
            add(
                problems,
                &path,
                format!("'{name}' is not a field of this register; remove it."),
            );
        }
    }
    let mut record = Record::new();
    for field in &register.fields {
        let path = format!("{at}.{}", field.name);
        match members.get(&field.name) {
            None | Some(Value::Null) if field.required => {
                add(
                    problems,
                    &path,
                    format!("The {} field is required.", field.name),
                );
            }
            None | Some(Value::Null) => {}
            Some(value) => match check_value(model, field, value) {
                Ok(()) => {
                    record.insert(field.name.clone(), value.clone());
                }
                Err(message) => add(problems, &path, message),
            },
        }
    }
    if problems.len() > before {
        return None;
    }
    check_known(model, known, &record, at, problems);
    (problems.len() == before).then_some(record)
}

/// `value` of `field` against its kind.
fn check_value(model: &Model, field: &Field, value: &Value) -> Result<(), String> {
    let name = &field.name;
    if field.kind == Kind::Count {
        return match value.as_u64() {
            Some(_) => Ok(()),
            None => Err(format!(
                "The {name} field must be a whole number, 0 or more."
            )),
        };
    }
    let Some(text) = value.as_str() else {
        return Err(format!("The {name} field must be a string."));
    };
    match field.kind {
        Kind::Id if text.trim().is_empty() => Err(format!("The {name} field must not be empty.")),
        Kind::Date if !is_date(text) => Err(format!(
            "The {name} field must be a date written Y-m-d (2024-09-03)."
        )),
        Kind::Session if !model.sessions.iter().any(|s| s == text) => Err(format!(
            "The {name} field must be one of: {}.",
            model.sessions.join(", ")
        )),
        _ => Ok(()),
    }
}

/// `2024-09-03`: four-digit year, two-digit month and day, a real day.
fn is_date(text: &str) -> bool {
    let shaped = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    shaped && NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// The student, code and (in a lesson register) lesson a checked record names must be the
/// school's.
fn check_known(
    model: &Model,
    known: &Known<'_>,
    record: &Record,
    at: &str,
    problems: &mut Problems,
) {
    let wanted = [
        (&model.student_field, known.students, "student"),
        (&model.code_field, known.codes, "attendance code"),
        (&model.lesson_field, known.lessons, "lesson"),
    ];
    // Only a lesson register's records name a lesson.
    let named = (wanted.into_iter())
        .filter(|(name, ..)| **name != model.lesson_field || record.contains_key(name.as_str()));
    for (name, ids, what) in named {
        let id = record
            .get(name.as_str())
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !ids.contains(id) {
            let path = format!("{at}.{name}");
            add(
                problems,
                &path,
                format!("The {name} field names no {what} of this school: '{id}'."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    fn model() -> Model {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/wonde/model.json");
        Model::load(&path).unwrap()
    }

    fn check(register: &str, body: &Value) -> Result<Vec<Record>, Problems> {
        let model = model();
        let students = BTreeSet::from(["A1".to_owned()]);
        let codes = BTreeSet::from(["C1".to_owned()]);
        let lessons = BTreeSet::from(["L1".to_owned()]);
        let known = Known {
            students: &students,
            codes: &codes,
            lessons: &lessons,
        };
        validate(&model, &model.registers[register], &known, body)
    }

    fn mark() -> Value {
        json!({"student_id": "A1", "date": "2024-09-03", "session": "AM", "attendance_code_id": "C1"})
    }

    #[test]
    fn a_complete_session_register_passes() {
        let mut full = mark();
        full["comment"] = json!("Arrived with a note");
        full["minutes_late"] = json!(10);
        let records = check("session", &json!({"attendance": [mark(), full]})).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["minutes_late"], json!(10));
    }

    #[test]
    fn each_kind_of_problem_is_named_by_its_path() {
        let mut bad = mark();
        bad["session"] = json!("EVE");
        bad["date"] = json!("3/9/2024");
        bad["attendance_code_id"] = json!(7);
        bad.as_object_mut().unwrap().remove("student_id");
        bad["colour"] = json!("red");
        let problems = check("session", &json!({"attendance": [mark(), bad]})).unwrap_err();
        let paths: Vec<_> = problems.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "attendance.1.attendance_code_id",
                "attendance.1.colour",
                "attendance.1.date",
                "attendance.1.session",
                "attendance.1.student_id"
            ]
        );
        assert_eq!(
            problems["attendance.1.student_id"],
            ["The student_id field is required."]
        );
    }

    #[test]
    fn students_and_codes_must_be_the_schools() {
        let mut stranger = mark();
        stranger["student_id"] = json!("A9");
        stranger["attendance_code_id"] = json!("C9");
        let problems = check("session", &json!({"attendance": [stranger]})).unwrap_err();
        assert!(problems["attendance.0.student_id"][0].contains("no student"));
        assert!(problems["attendance.0.attendance_code_id"][0].contains("no attendance code"));
    }

    #[test]
    fn a_lesson_must_be_the_schools() {
        let lesson =
            |id: &str| json!({"lesson_id": id, "student_id": "A1", "attendance_code_id": "C1"});
        let records = check("lesson", &json!({"attendance": [lesson("L1")]})).unwrap();
        assert_eq!(records[0]["lesson_id"], "L1");
        let body = json!({"attendance": [lesson("L1"), lesson("L9")]});
        let problems = check("lesson", &body).unwrap_err();
        assert_eq!(
            problems,
            Problems::from([(
                "attendance.1.lesson_id".to_owned(),
                vec!["The lesson_id field names no lesson of this school: 'L9'.".to_owned()]
            )])
        );
    }

    #[test]
    fn the_batch_shape_is_checked() {
        for body in [
            json!([mark()]),
            json!({}),
            json!({"attendance": []}),
            json!({"attendance": {}}),
        ] {
            let problems = check("session", &body).unwrap_err();
            assert!(problems.contains_key("attendance"), "{body}");
        }
        let problems = check("lesson", &json!({"attendance": [mark()]})).unwrap_err();
        assert!(problems.contains_key("attendance.0.lesson_id"));
        assert!(problems.contains_key("attendance.0.session"));
    }

    #[test]
    fn dates_must_be_real_and_written_y_m_d() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2024-9-3"));
        assert!(!is_date("2024-09-03T00:00"));
        assert!(!is_date("२०२४-०९-०३"));
    }
}
