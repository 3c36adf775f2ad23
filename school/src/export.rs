//! The school's data in one archive, so a school is never locked in: `rollcall-hub export
//! --to FILE` and `GET /api/v1/export` (admin). A zip holding every table a school owns as CSV
//! (for people and spreadsheets) and JSON (exact, for programs), a manifest and a README.
//!
//! Read in one transaction, so the files agree with each other while the hub keeps serving.
//! Left out on purpose: faces (photos, crops, embeddings: biometric data, which another system
//! must enrol afresh) and secrets (password hashes, device credentials, tokens). Columns whose
//! name ends in `_at` are times, written as RFC 3339 UTC; `day` columns are the school's dates.

use std::io::{Seek, Write};

use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Value, json};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use rollcall_store::sql::{Param, ReadError, Value as Stored};
use rollcall_store::{Dialect, Sql, StoreError};

/// One file pair of the export: what it holds, and the query that fills it.
struct Table {
    name: &'static str,
    about: &'static str,
    sql: &'static str,
    /// The query on PostgreSQL, where it must differ.
    postgres: Option<&'static str>,
}

impl Table {
    fn sql(&self, dialect: Dialect) -> &'static str {
        match (dialect, self.postgres) {
            (Dialect::Postgres, Some(sql)) => sql,
            _ => self.sql,
        }
    }
}

