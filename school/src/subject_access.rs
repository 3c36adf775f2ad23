//! Everything the hub holds about one student, as one archive for the student or their family
//! (GDPR Art. 15, a subject access request): `GET /api/v1/students/{id}/archive` (admins).
//!
//! A zip of: the student (name, references, how the office reaches them, classes, where their
//! consent stands), their guardians, their own account and its invitations, every
//! consent answer, their register (closed sessions' entries and every amendment, with the
//! codes' meanings), the marks of sessions not yet closed, the door records that name them,
//! what the audit log says of them, their face templates (the numbers door units match
//! against) and every face crop still kept (enrolment crops, and the crops of their records).
//! Read in one transaction. Unlike the school's export (`crate::export`), faces are in it: they
//! are this person's own.

use std::io::{Seek, Write};

use rollcall_shared::StudentId;
use rollcall_store::sql::params;
use serde_json::{Value, json};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::export::{ExportError, read_query, rfc3339};
use rollcall_runtime::seal::Purpose;

use rollcall_store::{Sql, StoreError, open_embedding, school, unseal};

/// One file pair of the archive: its name, what it holds, and the query over `?1`, the
/// student's id.
struct Part {
    name: &'static str,
    about: &'static str,
    sql: &'static str,
}

const PARTS: &[Part] = &[
    Part {
        name: "guardians",
        about: "the people the school contacts about them, first to last: name, relationship, \
            e-mail, phone, language, whether told of absences, parental responsibility",
        sql: "SELECT priority, name, relationship, email, phone, language, notices,
                responsibility
            FROM guardians WHERE student_id = ?1 ORDER BY priority",
    },
    Part {
        name: "account",
        about: "their own Rollcall account, if they have one (never its password), and each \
            invitation sent to it (never its link)",
        sql: "SELECT u.username, u.display_name, u.email, u.disabled, u.created_at,
                i.email AS sent_to, i.created_at AS invitation_made_at, i.expires_at,
                i.sent_at, i.used_at
            FROM users u LEFT JOIN invitations i ON i.user_id = u.id
            WHERE u.student_id = ?1 ORDER BY i.created_at",
    },
    Part {
        name: "consent",
        about: "every answer recorded about consent to face recognition, oldest first",
        sql: "SELECT state, by_whom, signed_on, reference, note, recorded_by, recorded_at
            FROM consent_changes WHERE student_id = ?1 ORDER BY id",
    },
    Part {
        name: "register",
        about: "the register: each closed lesson's entry, its code and what the code means",
        sql: "SELECT e.day, s.class_name, s.room, s.starts_at, s.ends_at, e.code,
                c.meaning, e.source, e.first_seen_at, e.reason, e.evidence
            FROM register_entries e
            JOIN register_sessions s ON s.slot_id = e.slot_id AND s.day = e.day
            LEFT JOIN attendance_codes c ON c.code = e.code
            WHERE e.student_id = ?1 ORDER BY s.starts_at",
    },
    Part {
        name: "amendments",
        about: "every change made to a register entry after it was written: who, when, why",
        sql: "SELECT a.day, s.class_name, a.code, a.reason, a.by_name, a.by_role, a.at
            FROM register_amendments a
            JOIN register_sessions s ON s.slot_id = a.slot_id AND s.day = a.day
            WHERE a.student_id = ?1 ORDER BY a.id",
    },
    Part {
        name: "marks",
        about: "marks of lessons whose register is not yet written, set by the door or a teacher",
        sql: "SELECT m.day, t.room, m.mark, m.source, m.reason, m.set_by, m.set_at
            FROM marks m LEFT JOIN timetable t ON t.id = m.slot_id
            WHERE m.student_id = ?1 ORDER BY m.day, m.set_at",
    },
    Part {
        name: "notices",
        about: "each absence their family was told of the same morning: the reply, what the school made of it, when they arrived after all",
        sql: "SELECT day, language, created_at, reason, note, replied_at, decision, decided_by,
                decided_at, decision_note, arrived_at
            FROM absence_notices WHERE student_id = ?1 ORDER BY day",
    },
    Part {
        name: "notice_messages",
        about: "each message of those notices: to whom, how, its words, and whether it went",
        sql: "SELECT day, kind, contact, guardian, channel, address, subject, body, status, tries,
                last_error, sent_at
            FROM notice_messages WHERE student_id = ?1 ORDER BY created_at, id",
    },
    Part {
        name: "records",
        about: "door records that name them: when and where a face was seen, how sure the door was, and how it was reviewed",
        sql: "SELECT id, room, captured_at, received_at, decision, candidates, status,
                final_student, reviewed_by, reviewed_at,
                CASE WHEN thumbnail IS NULL THEN 0 ELSE 1 END AS crop_kept
            FROM records WHERE final_student = ?1 OR instr(candidates, ?1) > 0
            ORDER BY captured_at",
    },
    Part {
        name: "audit",
        about: "what the audit log says was done to their record, by whom and when",
        sql: "SELECT actor, action, before, after, at FROM audit_log
            WHERE target = 'student:' || CAST(?1 AS TEXT) ORDER BY id",
    },
];

const TEMPLATES: &str = "SELECT id, model, embedding, source, created_at, thumbnail
    FROM embeddings WHERE student_id = ?1 ORDER BY created_at, id";
const RECORD_CROPS: &str = "SELECT id, thumbnail FROM records
    WHERE thumbnail IS NOT NULL AND (final_student = ?1 OR instr(candidates, ?1) > 0)
    ORDER BY captured_at";

