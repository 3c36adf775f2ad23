//! Numbered schema migrations. `PRAGMA user_version` holds how many have run; each runs once,
//! in its own transaction. Migrations are append-only: never edit one that has shipped.

use rollcall_runtime::sqlite;
use rusqlite::Connection;

use super::error::StoreError;

mod first;

use first::{
    MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4, MIGRATION_5, MIGRATION_6, MIGRATION_7,
    MIGRATION_8, MIGRATION_9, MIGRATION_10, MIGRATION_11, MIGRATION_12,
};

/// The schema, one entry per version.
const MIGRATIONS: &[&str] = &[
    MIGRATION_1,
    MIGRATION_2,
    MIGRATION_3,
    MIGRATION_4,
    MIGRATION_5,
    MIGRATION_6,
    MIGRATION_7,
    MIGRATION_8,
    MIGRATION_9,
    MIGRATION_10,
    MIGRATION_11,
    MIGRATION_12,
    MIGRATION_13,
    MIGRATION_14,
    MIGRATION_15,
    MIGRATION_16,
    MIGRATION_17,
    MIGRATION_18,
    MIGRATION_19,
    MIGRATION_20,
    MIGRATION_21,
    MIGRATION_22,
    MIGRATION_23,
    MIGRATION_24,
    MIGRATION_25,
    MIGRATION_26,
    MIGRATION_27,
    MIGRATION_28,
    MIGRATION_29,
    MIGRATION_30,
    MIGRATION_31,
    MIGRATION_32,
    MIGRATION_33,
    MIGRATION_34,
    MIGRATION_35,
    MIGRATION_36,
    MIGRATION_37,
    MIGRATION_38,
    MIGRATION_39,
    MIGRATION_40,
    MIGRATION_41,
    MIGRATION_42,
    MIGRATION_43,
    MIGRATION_44,
    MIGRATION_45,
];