const TABLES: &[Table] = &[
    Table {
        name: "students",
        about: "every student, with the id of the school's information system (external_ref), the time they left, if they did, where their consent to face recognition stands, their year group, form and date of birth, whether they are active (1) or not (0), and how the office reaches them (email, phone)",
        sql: "SELECT id, name, external_ref, created_at, left_at, consent, year_group, form,
            born_on, active, email, phone FROM students ORDER BY name, id",
        postgres: None,
    },
    Table {
        name: "consent_changes",
        about: "every answer recorded about a student's consent to face recognition: the state, who gave, refused or withdrew it, the date on the signed form and its reference, and who recorded it",
        sql: "SELECT c.student_id, s.name AS student_name, c.state AS consent, c.by_whom, c.signed_on,
                c.reference, c.note, c.recorded_by, c.recorded_at
            FROM consent_changes c JOIN students s ON s.id = c.student_id ORDER BY c.id",
        postgres: None,
    },
    Table {
        name: "classes",
        about: "classes, their codes and their teacher",
        sql: "SELECT c.id, c.name, c.code, c.teacher_id, u.username AS teacher_username,
                c.created_at
            FROM classes c LEFT JOIN users u ON u.id = c.teacher_id ORDER BY c.name",
        postgres: None,
    },
    Table {
        name: "visitors",
        about: "visitors signed in at reception: name, organisation, whom they visited, vehicle, badge code, when they came and left, and who signed them in and out",
        sql: "SELECT id, name, organisation, visiting, vehicle, badge, signed_in_at, signed_in_by,
            signed_out_at, signed_out_by FROM visitors ORDER BY signed_in_at, id",
        postgres: None,
    },
    Table {
        name: "guardians",
        about: "students' guardians, first to last: name, relationship, e-mail, phone, language, \
            whether told of absences, parental responsibility",
        sql: "SELECT student_id, priority, name, relationship, email, phone, language, notices,
                responsibility
            FROM guardians ORDER BY student_id, priority",
        postgres: None,
    },
    Table {
        name: "staff",
        about: "staff: personnel code, name, department, position, e-mail, phone, active, and \
            their consent to be recognised at the gates",
        sql: "SELECT id, code, name, department, position, email, phone, active, consent,
                created_at
            FROM staff ORDER BY name, id",
        postgres: None,
    },
    Table {
        name: "staff_consent_changes",
        about: "every change of a member of staff's consent to be recognised at the gates, and \
            who recorded it",
        sql: "SELECT s.code, c.state AS consent, c.signed_on, c.reference, c.note, c.recorded_by,
                c.recorded_at
            FROM staff_consent_changes c JOIN staff s ON s.id = c.staff_id ORDER BY c.id",
        postgres: None,
    },
    Table {
        name: "staff_log",
        about: "staff's comings and goings: when, in or out, at reception (who signed them) or \
            a door unit (its confidence)",
        sql: "SELECT l.id, s.code, l.at, l.direction, l.source, l.device_id, l.confidence,
                l.recorded_by
            FROM staff_log l JOIN staff s ON s.id = l.staff_id ORDER BY l.at, l.id",
        postgres: None,
    },
    Table {
        name: "notices",
        about: "absences families were told of: the reply, the office's decision, when the \
            child arrived after all",
        sql: "SELECT student_id, day, language, created_at, reason, note, replied_at, decision,
                decided_by, decided_at, decision_note, arrived_at
            FROM absence_notices ORDER BY day, student_id",
        postgres: None,
    },
    Table {
        name: "notice_messages",
        about: "each message of those notices: to whom, by which channel, its words (the reply \
            link left out), whether it went and why not",
        sql: "SELECT id, student_id, day, kind, contact, guardian, channel, address, subject,
                body, status, tries, last_error, sent_at, created_at
            FROM notice_messages ORDER BY created_at, id",
        postgres: None,
    },
    Table {
        name: "class_members",
        about: "which students are in which class",
        sql: "SELECT m.class_id, c.name AS class_name, m.student_id, s.name AS student_name
            FROM class_members m JOIN classes c ON c.id = m.class_id
            JOIN students s ON s.id = m.student_id ORDER BY c.name, s.name",
        postgres: None,
    },
    Table {
        name: "timetable",
        about: "weekly lessons: weekday 1 = Monday, times in the school's time zone",
        sql: "SELECT t.id, t.class_id, c.name AS class_name, t.room, t.weekday,
                printf('%02d:%02d', t.start_minute / 60, t.start_minute % 60) AS start,
                printf('%02d:%02d', t.end_minute / 60, t.end_minute % 60) AS end,
                t.valid_from, t.valid_until
            FROM timetable t JOIN classes c ON c.id = t.class_id
            ORDER BY t.weekday, t.start_minute, c.name",
        postgres: Some(
            "SELECT t.id, t.class_id, c.name AS class_name, t.room, t.weekday,
                to_char(t.start_minute / 60, 'FM00') || ':' || to_char(t.start_minute % 60, 'FM00')
                    AS start,
                to_char(t.end_minute / 60, 'FM00') || ':' || to_char(t.end_minute % 60, 'FM00')
                    AS end,
                t.valid_from, t.valid_until
            FROM timetable t JOIN classes c ON c.id = t.class_id
            ORDER BY t.weekday, t.start_minute, c.name",
        ),
    },
    Table {
        name: "terms",
        about: "terms of the school year",
        sql: "SELECT id, name, first_day, last_day FROM terms ORDER BY first_day",
        postgres: None,
    },
    Table {
        name: "holidays",
        about: "days the school is closed",
        sql: "SELECT day, name FROM holidays ORDER BY day",
        postgres: None,
    },
    Table {
        name: "attendance_codes",
        about: "the register's codes and what each counts as",
        sql: "SELECT code, meaning, mark FROM attendance_codes ORDER BY code",
        postgres: None,
    },
    Table {
        name: "register_sessions",
        about: "every lesson whose register closed (the legal record), as it was then",
        sql: "SELECT slot_id, day, class_id, class_name, room, weekday, start_minute, end_minute,
                starts_at, ends_at, closed_at
            FROM register_sessions ORDER BY day, starts_at, class_name",
        postgres: None,
    },
    Table {
        name: "register_entries",
        about: "each student's code in each closed register, as first written",
        sql: "SELECT e.slot_id, e.day, s.class_name, e.student_id, e.student_name, e.code,
                e.source, e.first_seen_at, e.evidence, e.reason
            FROM register_entries e
            JOIN register_sessions s ON s.slot_id = e.slot_id AND s.day = e.day
            ORDER BY e.day, s.starts_at, e.student_name",
        postgres: None,
    },
    Table {
        name: "register_amendments",
        about: "later changes to closed registers: who, when and why (the last one counts)",
        sql: "SELECT id, slot_id, day, student_id, code, reason, by_user, by_name, by_role, at
            FROM register_amendments ORDER BY id",
        postgres: None,
    },
    Table {
        name: "marks",
        about: "marks of registers still open, set by door units or teachers",
        sql: "SELECT slot_id, day, student_id, mark, source, reason, set_by, set_at
            FROM marks ORDER BY day, slot_id, student_id",
        postgres: None,
    },
    Table {
        name: "records",
        about: "faces seen by door units and in class photos (no faces): the students they \
            named and what a teacher decided",
        sql: "SELECT id, source, device_id, taken_by, room, captured_at, received_at, model,
                gallery_version, candidates, decision, status, final_student, reviewed_by,
                reviewed_at, clock_synchronised, live, live_score
            FROM records ORDER BY captured_at, id",
        postgres: None,
    },
    Table {
        name: "devices",
        about: "door units (no credentials)",
        sql: "SELECT id, name, room, enabled, created_at, last_seen_at, software_version, model
            FROM devices ORDER BY name",
        postgres: None,
    },
    Table {
        name: "users",
        about: "accounts of staff, and students' own (no passwords)",
        sql: "SELECT id, username, display_name, role, student_id, email, disabled, created_at
            FROM users ORDER BY username",
        postgres: None,
    },
    Table {
        name: "invitations",
        about: "invitations to choose a password: to whom, by whom, when sent and used (no links)",
        sql: "SELECT id, user_id, email, created_by, created_at, expires_at, used_at, sent_at,
                send_error
            FROM invitations ORDER BY created_at, id",
        postgres: None,
    },
    Table {
        name: "audit_log",
        about: "every change made through the hub: who, what, before and after",
        sql: "SELECT id, actor, action, target, before, after, at FROM audit_log ORDER BY id",
        postgres: None,
    },
];

