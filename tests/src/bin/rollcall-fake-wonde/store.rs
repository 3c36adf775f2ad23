//! The MIS's registers as the stand-in keeps them, in memory: one mark per key (for sessions
//! student, date and session; for lessons student and lesson, as `model.json`'s
//! `standin.markKey` says), the newest write winning, in the order keys were first written.
//! This is the stand-in's modelling of the MIS, not something Wonde documents (SOURCE.md).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::Register;
use crate::validate::Record;

#[derive(Debug)]
struct Mark {
    /// The key fields' values as one JSON text.
    key: String,
    record: Record,
}

#[derive(Debug, Default)]
pub struct Store {
    /// By register name.
    marks: BTreeMap<String, Vec<Mark>>,
}

impl Store {
    /// Writes checked `records` of register `name`, each replacing the mark with its key, and
    /// answers the write-back's id.
    pub fn write(&mut self, name: &str, register: &Register, records: Vec<Record>) -> String {
        let marks = self.marks.entry(name.to_owned()).or_default();
        for record in records {
            let key = key(register, &record);
            match marks.iter_mut().find(|m| m.key == key) {
                Some(mark) => mark.record = record,
                None => marks.push(Mark { key, record }),
            }
        }
        uuid::Uuid::new_v4().simple().to_string()
    }

    /// How many marks register `name` holds, and those at `offset..offset + limit`.
    pub fn page(&self, name: &str, offset: usize, limit: usize) -> (usize, Vec<Value>) {
        let marks = self.marks.get(name).map(Vec::as_slice).unwrap_or_default();
        let page = marks
            .iter()
            .skip(offset)
            .take(limit)
            .map(|m| Value::Object(m.record.clone()))
            .collect();
        (marks.len(), page)
    }
}

/// The mark key of a checked record: the key fields' values, in order.
fn key(register: &Register, record: &Record) -> String {
    let values: Vec<&Value> = register
        .mark_key
        .iter()
        .map(|k| record.get(k).unwrap_or(&Value::Null))
        .collect();
    serde_json::to_string(&values).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::model::Model;

    fn record(code: &str, session: &str) -> Record {
        let value = json!({"student_id": "A1", "date": "2024-09-03", "session": session,
            "attendance_code_id": code});
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn the_newest_write_of_a_key_wins_and_keeps_its_place() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/wonde/model.json");
        let model = Model::load(&path).unwrap();
        let register = &model.registers["session"];
        let mut store = Store::default();
        let first = store.write(
            "session",
            register,
            vec![record("C1", "AM"), record("C1", "PM")],
        );
        let second = store.write("session", register, vec![record("C2", "AM")]);
        assert_ne!(first, second);
        let (total, page) = store.page("session", 0, 10);
        assert_eq!(total, 2);
        assert_eq!(page[0]["attendance_code_id"], "C2");
        assert_eq!(page[1]["session"], "PM");
        assert_eq!(store.page("session", 1, 10).1.len(), 1);
        assert_eq!(store.page("lesson", 0, 10), (0, Vec::new()));
    }
}