/// E-mail: users' addresses, the digests sent (one per user and school day, so a restart
/// neither skips nor repeats one), and which students are below the at-risk threshold in
/// which class (so `student.at_risk` fires once per crossing).
const MIGRATION_13: &str = "
ALTER TABLE users ADD COLUMN email TEXT;
CREATE TABLE email_digests (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'empty', 'retrying', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE TABLE at_risk_students (
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    since INTEGER NOT NULL,
    PRIMARY KEY (class_id, student_id)
);
";

/// Protocol 3: whether a door unit's clock was synchronised when it captured a record, and at
/// its last heartbeat (NULL: it could not tell, or spoke an older version).
const MIGRATION_14: &str = "
ALTER TABLE records ADD COLUMN clock_synchronised INTEGER;
ALTER TABLE devices ADD COLUMN clock_synchronised INTEGER;
";

/// One-time provisioning codes for door units, kept by their SHA-256 only. A used or expired
/// code stays (for the audit of who used it from where) until the device is deleted.
const MIGRATION_15: &str = "
CREATE TABLE provisioning_codes (
    digest TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_from TEXT
);
CREATE INDEX provisioning_codes_device ON provisioning_codes(device_id);
";

/// Retired door units: kept (their records name them) but never enabled again; the unit that
/// took over their room, when one did.
const MIGRATION_16: &str = "
ALTER TABLE devices ADD COLUMN retired_at INTEGER;
ALTER TABLE devices ADD COLUMN replaced_by TEXT;
";

/// The school information system's ids of imported classes and teachers (students already had
/// `external_ref`): a roster import finds what it made before by them.
const MIGRATION_17: &str = "
ALTER TABLE classes ADD COLUMN external_ref TEXT;
ALTER TABLE users ADD COLUMN external_ref TEXT;
CREATE UNIQUE INDEX classes_external_ref ON classes(external_ref) WHERE external_ref IS NOT NULL;
CREATE UNIQUE INDEX users_external_ref ON users(external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX students_external_ref ON students(external_ref);
";

/// Several hubs on one database (PostgreSQL): the hubs alive (each beats every few seconds)
/// and leases (the one hub that runs the scheduled work until its lease runs out). On SQLite
/// one hub holds them all.
const MIGRATION_18: &str = "
CREATE TABLE hubs (
    id TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
";

/// Faces that matched nobody and were discarded, as the school's `[privacy] unknown_faces`
/// asks: each unit's count since it started as its last heartbeat said it (so a restart, which
/// starts its count again, is told from growth), and the total over its life, which also counts
/// those the hub dropped on arrival from units too old to be told.
const MIGRATION_19: &str = "
ALTER TABLE devices ADD COLUMN discarded_since_start INTEGER;
ALTER TABLE devices ADD COLUMN unknown_discarded INTEGER NOT NULL DEFAULT 0;
";

/// Consent to recognise each student's face (`store::consent`): the state in force, and every
/// change with who said so. Students from before start as not asked: their faces stay on the
/// hub but reach no door unit until an answer is recorded.
const MIGRATION_20: &str = "
ALTER TABLE students ADD COLUMN consent TEXT NOT NULL DEFAULT 'not_asked'
    CHECK (consent IN ('not_asked', 'requested', 'given', 'refused', 'withdrawn', 'objected'));
CREATE TABLE consent_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    by_whom TEXT,
    signed_on TEXT,
    reference TEXT,
    note TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX consent_changes_student ON consent_changes(student_id, id);
";

/// The keys faces have been sealed with (`store::keys`), by id: never the keys themselves, which
/// live in a file of their own. A key in use must be in the hub's key file for it to start; a
/// retired key seals nothing any more.
const MIGRATION_21: &str = "
CREATE TABLE face_keys (
    id TEXT PRIMARY KEY,
    added_at INTEGER NOT NULL,
    retired_at INTEGER
);
";

/// Records from a teacher's class photo (`crate::class_photo`) beside the door units': each
/// record says where it came from, a door unit's names the unit, a class photo's the user who
/// took it. SQLite cannot drop a NOT NULL, so the table is copied (as migration 4 did).
const MIGRATION_22: &str = "
CREATE TABLE records_sourced (
    id TEXT PRIMARY KEY,
    device_id TEXT REFERENCES devices(id),
    room TEXT NOT NULL CHECK (length(CAST(room AS BLOB)) BETWEEN 1 AND 64),
    captured_at INTEGER NOT NULL CHECK (captured_at BETWEEN 946684800000 AND 7258118399999),
    received_at INTEGER NOT NULL CHECK (received_at BETWEEN 946684800000 AND 7258118399999),
    model TEXT NOT NULL,
    gallery_version INTEGER NOT NULL,
    embedding BLOB NOT NULL,
    candidates TEXT NOT NULL CHECK (json_valid(candidates)),
    decision TEXT NOT NULL CHECK (decision IN ('confident', 'uncertain', 'unknown')),
    thumbnail BLOB,
    quality TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'reassigned')),
    final_student TEXT,
    reviewed_by TEXT,
    reviewed_at INTEGER,
    clock_synchronised INTEGER,
    source TEXT NOT NULL DEFAULT 'door' CHECK (source IN ('door', 'class_photo')),
    taken_by TEXT,
    CHECK ((source = 'door') = (device_id IS NOT NULL)),
    CHECK ((source = 'class_photo') = (taken_by IS NOT NULL))
);
INSERT INTO records_sourced (id, device_id, room, captured_at, received_at, model,
    gallery_version, embedding, candidates, decision, thumbnail, quality, status,
    final_student, reviewed_by, reviewed_at, clock_synchronised)
SELECT id, device_id, room, captured_at, received_at, model, gallery_version, embedding,
    candidates, decision, thumbnail, quality, status, final_student, reviewed_by, reviewed_at,
    clock_synchronised
FROM records;
DROP TABLE records;
ALTER TABLE records_sourced RENAME TO records;
CREATE INDEX records_room_time ON records(room, captured_at);
CREATE INDEX records_status_keys ON records(status, captured_at, id, room);
CREATE INDEX records_time_keys ON records(captured_at, id, room);
CREATE INDEX records_pending_unknown ON records(captured_at, id)
    WHERE status = 'pending' AND decision = 'unknown';
";

/// What each user chose for themselves (`PATCH /account`): the daily digest on or off and its
/// time (minutes after the school's midnight; NULL: the school's `[email.digest] at`), and the
/// class their pages open on (forgotten with the class).
const MIGRATION_23: &str = "
ALTER TABLE users ADD COLUMN digest INTEGER NOT NULL DEFAULT 1 CHECK (digest IN (0, 1));
ALTER TABLE users ADD COLUMN digest_at INTEGER CHECK (digest_at BETWEEN 0 AND 1439);
ALTER TABLE users ADD COLUMN default_class TEXT REFERENCES classes(id) ON DELETE SET NULL;
";

/// A retired attendance code stays for the entries that use it but is offered no more.
const MIGRATION_24: &str = "
ALTER TABLE attendance_codes ADD COLUMN retired INTEGER NOT NULL DEFAULT 0
    CHECK (retired IN (0, 1));
";

/// Entry and exit: which way each door unit's camera faces (every unit so far: both ways), the
/// direction each door record was stored with (a class photo's: none), and the built-in code a
/// register entry is written with when the student left before the lesson ended. A school's
/// own `LE`, if it had one, is kept.
const MIGRATION_25: &str = "
ALTER TABLE devices ADD COLUMN direction TEXT NOT NULL DEFAULT 'both'
    CHECK (direction IN ('in', 'out', 'both'));
ALTER TABLE records ADD COLUMN direction TEXT CHECK (direction IN ('in', 'out', 'both'));
UPDATE records SET direction = 'both' WHERE source = 'door';
INSERT OR IGNORE INTO attendance_codes (code, meaning, mark)
    VALUES ('LE', 'Present, left before the end of the lesson', 'present');
";

/// Emergency roll calls, kept as the record of each drill: who was expected at the assembly
/// point (names and classes as they were), who was ticked off, when and by whom.
const MIGRATION_26: &str = "
CREATE TABLE roll_calls (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('drill', 'emergency')),
    started_at INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    ended_at INTEGER,
    ended_by TEXT
);
CREATE INDEX roll_calls_started ON roll_calls(started_at);
CREATE TABLE roll_call_people (
    roll_call_id TEXT NOT NULL REFERENCES roll_calls(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL,
    student_name TEXT NOT NULL,
    class_name TEXT NOT NULL,
    room TEXT,
    last_seen_at INTEGER,
    expected INTEGER NOT NULL CHECK (expected IN (0, 1)),
    accounted_at INTEGER,
    accounted_by TEXT,
    PRIMARY KEY (roll_call_id, student_id)
);
";

/// A student is more than a name: their year group, form (or department), date of birth
/// (`YYYY-MM-DD`), and whether they are active (an inactive student stays on the roll with their
/// classes but is not expected at lessons and is in no door unit's gallery). Each enrolment
/// template may be switched off (a bad photo kept but not matched against) without deleting it.
const MIGRATION_27: &str = "
ALTER TABLE students ADD COLUMN year_group TEXT;
ALTER TABLE students ADD COLUMN form TEXT;
ALTER TABLE students ADD COLUMN born_on TEXT;
ALTER TABLE students ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE embeddings ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
";

/// Door units set from the hub: the settings an admin chose for a room (`room:NAME`) or for
/// one unit (`device:ID`), as a JSON object of `edge.toml` keys (`{"burst.frames": 7}`); and
/// for each unit the version of its settings (one more at every change that reaches it), the
/// version it says is in force, and the last it refused with its reason.
const MIGRATION_28: &str = "
CREATE TABLE unit_settings (
    scope TEXT PRIMARY KEY CHECK (scope LIKE 'room:%' OR scope LIKE 'device:%'),
    settings TEXT NOT NULL CHECK (json_valid(settings)),
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE TABLE unit_settings_state (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    version INTEGER NOT NULL DEFAULT 0,
    in_force INTEGER,
    refused_version INTEGER,
    refused_reason TEXT,
    reported_at INTEGER
);
";

/// PostgreSQL's door-unit settings lacked SQLite's check that they are JSON (found by the test
/// that both engines end with the same schema); SQLite has had it since schema 28.
const MIGRATION_29: &str = "
-- Nothing to do on SQLite.
";

/// Protocol 6: the door unit's liveness check of a record's face: whether it was judged live
/// (0: a possible photo or screen) and the probability that it is real; both NULL when the
/// face was not checked (a class photo's, an older unit's, or one that was no Confident
/// match).
const MIGRATION_30: &str = "
ALTER TABLE records ADD COLUMN live INTEGER CHECK (live IN (0, 1));
ALTER TABLE records ADD COLUMN live_score REAL CHECK (live_score BETWEEN 0 AND 1);
";

/// What the school's office keeps beyond names: a class's code (as its timetable and the school
/// information system write it, `7B/Ma2`), a student's e-mail address and phone (shown to
/// admins only, erased with the student), the note a teacher may leave when deciding on a
/// record, the SHA-256 of the photo an enrolment came from (a folder enrolled again does not
/// enrol the same photo twice), and the visitors signed in at reception (a badge code unique
/// among those on site; no face of a visitor is taken).
const MIGRATION_31: &str = "
ALTER TABLE classes ADD COLUMN code TEXT CHECK (length(code) BETWEEN 1 AND 32);
CREATE UNIQUE INDEX classes_code ON classes(code) WHERE code IS NOT NULL;
ALTER TABLE students ADD COLUMN email TEXT CHECK (length(email) BETWEEN 3 AND 254);
ALTER TABLE students ADD COLUMN phone TEXT CHECK (length(phone) BETWEEN 1 AND 32);
ALTER TABLE records ADD COLUMN review_note TEXT CHECK (length(review_note) BETWEEN 1 AND 500);
ALTER TABLE embeddings ADD COLUMN photo_sha256 TEXT CHECK (length(photo_sha256) = 64);
CREATE INDEX embeddings_photo ON embeddings(student_id, photo_sha256);
CREATE TABLE visitors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    organisation TEXT CHECK (length(organisation) BETWEEN 1 AND 200),
    visiting TEXT NOT NULL CHECK (length(visiting) BETWEEN 1 AND 200),
    vehicle TEXT CHECK (length(vehicle) BETWEEN 1 AND 16),
    badge TEXT NOT NULL CHECK (length(badge) = 6),
    signed_in_at INTEGER NOT NULL,
    signed_in_by TEXT NOT NULL,
    signed_out_at INTEGER,
    signed_out_by TEXT
);
CREATE INDEX visitors_signed_in ON visitors(signed_in_at);
CREATE UNIQUE INDEX visitors_badge_on_site ON visitors(badge) WHERE signed_out_at IS NULL;
";

/// Students' own accounts and invitations. A user of role `student` is linked to exactly one
/// student and goes with them when they are erased. The table is rebuilt (SQLite cannot widen
/// the role's CHECK in place) with foreign keys off, so its drop cascades to nothing.
/// An invitation is kept by its link's SHA-256 only; used or expired, it stays for the audit
/// until its user goes.
const MIGRATION_32: &str = "-- rebuilds tables: foreign keys off
CREATE TABLE users_with_students (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'teacher', 'student')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    email TEXT,
    external_ref TEXT,
    digest INTEGER NOT NULL DEFAULT 1 CHECK (digest IN (0, 1)),
    digest_at INTEGER CHECK (digest_at BETWEEN 0 AND 1439),
    default_class TEXT REFERENCES classes(id) ON DELETE SET NULL,
    student_id TEXT REFERENCES students(id) ON DELETE CASCADE,
    CHECK ((role = 'student') = (student_id IS NOT NULL))
);
INSERT INTO users_with_students (id, username, display_name, role, password_hash, disabled,
    created_at, email, external_ref, digest, digest_at, default_class)
