//! What the store holds about one student, as their subject-access archive reads it
//! (`rollcall_school::subject_access` writes the archive): a query per part over `?1`, the
//! student's id, and their face templates and crops, opened.

use rollcall_runtime::seal::Purpose;
use rollcall_shared::{Embedding, StudentId, UnixMillis};

use crate::columns::{open_embedding, unseal};
use crate::error::StoreError;
use crate::sql::{Sql, params};

/// One file pair of the archive: its name, what it holds, and the query over `?1`, the
/// student's id.
#[derive(Debug)]
pub struct Part {
    pub name: &'static str,
    pub about: &'static str,
    pub sql: &'static str,
}

pub const PARTS: &[Part] = &[
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
        name: "mis_writes",
        about: "their morning and afternoon marks as written back to the school's MIS, and whether it took them",
        sql: "SELECT day, am, pm, version, status, tries, last_error, written_at
            FROM mis_outbox WHERE student_id = ?1 ORDER BY day",
    },
    Part {
        name: "mis_lesson_writes",
        about: "their mark in each lesson as written back to the MIS's lesson register, and whether it took it",
        sql: "SELECT o.day, r.class_name, r.start_minute, o.code, o.version, o.status, o.tries,
                o.last_error, o.written_at
            FROM mis_lesson_outbox o
            JOIN register_sessions r ON r.slot_id = o.slot_id AND r.day = o.day
            WHERE o.student_id = ?1 ORDER BY o.day, r.start_minute",
    },
    Part {
        name: "sign_outs",
        about: "each time they were signed out at reception during the day: why, who collected them, when they left and came back",
        sql: "SELECT day, out_at, reason, collected_by, note, signed_out_by, back_at, signed_in_by
            FROM sign_outs WHERE student_id = ?1 ORDER BY out_at",
    },
    Part {
        name: "missing_alerts",
        about: "each time they were found missing from a lesson: the lesson, what put them in school, and how it ended",
        sql: "SELECT day, class_name, room, starts_at, in_school, alerted_at, ended, ended_at
            FROM missing_alerts WHERE student_id = ?1 ORDER BY day, alerted_at",
    },
    Part {
        name: "activities",
        about: "the trips, clubs, exams and detentions they were on, and their mark",
        sql: "SELECT a.day, a.kind, a.title, a.start_minute, a.end_minute, a.place, p.mark,
                p.marked_by, p.marked_at
            FROM activity_pupils p JOIN activities a ON a.id = p.activity_id
            WHERE p.student_id = ?1 ORDER BY a.day, a.start_minute",
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

/// One face template of the student, opened.
#[derive(Debug)]
pub struct Template {
    pub id: String,
    pub model: String,
    pub source: String,
    pub created_at: UnixMillis,
    /// The numbers door units match against, or why they cannot be read.
    pub values: Result<Embedding, String>,
    /// Its enrolment crop (a JPEG), if one is kept.
    pub crop: Option<Vec<u8>>,
}

/// Every face template of `student`, oldest first.
pub fn templates(sql: &dyn Sql, student: StudentId) -> Result<Vec<Template>, StoreError> {
    let mut out = Vec::new();
    for row in sql.rows(TEMPLATES, params![student.to_string()])? {
        let id: String = row.get("id")?;
        let blob: Vec<u8> = row.get("embedding")?;
        let values = match open_embedding(sql, &blob, &id) {
            Ok(e) => Ok(e),
            Err(StoreError::Corrupt(why)) => Err(why),
            Err(e) => return Err(e),
        };
        let crop = match row.get::<Option<Vec<u8>>>("thumbnail")? {
            Some(sealed) => Some(unseal(sql, Purpose::Crop, &sealed)?),
            None => None,
        };
        out.push(Template {
            model: row.get("model")?,
            source: row.get("source")?,
            created_at: row.get("created_at")?,
            id,
            values,
            crop,
        });
    }
    Ok(out)
}

/// The face crops (JPEGs) of the door records that name `student`, by record id.
pub fn record_crops(
    sql: &dyn Sql,
    student: StudentId,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut out = Vec::new();
    for row in sql.rows(RECORD_CROPS, params![student.to_string()])? {
        let sealed: Vec<u8> = row.get("thumbnail")?;
        out.push((row.get("id")?, unseal(sql, Purpose::Crop, &sealed)?));
    }
    Ok(out)
}
