//! The school's timetable: the lessons of `--lessons FILE`, each of one class, with when it
//! starts and ends in the school's own time. A lesson is given as
//! `{"id", "class": {"id", "mis_id", "name"}, "start_at": "Y-m-d H:i:s", "end_at": "…"}` and
//! served as `GET …/lessons` lists it: `start_at` and `end_at` as
//! `{"date": "Y-m-d H:i:s.000000", "timezone_type": 3, "timezone": "Europe/London"}`, `class`
//! as the class's id, or as `{"data": {"id", "mis_id", "name"}}` with `include=class`. The list's
//! filters `lessons_start_after` and `lessons_start_before` are read here. The served shape is
//! the one third-party clients read (SOURCE.md); the ids are not anyone's.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, ensure};
use chrono::NaiveDateTime;
use rollcall_e2e::standin::json;
use serde_json::{Value, json};

use crate::validate::Problems;

/// The timezone every served time names: the stand-in's school is in England.
const TIMEZONE: &str = "Europe/London";
/// How a lesson's times are given, and how a filter may be written.
const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S";

/// The class a lesson is of.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    pub id: String,
    pub mis_id: String,
    pub name: String,
}

/// One lesson of the timetable.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub id: String,
    pub class: Class,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
}

impl Lesson {
    /// The lesson as `GET …/lessons` lists it, its class embedded when `include_class`.
    pub fn item(&self, include_class: bool) -> Value {
        let class = &self.class;
        let class = if include_class {
            json!({"data": {"id": class.id, "mis_id": class.mis_id, "name": class.name}})
        } else {
            json!(class.id)
        };
        json!({"id": self.id, "class": class, "start_at": served(self.start_at),
            "end_at": served(self.end_at)})
    }
}

/// `{"date": "2026-11-23 09:00:00.000000", "timezone_type": 3, "timezone": …}`.
fn served(at: NaiveDateTime) -> Value {
    let date = at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    json!({"date": date, "timezone_type": 3, "timezone": TIMEZONE})
}

/// The lessons of `path`; ids must be distinct.
pub fn load(path: &Path) -> anyhow::Result<Vec<Lesson>> {
    json::load(path, "lessons", from_json)
}

/// The lessons of `json`, a list of `--lessons`' items; ids must be distinct.
pub fn from_json(json: &Value) -> anyhow::Result<Vec<Lesson>> {
    let list = json.as_array().context("not an array")?;
    let mut ids = BTreeSet::new();
    let mut lessons = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let lesson = lesson(entry).with_context(|| format!("entry {i}"))?;
        ensure!(
            ids.insert(lesson.id.clone()),
            "entry {i}: id {} twice",
            lesson.id
        );
        lessons.push(lesson);
    }
    Ok(lessons)
}

fn lesson(entry: &Value) -> anyhow::Result<Lesson> {
    let text = |value: &Value, name: &str| {
        let text = value[name].as_str().filter(|s| !s.trim().is_empty());
        let text = text.with_context(|| format!("{name} is not a non-empty string"))?;
        anyhow::Ok(text.to_owned())
    };
    let at = |name: &str| {
        let at = NaiveDateTime::parse_from_str(&text(entry, name)?, DATE_TIME);
        at.with_context(|| format!("{name} is not written Y-m-d H:i:s"))
    };
    let class = &entry["class"];
    let lesson = Lesson {
        id: text(entry, "id")?,
        class: Class {
            id: text(class, "id")?,
            mis_id: text(class, "mis_id")?,
            name: text(class, "name")?,
        },
        start_at: at("start_at")?,
        end_at: at("end_at")?,
    };
    ensure!(
        lesson.end_at > lesson.start_at,
        "end_at is not after start_at"
    );
    Ok(lesson)
}

/// What a `GET …/lessons` asks for: the lessons starting in `[after, before)`, each bound
/// given or not, and whether their class is embedded.
#[derive(Debug, Default, PartialEq)]
pub struct Asked {
    pub after: Option<NaiveDateTime>,
    pub before: Option<NaiveDateTime>,
    pub include_class: bool,
}