SELECT id, username, display_name, role, password_hash, disabled, created_at, email,
    external_ref, digest, digest_at, default_class
FROM users;
DROP TABLE users;
ALTER TABLE users_with_students RENAME TO users;
CREATE UNIQUE INDEX users_external_ref ON users(external_ref) WHERE external_ref IS NOT NULL;
CREATE UNIQUE INDEX users_student ON users(student_id) WHERE student_id IS NOT NULL;
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE CHECK (length(digest) = 64),
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    sent_at INTEGER,
    send_error TEXT
);
CREATE INDEX invitations_user ON invitations(user_id);
";

/// Visitors on the emergency roll call: those signed in when it started (`expected`) and any
/// ticked off though signed in later. A line goes with its visit when the visitor log's
/// retention removes it.
const MIGRATION_33: &str = "
CREATE TABLE roll_call_visitors (
    roll_call_id TEXT NOT NULL REFERENCES roll_calls(id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    expected INTEGER NOT NULL CHECK (expected IN (0, 1)),
    accounted_at INTEGER,
    accounted_by TEXT,
    PRIMARY KEY (roll_call_id, visitor_id)
);
CREATE INDEX roll_call_visitors_visitor ON roll_call_visitors(visitor_id);
";

/// Staff: the people who work at the school, by their personnel code; each coming and going
/// (signed at reception, or a door unit at a gate), kept `retention.staff_log_days`; and staff
/// on the emergency roll call, like visitors.
const MIGRATION_34: &str = "
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    department TEXT CHECK (length(department) BETWEEN 1 AND 200),
    position TEXT CHECK (length(position) BETWEEN 1 AND 200),
    email TEXT CHECK (length(email) BETWEEN 3 AND 254),
    phone TEXT CHECK (length(phone) BETWEEN 1 AND 32),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    external_ref TEXT,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX staff_external_ref ON staff(external_ref) WHERE external_ref IS NOT NULL;
CREATE TABLE staff_log (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    source TEXT NOT NULL CHECK (source IN ('reception', 'door')),
    device_id TEXT,
    confidence REAL CHECK (confidence BETWEEN 0 AND 1),
    recorded_by TEXT,
    CHECK ((source = 'door') = (device_id IS NOT NULL))
);
CREATE INDEX staff_log_staff ON staff_log(staff_id, at);
CREATE INDEX staff_log_at ON staff_log(at);
CREATE TABLE roll_call_staff (
    roll_call_id TEXT NOT NULL REFERENCES roll_calls(id) ON DELETE CASCADE,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    expected INTEGER NOT NULL CHECK (expected IN (0, 1)),
    accounted_at INTEGER,
    accounted_by TEXT,
    PRIMARY KEY (roll_call_id, staff_id)
);
CREATE INDEX roll_call_staff_member ON roll_call_staff(staff_id);
";

/// Each student's guardians (their contacts): who, how related, how reached, in which
/// language, in which order, whether they are told of absences and whether they have parental
/// responsibility. They go with the student.
const MIGRATION_35: &str = "
CREATE TABLE guardians (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 9),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    relationship TEXT NOT NULL
        CHECK (relationship IN ('parent', 'guardian', 'carer', 'relative', 'other')),
    email TEXT CHECK (length(email) BETWEEN 3 AND 254),
    phone TEXT CHECK (length(phone) BETWEEN 1 AND 32),
    language TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 35),
    notices INTEGER NOT NULL CHECK (notices IN (0, 1)),
    responsibility INTEGER NOT NULL CHECK (responsibility IN (0, 1)),
    UNIQUE (student_id, priority)
);
";

