//! The definitions the stand-in checks requests against, read from `model.json` (field names
//! and types cut from Wonde's own client libraries; `tests/standins/wonde/SOURCE.md` says where
//! each part comes from). Loading fails on anything the checks would not understand, so a
//! model the stand-in cannot honour never half-works. Nothing here touches a request.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail, ensure};
use rollcall_e2e::standin::json::{self, array, field, number, object, text};
use serde_json::Value;

/// What a field of a register record must hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A non-empty string naming a Wonde object (student, code, lesson, employee).
    Id,
    /// Any string.
    Text,
    /// A string written `Y-m-d`.
    Date,
    /// One of the model's session values.
    Session,
    /// A whole number, 0 or more.
    Count,
}

impl Kind {
    fn from_name(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "id" => Self::Id,
            "string" => Self::Text,
            "date" => Self::Date,
            "session" => Self::Session,
            "count" => Self::Count,
            _ => bail!("field type {name:?} is not supported"),
        })
    }
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
}

/// A write-back register: `POST {basePath}{path}` with `{batchMember: [record, …]}`.
#[derive(Debug)]
pub struct Register {
    /// `attendance/session`.
    pub path: String,
    /// `attendance`.
    pub batch_member: String,
    pub fields: Vec<Field>,
    /// The fields that name one mark in the MIS's register (the stand-in's modelling).
    pub mark_key: Vec<String>,
}

#[derive(Debug)]
pub struct Model {
    /// `/v1.0/schools/`: the base path up to the school id.
    pub schools_prefix: String,
    pub students_path: String,
    pub codes_path: String,
    /// `lessons`, and its filters: lessons starting at or after, and before, a time.
    pub lessons_path: String,
    pub lessons_after_param: String,
    pub lessons_before_param: String,
    /// By register name (`session`, `lesson`).
    pub registers: BTreeMap<String, Register>,
    pub sessions: Vec<String>,
    pub student_field: String,
    pub code_field: String,
    /// The record field naming a lesson (`lesson_id`), in the registers that have it.
    pub lesson_field: String,
    pub validation_status: u16,
    pub page_param: String,
    pub per_page_param: String,
    pub per_page_default: usize,
    pub per_page_max: usize,
}