impl Asked {
    /// The filters of `query` (`after` and `before` name them), or a problem for each bad
    /// value. Other parameters are left to the paging.
    pub fn parse(query: &[(String, String)], after: &str, before: &str) -> Result<Self, Problems> {
        let mut asked = Asked::default();
        let mut problems = Problems::new();
        for (name, value) in query {
            let bound = if name == after {
                &mut asked.after
            } else if name == before {
                &mut asked.before
            } else {
                if name == "include" {
                    asked.include_class |= value.split(',').any(|i| i.trim() == "class");
                }
                continue;
            };
            match when(value) {
                Some(at) => *bound = Some(at),
                None => {
                    let message = format!(
                        "The {name} parameter must be a date and time written Y-m-d H:i:s, or a date written Y-m-d."
                    );
                    problems.entry(name.clone()).or_default().push(message);
                }
            }
        }
        if problems.is_empty() {
            Ok(asked)
        } else {
            Err(problems)
        }
    }

    /// Whether a lesson starting `at` is asked for: at or after `after`, before `before`.
    pub fn wants(&self, at: NaiveDateTime) -> bool {
        self.after.is_none_or(|after| at >= after) && self.before.is_none_or(|before| at < before)
    }
}

/// `2026-11-23 09:00:00`, or `2026-11-23` for its midnight.
fn when(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(at) = NaiveDateTime::parse_from_str(text, DATE_TIME) {
        return Some(at);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    (text.len() == 10).then(|| day.and_time(chrono::NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(id: &str, start: &str, end: &str) -> Value {
        json!({"id": id, "class": {"id": "A3000000001", "mis_id": "7B", "name": "7B"},
            "start_at": start, "end_at": end})
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, DATE_TIME).unwrap()
    }

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let owned = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        owned.collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Asked, Problems> {
        Asked::parse(&query(pairs), "lessons_start_after", "lessons_start_before")
    }

    #[test]
    fn a_lesson_is_served_with_wondes_times_and_its_class_as_asked() {
        let json = json!([given(
            "A2000000001",
            "2026-11-23 09:00:00",
            "2026-11-23 10:00:00"
        )]);
        let lessons = from_json(&json).unwrap();
        let bare = lessons[0].item(false);
        assert_eq!(bare["class"], "A3000000001");
        assert_eq!(
            bare["start_at"],
            json!({"date": "2026-11-23 09:00:00.000000", "timezone_type": 3,
                "timezone": "Europe/London"})
        );
        assert_eq!(bare["end_at"]["date"], "2026-11-23 10:00:00.000000");
        let embedded = lessons[0].item(true);
        assert_eq!(
            embedded["class"],
            json!({"data": {"id": "A3000000001", "mis_id": "7B", "name": "7B"}})
        );
    }

    #[test]
    fn a_lessons_file_needs_whole_lessons_with_distinct_ids() {
        let good = given("L1", "2026-11-23 09:00:00", "2026-11-23 10:00:00");
        assert_eq!(from_json(&json!([])).unwrap(), []);
        for bad in [
            json!({"id": "L1"}),
            json!([good.clone(), good.clone()]),
            json!([given("L1", "2026-11-23 09:00", "2026-11-23 10:00:00")]),
            json!([given("L1", "2026-11-23 10:00:00", "2026-11-23 09:00:00")]),
            json!([{"id": "L1", "class": "A3000000001", "start_at": "2026-11-23 09:00:00",
                "end_at": "2026-11-23 10:00:00"}]),
        ] {
            assert!(from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_filters_select_lessons_by_when_they_start() {
        let day = parse(&[
            ("lessons_start_after", "2026-11-23 00:00:00"),
            ("lessons_start_before", "2026-11-24"),
            ("include", "class,employee"),
            ("page", "2"),
        ])
        .unwrap();
        assert!(day.include_class);
        assert!(day.wants(at("2026-11-23 00:00:00")));
        assert!(day.wants(at("2026-11-23 15:00:00")));
        assert!(!day.wants(at("2026-11-24 00:00:00")));
        assert!(!day.wants(at("2026-11-22 23:59:59")));
        let everything = parse(&[("include", "employee")]).unwrap();
        assert!(everything.wants(at("1999-01-01 00:00:00")) && !everything.include_class);
    }

    #[test]
    fn a_bad_filter_is_a_problem_named_by_its_parameter() {
        for bad in [
            "23/11/2026",
            "2026-11-23T09:00:00",
            "2026-11-31",
            "2026-11-23 25:00:00",
        ] {
            let problems = parse(&[("lessons_start_before", bad)]).unwrap_err();
            let said = &problems["lessons_start_before"][0];
            assert!(said.contains("Y-m-d H:i:s"), "{bad}: {said}");
        }
    }
}