/// Staff's faces (issue 56): each member's consent, as a student's (their own, given or
/// refused in writing), its history, and the enrolment templates a gate is sent.
const MIGRATION_36: &str = "
ALTER TABLE staff ADD COLUMN consent TEXT NOT NULL DEFAULT 'not_asked'
    CHECK (consent IN ('not_asked', 'requested', 'given', 'refused', 'withdrawn'));
CREATE TABLE staff_consent_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    signed_on TEXT,
    reference TEXT,
    note TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX staff_consent_changes_staff ON staff_consent_changes(staff_id, id);
CREATE TABLE staff_faces (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    embedding BLOB NOT NULL,
    thumbnail BLOB,
    figures TEXT,
    photo_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (staff_id, photo_sha256)
);
CREATE INDEX staff_faces_staff ON staff_faces(staff_id, created_at);
";

/// Families' messages in the school's own words (issue 57): one template of a kind in a
/// language; without one, the built-in words.
const MIGRATION_37: &str = "
CREATE TABLE family_messages (
    kind TEXT NOT NULL CHECK (kind IN ('absence', 'arrived')),
    language TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 35),
    subject TEXT NOT NULL,
    email TEXT NOT NULL,
    sms TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, language)
);
";

/// The first-day notice (issue 57): each absence a family is told of, their reply and the
/// office's decision (`absence_notices`), each message sent for it (`notice_messages`), and
/// the attendance code a mark set by hand stands for when it is not its mark's default (a
/// family's reason, accepted while the session is open).
const MIGRATION_38: &str = "
ALTER TABLE marks ADD COLUMN code TEXT;
CREATE TABLE absence_notices (
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    language TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    reason TEXT CHECK (reason IN ('ill', 'medical', 'religious', 'other')),
    note TEXT CHECK (length(note) <= 500),
    replied_at INTEGER,
    decision TEXT CHECK (decision IN ('accepted', 'rejected')),
    decided_by TEXT,
    decided_at INTEGER,
    decision_note TEXT,
    arrived_at INTEGER,
    PRIMARY KEY (student_id, day)
);
CREATE TABLE notice_messages (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('absence', 'arrived')),
    contact INTEGER NOT NULL CHECK (contact BETWEEN 1 AND 9),
    guardian TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    address TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    FOREIGN KEY (student_id, day) REFERENCES absence_notices(student_id, day) ON DELETE CASCADE,
    UNIQUE (student_id, day, kind, contact, channel)
);
CREATE INDEX notice_messages_due ON notice_messages(status, next_try_at);
";