impl Model {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        json::load(path, "model", Self::from_json)
    }

    pub fn from_json(json: &Value) -> anyhow::Result<Self> {
        let base = text(json, "basePath")?;
        let schools_prefix = base
            .strip_suffix("{school_id}/")
            .filter(|p| p.starts_with('/') && p.ends_with('/'))
            .context("basePath must be /…/{school_id}/")?
            .to_owned();
        let lists = field(json, "lists")?;
        let standin = field(json, "standin")?;
        let mut registers = BTreeMap::new();
        for (name, register) in object(json, "registers")? {
            let keys = array(field(standin, "markKey")?, name)?;
            let register = Register::from_json(register, keys).with_context(|| name.clone())?;
            registers.insert(name.clone(), register);
        }
        ensure!(!registers.is_empty(), "no registers");
        let sessions = array(json, "sessions")?
            .iter()
            .map(|s| s.as_str().map(str::to_owned).context("session value"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        ensure!(!sessions.is_empty(), "no session values");
        let pages = field(standin, "perPage")?;
        let params = field(standin, "pageParameters")?;
        let lessons = field(lists, "lessons")?;
        let filters = field(lessons, "filters")?;
        let model = Self {
            schools_prefix,
            students_path: text(field(lists, "students")?, "path")?,
            codes_path: text(field(lists, "attendanceCodes")?, "path")?,
            lessons_path: text(lessons, "path")?,
            lessons_after_param: text(filters, "after")?,
            lessons_before_param: text(filters, "before")?,
            registers,
            sessions,
            student_field: text(json, "studentField")?,
            code_field: text(json, "codeField")?,
            lesson_field: text(json, "lessonField")?,
            validation_status: number(json, "validationStatus")?,
            page_param: text(params, "page")?,
            per_page_param: text(params, "perPage")?,
            per_page_default: number(pages, "default")?,
            per_page_max: number(pages, "max")?,
        };
        model.check()?;
        Ok(model)
    }

    /// Cross-checks: every register names the student and code fields as ids, and a register
    /// that names a lesson names it as a required id.
    fn check(&self) -> anyhow::Result<()> {
        for (name, register) in &self.registers {
            for wanted in [&self.student_field, &self.code_field] {
                let found = register.fields.iter().find(|f| &f.name == wanted);
                ensure!(
                    found.is_some_and(|f| f.required && f.kind == Kind::Id),
                    "register {name} has no required id field {wanted}"
                );
            }
            let lesson = register.fields.iter().find(|f| f.name == self.lesson_field);
            ensure!(
                lesson.is_none_or(|f| f.required && f.kind == Kind::Id),
                "register {name} names a lesson other than as a required id"
            );
        }
        ensure!(
            (1..=self.per_page_max).contains(&self.per_page_default),
            "perPage.default must be between 1 and perPage.max"
        );
        Ok(())
    }

    /// The register whose path is `path` (`attendance/session`).
    pub fn register_at(&self, path: &str) -> Option<(&str, &Register)> {
        self.registers
            .iter()
            .find(|(_, r)| r.path == path)
            .map(|(name, r)| (name.as_str(), r))
    }
}

impl Register {
    fn from_json(json: &Value, mark_key: &[Value]) -> anyhow::Result<Self> {
        let mut fields = Vec::new();
        for (member, required) in [("required", true), ("optional", false)] {
            for (name, kind) in object(json, member)? {
                let kind = kind.as_str().context("field type is not a string")?;
                let kind = Kind::from_name(kind).with_context(|| name.clone())?;
                fields.push(Field {
                    name: name.clone(),
                    kind,
                    required,
                });
            }
        }
        let mark_key = mark_key
            .iter()
            .map(|k| k.as_str().map(str::to_owned).context("markKey entry"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        ensure!(!mark_key.is_empty(), "empty markKey");
        for key in &mark_key {
            let known = fields.iter().any(|f| &f.name == key && f.required);
            ensure!(known, "markKey {key} is not a required field");
        }
        Ok(Self {
            path: text(json, "path")?,
            batch_member: text(json, "batchMember")?,
            fields,
            mark_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed() -> Model {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/wonde/model.json");
        Model::load(&path).unwrap()
    }

    #[test]
    fn the_committed_model_loads() {
        let model = committed();
        assert_eq!(model.schools_prefix, "/v1.0/schools/");
        let (name, session) = model.register_at("attendance/session").unwrap();
        assert_eq!(name, "session");
        assert_eq!(session.batch_member, "attendance");
        assert_eq!(session.mark_key, ["student_id", "date", "session"]);
        assert_eq!(model.sessions, ["AM", "PM"]);
        assert_eq!(model.validation_status, 422);
        assert_eq!(model.lessons_path, "lessons");
        assert_eq!(
            (&*model.lessons_after_param, &*model.lessons_before_param),
            ("lessons_start_after", "lessons_start_before")
        );
        assert_eq!(model.lesson_field, "lesson_id");
    }

    #[test]
    fn unknown_field_types_and_keys_are_refused() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/wonde/model.json");
        let text = std::fs::read_to_string(path).unwrap();
        let mut json: Value = serde_json::from_str(&text).unwrap();
        json["registers"]["lesson"]["required"]["lesson_id"] = Value::from("uuid");
        assert!(Model::from_json(&json).is_err());
        let mut json: Value = serde_json::from_str(&text).unwrap();
        json["standin"]["markKey"]["lesson"] = serde_json::json!(["comment"]);
        assert!(Model::from_json(&json).is_err());
    }
}