/// What an archive held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// Rows per part, in the archive's order.
    pub rows: Vec<(&'static str, usize)>,
    pub templates: usize,
    pub crops: usize,
}

/// Writes `student`'s archive to `out`, as asked by `by` at `now` (Unix ms).
pub fn write<W: Write + Seek>(
    tx: &dyn Sql,
    student: StudentId,
    by: &str,
    now: i64,
    out: W,
) -> Result<Held, ExportError> {
    let s = school::student(tx, student)?;
    let folder = format!("rollcall-student-{student}");
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut zip = ZipWriter::new(out);
    let id = student.to_string();
    let mut held = Held::default();
    for part in PARTS {
        let (csv, json, n) = read_query(tx, part.sql, params![id])?;
        zip.start_file(format!("{folder}/{}.csv", part.name), options)?;
        zip.write_all(csv.as_bytes())?;
        zip.start_file(format!("{folder}/{}.json", part.name), options)?;
        serde_json::to_writer_pretty(&mut zip, &json).map_err(std::io::Error::from)?;
        held.rows.push((part.name, n));
    }
    let mut templates = Vec::new();
    for row in tx.rows(TEMPLATES, params![id])? {
        let template: String = row.get("id")?;
        let blob: Vec<u8> = row.get("embedding")?;
        let values = match open_embedding(tx, &blob, &template) {
            Ok(e) => json!(e.0.to_vec()),
            Err(StoreError::Corrupt(why)) => json!(why),
            Err(e) => return Err(e.into()),
        };
        templates.push(json!({
            "id": template, "model": row.get::<String>("model")?,
            "source": row.get::<String>("source")?,
            "created_at": rfc3339(row.get("created_at")?), "values": values,
        }));
        if let Some(jpeg) = row.get::<Option<Vec<u8>>>("thumbnail")? {
            zip.start_file(format!("{folder}/faces/enrolment-{template}.jpg"), options)?;
            zip.write_all(&unseal(tx, Purpose::Crop, &jpeg)?)?;
            held.crops += 1;
        }
    }
    held.templates = templates.len();
    zip.start_file(format!("{folder}/templates.json"), options)?;
    serde_json::to_writer_pretty(&mut zip, &templates).map_err(std::io::Error::from)?;
    for row in tx.rows(RECORD_CROPS, params![id])? {
        let record: String = row.get("id")?;
        let jpeg: Vec<u8> = row.get("thumbnail")?;
        zip.start_file(format!("{folder}/faces/record-{record}.jpg"), options)?;
        zip.write_all(&unseal(tx, Purpose::Crop, &jpeg)?)?;
        held.crops += 1;
    }
    let classes: Vec<String> = school::classes_of(tx, student)?
        .into_iter()
        .filter_map(|c| school::class(tx, c).ok().map(|c| c.name))
        .collect();
    let about = json!({
        "student": s, "contact": school::contact(tx, student)?, "classes": classes,
        "made_at": rfc3339(now), "made_by": by,
        "parts": held.rows.iter().map(|(p, n)| json!({"name": p, "rows": n})).collect::<Vec<_>>(),
        "templates": held.templates, "face_crops": held.crops,
    });
    zip.start_file(format!("{folder}/student.json"), options)?;
    serde_json::to_writer_pretty(&mut zip, &about).map_err(std::io::Error::from)?;
    zip.start_file(format!("{folder}/README.txt"), options)?;
    zip.write_all(readme(&s.name, by, now, &held).as_bytes())?;
    zip.finish()?;
    Ok(held)
}

fn readme(name: &str, by: &str, now: i64, held: &Held) -> String {
    let mut text = format!(
        "Everything Rollcall holds about {name}, made {at} by {by}.\n\n\
         student.json        who they are, their classes, where their consent stands\n\
         templates.json      {t} face templates: the numbers door cameras compare faces with\n\
         faces/              {c} face crops still kept (enrolment and door captures)\n",
        at = rfc3339(now),
        t = held.templates,
        c = held.crops,
    );
    for part in PARTS {
        let n = held
            .rows
            .iter()
            .find(|(p, _)| *p == part.name)
            .map_or(0, |(_, n)| *n);
        text.push_str(&format!(
            "{:<19} {n:>5} rows: {}\n",
            format!("{}.csv/.json", part.name),
            part.about
        ));
    }
    text.push_str(
        "\nTimes (columns ending in _at) are UTC, RFC 3339; days are the school's dates. Camera\n\
         frames and enrolment photos are never kept, so they are not here.\n",
    );
    text
}

/// The archive's rows per part, as JSON (for the audit entry of a download).
pub fn summary(held: &Held) -> Value {
    let rows: serde_json::Map<String, Value> = held
        .rows
        .iter()
        .map(|(p, n)| (p.to_string(), json!(n)))
        .collect();
    json!({"rows": rows, "templates": held.templates, "face_crops": held.crops})
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_store::engines::each;

    #[test]
    fn every_part_reads_on_both_engines_and_an_unknown_student_is_not_found() {
        each(|db| {
            db.read_blocking(|sql| {
                let id = StudentId::random().to_string();
                for part in PARTS {
                    read_query(sql, part.sql, params![id])
                        .unwrap_or_else(|e| panic!("{}: {e}", part.name));
                }
                sql.rows(TEMPLATES, params![id])?;
                sql.rows(RECORD_CROPS, params![id])?;
                let out = std::io::Cursor::new(Vec::new());
                let e = write(sql, StudentId::random(), "test", 0, out).unwrap_err();
                assert!(
                    matches!(e, ExportError::Store(StoreError::NotFound(_))),
                    "{e}"
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}