/// Guardians' own accounts (issue 57): a user of role `guardian` is linked to no student; the
/// children they see are those whose guardian with parental responsibility has their address
/// (`rollcall_school::family`). The table is rebuilt as in migration 32 to widen the role's
/// CHECK.
const MIGRATION_39: &str = "-- rebuilds tables: foreign keys off
CREATE TABLE users_with_guardians (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'teacher', 'student', 'guardian')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    email TEXT,
    external_ref TEXT,
    digest INTEGER NOT NULL DEFAULT 1 CHECK (digest IN (0, 1)),
    digest_at INTEGER CHECK (digest_at BETWEEN 0 AND 1439),
    default_class TEXT REFERENCES classes(id) ON DELETE SET NULL,
    student_id TEXT REFERENCES students(id) ON DELETE CASCADE,
    CHECK ((role = 'student') = (student_id IS NOT NULL)),
    CHECK (role <> 'guardian' OR email IS NOT NULL)
);
INSERT INTO users_with_guardians (id, username, display_name, role, password_hash, disabled,
    created_at, email, external_ref, digest, digest_at, default_class, student_id)
SELECT id, username, display_name, role, password_hash, disabled, created_at, email,
    external_ref, digest, digest_at, default_class, student_id
FROM users;
DROP TABLE users;
ALTER TABLE users_with_guardians RENAME TO users;
CREATE UNIQUE INDEX users_external_ref ON users(external_ref) WHERE external_ref IS NOT NULL;
CREATE UNIQUE INDEX users_student ON users(student_id) WHERE student_id IS NOT NULL;
CREATE INDEX guardians_email ON guardians(lower(email)) WHERE email IS NOT NULL;
";

