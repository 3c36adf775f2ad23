//! Every table a school owns, as the school's export reads it (`rollcall_school::export` writes
//! the archive): each one's name, what it holds and the query that fills it, on each engine.
//! Faces and secrets are left out on purpose.

use crate::sql::Dialect;

/// One file pair of the export: what it holds, and the query that fills it.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub about: &'static str,
    sql: &'static str,
    /// The query on PostgreSQL, where it must differ.
    postgres: Option<&'static str>,
}

impl Table {
    /// The query on `dialect`.
    pub fn sql(&self, dialect: Dialect) -> &'static str {
        match (dialect, self.postgres) {
            (Dialect::Postgres, Some(sql)) => sql,
            _ => self.sql,
        }
    }
}

pub const TABLES: &[Table] = &[
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
        name: "sign_outs",
        about: "pupils signed out at reception during the day and back in: why (medical, ill, collected), the adult who collected them, when they left and came back, and who signed each",
        sql: "SELECT id, student_id, day, out_at, reason, collected_by, note, signed_out_by,
            back_at, signed_in_by FROM sign_outs ORDER BY out_at, id",
        postgres: None,
    },
    Table {
        name: "missing_alerts",
        about: "pupils found missing from a lesson: the lesson, what put them in school, when the alert was raised, and how it ended (found, a reason, left, the lesson over or gone)",
        sql: "SELECT slot_id, day, student_id, class_name, room, starts_at, in_school, alerted_at,
            ended, ended_at FROM missing_alerts ORDER BY day, alerted_at, student_id",
        postgres: None,
    },
    Table {
        name: "activities",
        about: "one-off registers (trips, clubs, exams, detentions): title, day, from and to (minutes after midnight, the school's time zone), where, who made it and who takes it",
        sql: "SELECT id, kind, title, day, start_minute, end_minute, place, created_by, owner_id,
            created_at FROM activities ORDER BY day, start_minute, id",
        postgres: None,
    },
    Table {
        name: "activity_pupils",
        about: "each pupil of a one-off register and their mark (present, late, absent), who marked it and when",
        sql: "SELECT p.activity_id, a.title, p.student_id, s.name AS student_name, p.mark,
                p.marked_by, p.marked_at
            FROM activity_pupils p JOIN activities a ON a.id = p.activity_id
            JOIN students s ON s.id = p.student_id ORDER BY a.day, a.title, s.name",
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
        name: "mis_writes",
        about: "each pupil's morning and afternoon marks as written back to the MIS (Rollcall's \
            codes), the version, whether the MIS took it and why not",
        sql: "SELECT student_id, day, am, pm, version, status, tries, last_error,
                written_version, written_at, mis_ref, changed_at
            FROM mis_outbox ORDER BY day, student_id",
        postgres: None,
    },
    Table {
        name: "mis_lesson_writes",
        about: "each pupil's mark in each lesson as written back to the MIS's lesson register \
            (Rollcall's code), the version, whether the MIS took it and why not",
        sql: "SELECT slot_id, day, student_id, code, version, status, tries, last_error,
                written_version, written_at, mis_ref, changed_at
            FROM mis_lesson_outbox ORDER BY day, slot_id, student_id",
        postgres: None,
    },
    Table {
        name: "mis_codes",
        about: "the office's table of Rollcall's attendance codes to the MIS's",
        sql: "SELECT code, mis_code, updated_by, updated_at FROM mis_codes ORDER BY code",
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
        about: "every change made through the hub: who, what, before and after, in which request",
        sql: "SELECT id, actor, action, target, before, after, at, request_id FROM audit_log
            ORDER BY id",
        postgres: None,
    },
];