/// What an export held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Rows per table, in the archive's order.
    pub rows: Vec<(&'static str, usize)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.rows.iter().map(|(t, n)| format!("{n} {t}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the database: {0}")]
    Store(#[from] StoreError),
    #[error("writing the archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the archive: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ReadError> for ExportError {
    fn from(e: ReadError) -> Self {
        ExportError::Store(e.into())
    }
}

/// Who the export is of and when it was made, for the manifest.
#[derive(Debug, Clone)]
pub struct About<'a> {
    pub site: &'a str,
    pub timezone: &'a str,
    pub exported_at: i64,
    pub exported_by: &'a str,
    pub schema_version: usize,
}

/// Writes the archive to `out`, reading every table in the caller's transaction (one
/// snapshot, so the files agree).
pub fn write<W: Write + Seek>(
    tx: &dyn Sql,
    about: &About<'_>,
    out: W,
) -> Result<Summary, ExportError> {
    let folder = format!("rollcall-export-{}", about.site);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut zip = ZipWriter::new(out);
    let mut rows = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let (csv, json, n) = read_table(tx, table)?;
        zip.start_file(format!("{folder}/csv/{}.csv", table.name), options)?;
        zip.write_all(csv.as_bytes())?;
        zip.start_file(format!("{folder}/json/{}.json", table.name), options)?;
        serde_json::to_writer_pretty(&mut zip, &json).map_err(std::io::Error::from)?;
        rows.push((table.name, n));
    }
    let manifest = json!({
        "format": "rollcall-export/1",
        "site": about.site,
        "timezone": about.timezone,
        "exported_at": rfc3339(about.exported_at),
        "exported_by": about.exported_by,
        "schema_version": about.schema_version,
        "software_version": env!("CARGO_PKG_VERSION"),
        "tables": rows.iter().map(|(t, n)| json!({"name": t, "rows": n})).collect::<Vec<_>>(),
    });
    zip.start_file(format!("{folder}/manifest.json"), options)?;
    serde_json::to_writer_pretty(&mut zip, &manifest).map_err(std::io::Error::from)?;
    zip.start_file(format!("{folder}/README.txt"), options)?;
    zip.write_all(readme(about, &rows).as_bytes())?;
    zip.finish()?;
    Ok(Summary { rows })
}

/// One table as CSV text and a JSON array of objects, with its row count.
fn read_table(tx: &dyn Sql, table: &Table) -> Result<(String, Value, usize), ExportError> {
    read_query(tx, table.sql(tx.dialect()), &[])
}