/// The day a student joined a class (issue 73, point 4): reports count them from it. `NULL`:
/// a member since before the register began (every membership made before this migration).
const MIGRATION_40: &str = "
ALTER TABLE class_members ADD COLUMN joined_on TEXT CHECK (joined_on IS date(joined_on));
";

/// The HTTP request each audit entry was made in (`rollcall_runtime::request_id`), so a change
/// can be found in the hub's log and a log line's change in the audit.
const MIGRATION_41: &str = "ALTER TABLE audit_log ADD COLUMN request_id TEXT;";

/// Write-back to the school's MIS (issue 69): the outbox, one row per pupil and day holding
/// the statutory marks the MIS should have (`rollcall_store::mis`), the office's table of
/// Rollcall's codes to the MIS's, and the nightly comparison with the MIS: each day compared,
/// and each pupil-day that differed, until the office settles it.
const MIGRATION_42: &str = "
CREATE TABLE mis_outbox (
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL CHECK (day IS date(day)),
    am TEXT,
    pm TEXT,
    version INTEGER NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL CHECK (status IN ('pending', 'written', 'refused')),
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER NOT NULL,
    last_error TEXT,
    written_version INTEGER,
    written_at INTEGER,
    mis_ref TEXT,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (student_id, day)
);
CREATE INDEX mis_outbox_due ON mis_outbox(status, next_try_at);
CREATE TABLE mis_codes (
    code TEXT PRIMARY KEY,
    mis_code TEXT NOT NULL CHECK (length(mis_code) BETWEEN 1 AND 306),
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE mis_differences (
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL CHECK (day IS date(day)),
    ours_am TEXT,
    ours_pm TEXT,
    theirs_am TEXT,
    theirs_pm TEXT,
    found_at INTEGER NOT NULL,
    settled TEXT CHECK (settled IN ('ours', 'theirs')),
    settled_by TEXT,
    settled_at INTEGER,
    PRIMARY KEY (student_id, day)
);
CREATE TABLE mis_comparisons (
    day TEXT PRIMARY KEY CHECK (day IS date(day)),
    compared_at INTEGER NOT NULL,
    pupils INTEGER NOT NULL,
    differences INTEGER NOT NULL
);
";

/// Lesson registers written back to the MIS (issue 69): one row per pupil and lesson
/// (`rollcall_store::mis::lessons`), the lesson's mark the MIS should hold, with the same
/// versioned life as a statutory day's row.
const MIGRATION_43: &str = "
CREATE TABLE mis_lesson_outbox (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL CHECK (day IS date(day)),
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL CHECK (status IN ('pending', 'written', 'refused')),
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER NOT NULL,
    last_error TEXT,
    written_version INTEGER,
    written_at INTEGER,
    mis_ref TEXT,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (slot_id, day, student_id),
    FOREIGN KEY (slot_id, day) REFERENCES register_sessions(slot_id, day) ON DELETE CASCADE
);
CREATE INDEX mis_lesson_outbox_due ON mis_lesson_outbox(status, next_try_at);
CREATE INDEX mis_lesson_outbox_student ON mis_lesson_outbox(student_id, day);
";

/// Where every child is, lesson by lesson (issue 70): the pastoral permission an admin gives,
/// each teacher's choice of a reminder for a register not taken, the pupils found missing from
/// a lesson (one row per pupil and lesson: alerted once, then found or ended), the registers
/// whose teacher was reminded (`rollcall_store::missing`), and pupils signed out at reception
/// and back in (`rollcall_store::sign_outs`). A lesson's rows name its slot without a foreign
/// key: they outlive a lesson taken off the timetable.
const MIGRATION_44: &str = "
ALTER TABLE users ADD COLUMN pastoral INTEGER NOT NULL DEFAULT 0 CHECK (pastoral IN (0, 1));
ALTER TABLE users ADD COLUMN register_reminders INTEGER NOT NULL DEFAULT 1
    CHECK (register_reminders IN (0, 1));
CREATE TABLE missing_alerts (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL CHECK (day IS date(day)),
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    class_name TEXT NOT NULL,
    room TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    in_school TEXT NOT NULL,
    alerted_at INTEGER NOT NULL,
    ended TEXT CHECK (ended IN ('found', 'reason', 'left', 'lesson_over', 'lesson_gone')),
    ended_at INTEGER,
    mailed_at INTEGER,
    found_mailed_at INTEGER,
    PRIMARY KEY (slot_id, day, student_id)
);
CREATE INDEX missing_alerts_day ON missing_alerts(day, ended);
CREATE TABLE register_reminders (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL CHECK (day IS date(day)),
    teacher_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    reminded_at INTEGER NOT NULL,
    mailed_at INTEGER,
    PRIMARY KEY (slot_id, day)
);
CREATE TABLE sign_outs (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL CHECK (day IS date(day)),
    out_at INTEGER NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('medical', 'ill', 'collected')),
    collected_by TEXT,
    note TEXT,
    signed_out_by TEXT NOT NULL,
    back_at INTEGER,
    signed_in_by TEXT,
    CHECK (reason != 'collected' OR collected_by IS NOT NULL)
);
CREATE INDEX sign_outs_day ON sign_outs(day, student_id);
";