/// The rows of `sql` as CSV text and a JSON array of objects (times as RFC 3339, JSON columns
/// as JSON, blobs left out), with their count.
pub(crate) fn read_query(
    tx: &dyn Sql,
    sql: &str,
    params: &[&dyn Param],
) -> Result<(String, Value, usize), ExportError> {
    let result = tx.query(sql, params)?;
    let names = &result.columns;
    let header: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut csv = crate::csv::line(&header);
    let mut json = Vec::new();
    for row in &result.rows {
        let mut object = Map::with_capacity(names.len());
        let mut fields = Vec::with_capacity(names.len());
        for (name, value) in names.iter().zip(row.values()) {
            let value = cell(name, value);
            fields.push(match &value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            object.insert(name.clone(), value);
        }
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        csv.push_str(&crate::csv::line(&fields));
        json.push(Value::Object(object));
    }
    let n = json.len();
    Ok((csv, Value::Array(json), n))
}

/// A column's value as JSON: times (`*_at`) as RFC 3339, JSON text (evidence, candidates,
/// audit before/after) as JSON, blobs never (no query selects one).
fn cell(name: &str, value: &Stored) -> Value {
    match value {
        Stored::Null => Value::Null,
        Stored::Integer(ms) if name.ends_with("_at") || name == "at" => rfc3339(*ms).into(),
        Stored::Integer(i) => (*i).into(),
        Stored::Real(r) => json!(r),
        Stored::Text(text) => {
            let structured = matches!(name, "evidence" | "candidates" | "before" | "after");
            match structured.then(|| serde_json::from_str::<Value>(text).ok()) {
                Some(Some(parsed)) => parsed,
                _ => Value::String(text.clone()),
            }
        }
        Stored::Blob(_) => Value::Null,
    }
}

pub(crate) fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

fn readme(about: &About<'_>, rows: &[(&str, usize)]) -> String {
    let mut text = format!(
        "Rollcall export of site {site}, made {at} by {by}.\n\n\
         Every table twice: csv/NAME.csv for people and spreadsheets (a cell starting with =, +, -\n\
         or @ has a ' put in front, so a spreadsheet shows it instead of running it) and\n\
         json/NAME.json, exact, for programs. Times (columns ending in _at) are UTC, RFC 3339;\n\
         days and lesson times are in the school's time zone, {tz}. Ids are stable: the same\n\
         student has the same id in every file and every later export.\n\n\
         Not included: faces (photos, crops and face embeddings are biometric data; another\n\
         system must enrol students afresh) and secrets (passwords, door-unit credentials).\n\n",
        site = about.site,
        at = rfc3339(about.exported_at),
        by = about.exported_by,
        tz = about.timezone,
    );
    for table in TABLES {
        let n = rows
            .iter()
            .find(|(t, _)| *t == table.name)
            .map_or(0, |(_, n)| *n);
        text.push_str(&format!(
            "{:<20} {n:>8} rows  {}\n",
            table.name, table.about
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_become_dates_and_json_text_becomes_json() {
        assert_eq!(
            cell("captured_at", &Stored::Integer(1_764_000_000_000)),
            json!("2025-11-24T16:00:00.000Z")
        );
        assert_eq!(cell("weekday", &Stored::Integer(3)), json!(3));
        assert_eq!(
            cell("evidence", &Stored::Text(r#"{"records":["a"]}"#.into())),
            json!({"records": ["a"]})
        );
        assert_eq!(cell("reason", &Stored::Text("{x".into())), json!("{x"));
        assert_eq!(
            cell("thumbnail", &Stored::Blob(b"jpeg".to_vec())),
            Value::Null
        );
    }

    #[test]
    fn every_query_runs_on_the_current_schema_and_selects_no_secret_or_face() {
        rollcall_store::engines::each(|db| {
            db.read_blocking(|sql| {
                check_schema(sql);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }

    fn check_schema(sql: &dyn Sql) {
        for table in TABLES {
            let result = sql
                .query(table.sql(sql.dialect()), &[])
                .unwrap_or_else(|e| panic!("{}: {e}", table.name));
            for column in result.columns.iter() {
                for secret in [
                    "hash",
                    "credential",
                    "embedding",
                    "thumbnail",
                    "token",
                    "state",
                ] {
                    assert!(!column.contains(secret), "{}.{column}", table.name);
                }
            }
        }
        let about = About {
            site: "school",
            timezone: "Europe/London",
            exported_at: 0,
            exported_by: "test",
            schema_version: 1,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let summary = write(sql, &about, &mut out).unwrap();
        assert_eq!(summary.rows.len(), TABLES.len());
        let archive = zip::ZipArchive::new(out).unwrap();
        assert_eq!(archive.len(), 2 * TABLES.len() + 2);
    }
}