/// One-off registers (issue 70): a trip, a club, an exam or a detention made by a member of
/// staff for a day and a time, with its pupils, each marked by hand (`rollcall_store::activities`).
/// A trip's pupils are given the off-site code in the lessons it covers
/// (`rollcall_school::activities`). And the `Idempotency-Key` of each change a client sent,
/// with the answer it had (`rollcall_store::idempotency`): a phone's queued decision sent twice
/// is done once.
const MIGRATION_45: &str = "
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('trip', 'club', 'exam', 'detention')),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    day TEXT NOT NULL CHECK (day IS date(day)),
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    place TEXT,
    created_by TEXT NOT NULL,
    owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    CHECK (end_minute > start_minute)
);
CREATE INDEX activities_day ON activities(day);
CREATE TABLE activity_pupils (
    activity_id TEXT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    mark TEXT CHECK (mark IN ('present', 'late', 'absent')),
    marked_by TEXT,
    marked_at INTEGER,
    PRIMARY KEY (activity_id, student_id)
);
CREATE INDEX activity_pupils_student ON activity_pupils(student_id);
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status INTEGER,
    response TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
";

/// The schema version this build brings a database to.
pub fn schema_version() -> usize {
    MIGRATIONS.len()
}

/// Runs every migration the database has not seen yet.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    Ok(sqlite::migrate(conn, MIGRATIONS)?)
}

/// Runs the migrations up to schema version `target`.
#[cfg(test)]
fn migrate_to(conn: &mut Connection, target: usize) -> Result<(), StoreError> {
    Ok(sqlite::migrate_to(conn, MIGRATIONS, target)?)
}

#[cfg(test)]
mod engines_agree;
#[cfg(test)]
mod tests;
