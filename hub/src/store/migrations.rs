//! Numbered schema migrations. `PRAGMA user_version` holds how many have run; each runs once,
//! in its own transaction. Migrations are append-only: never edit one that has shipped.

use rollcall_runtime::sqlite;
use rusqlite::Connection;

use super::StoreError;

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
];

const MIGRATION_1: &str = "
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'teacher')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    teacher_id TEXT REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE TABLE students (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    external_ref TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE class_members (
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    PRIMARY KEY (class_id, student_id)
);
CREATE TABLE embeddings (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    embedding BLOB NOT NULL,
    quality REAL,
    thumbnail BLOB,
    created_at INTEGER NOT NULL
);
CREATE INDEX embeddings_student ON embeddings(student_id, model);
CREATE TABLE timetable (
    id TEXT PRIMARY KEY,
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    room TEXT NOT NULL,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL,
    CHECK (start_minute < end_minute AND end_minute <= 1440)
);
CREATE INDEX timetable_room ON timetable(room);
CREATE TABLE terms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL
);
CREATE TABLE holidays (
    day TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    room TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    credential_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen_at INTEGER,
    outbox_depth INTEGER,
    gallery_version INTEGER,
    software_version TEXT,
    last_error TEXT
);
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    room TEXT NOT NULL,
    captured_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    model TEXT NOT NULL,
    gallery_version INTEGER NOT NULL,
    embedding BLOB NOT NULL,
    candidates TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('confident', 'uncertain', 'unknown')),
    thumbnail BLOB,
    quality TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'reassigned')),
    final_student TEXT,
    reviewed_by TEXT,
    reviewed_at INTEGER
);
CREATE INDEX records_status ON records(status, captured_at);
CREATE INDEX records_room_time ON records(room, captured_at);
CREATE TABLE marks (
    slot_id TEXT NOT NULL REFERENCES timetable(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    mark TEXT NOT NULL CHECK (mark IN ('present', 'late', 'absent', 'excused')),
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (slot_id, day, student_id)
);
CREATE TABLE device_galleries (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    state BLOB NOT NULL,
    sent_at INTEGER NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT,
    at INTEGER NOT NULL
);
";

/// Quality figures (JSON) of embeddings made from enrolment photos.
const MIGRATION_2: &str = "ALTER TABLE embeddings ADD COLUMN figures TEXT;";

/// Covering indexes for the review queue and the record list: with them, finding the newest
/// records a teacher may see reads index pages only, not records with their embeddings and
/// thumbnails (a `GET /review` over 165,000 records took up to a second without them).
const MIGRATION_3: &str = "
DROP INDEX records_status;
CREATE INDEX records_status_keys ON records(status, captured_at, id, room);
CREATE INDEX records_time_keys ON records(captured_at, id, room);
";

/// Quarantine for records the hub does not believe, and constraints that keep such rows out
/// of `records`: times inside 2000-01-01..2200-01-01 UTC (Unix ms, the range the API accepts
/// for dates), valid candidate JSON, a room name as long as the wire allows. SQLite adds
/// CHECKs only by rebuilding the table; rows that would break them move to quarantine first.
/// Rooms and students of old rows are not judged here: a door unit may have moved since, a
/// student may have left.
const MIGRATION_4: &str = "
CREATE TABLE quarantine (
    record_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    room TEXT NOT NULL,
    captured_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    decision TEXT NOT NULL,
    candidates TEXT NOT NULL,
    thumbnail BLOB,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX quarantine_received ON quarantine(received_at, record_id);

INSERT OR IGNORE INTO quarantine
SELECT id, device_id, room, captured_at, received_at, decision,
    CASE WHEN json_valid(candidates) THEN candidates ELSE '[]' END, thumbnail,
    CASE
        WHEN captured_at NOT BETWEEN 946684800000 AND 7258118399999 THEN 'out_of_range'
        WHEN received_at NOT BETWEEN 946684800000 AND 7258118399999 THEN 'out_of_range'
        ELSE 'malformed'
    END,
    'moved here by the upgrade to schema 4: ' || CASE
        WHEN captured_at NOT BETWEEN 946684800000 AND 7258118399999
            THEN 'captured_at ' || captured_at || ' ms is outside the years 2000-2199'
        WHEN received_at NOT BETWEEN 946684800000 AND 7258118399999
            THEN 'received_at ' || received_at || ' ms is outside the years 2000-2199'
        WHEN NOT json_valid(candidates) THEN 'its candidates are not valid JSON'
        ELSE 'its room name is empty or longer than 64 bytes'
    END
FROM records
WHERE captured_at NOT BETWEEN 946684800000 AND 7258118399999
    OR received_at NOT BETWEEN 946684800000 AND 7258118399999
    OR NOT json_valid(candidates)
    OR length(CAST(room AS BLOB)) NOT BETWEEN 1 AND 64;

CREATE TABLE records_checked (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
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
    reviewed_at INTEGER
);
INSERT INTO records_checked
SELECT * FROM records WHERE id NOT IN (SELECT record_id FROM quarantine);
DROP TABLE records;
ALTER TABLE records_checked RENAME TO records;
CREATE INDEX records_room_time ON records(room, captured_at);
CREATE INDEX records_status_keys ON records(status, captured_at, id, room);
CREATE INDEX records_time_keys ON records(captured_at, id, room);
";

/// Where each gallery template came from: an enrolment photo, the embeddings API, a record a
/// teacher reviewed, or a door unit's Confident capture (the last two "learned", with the
/// record they came from).
const MIGRATION_5: &str = "
ALTER TABLE embeddings ADD COLUMN source TEXT NOT NULL DEFAULT 'photo'
    CHECK (source IN ('photo', 'api', 'review', 'door'));
ALTER TABLE embeddings ADD COLUMN record_id TEXT;
CREATE INDEX embeddings_source ON embeddings(student_id, source, created_at);
";

/// Sign-ins that can end: one row per sign-in (a family of refresh tokens, with an absolute
/// end and a revocation time) and one per refresh token, kept only as its SHA-256, spent when
/// used. Access tokens name their family, so ending a family ends them too.
const MIGRATION_6: &str = "
CREATE TABLE signins (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX signins_user ON signins(user_id);
CREATE TABLE refresh_tokens (
    token_sha256 TEXT PRIMARY KEY,
    signin_id TEXT NOT NULL REFERENCES signins(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    spent_at INTEGER
);
CREATE INDEX refresh_tokens_signin ON refresh_tokens(signin_id);
";

/// The register: closed sessions written once, amendments appended, never overwritten. No
/// foreign keys to the timetable, classes or students: what a closed session was (its class,
/// room, times and each student's name) is copied in, so later edits and erasures leave it.
const MIGRATION_7: &str = "
CREATE TABLE attendance_codes (
    code TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 4),
    meaning TEXT NOT NULL CHECK (length(meaning) BETWEEN 1 AND 200),
    mark TEXT NOT NULL
        CHECK (mark IN ('present', 'late', 'excused', 'absent', 'not_required'))
);
INSERT INTO attendance_codes (code, meaning, mark) VALUES
    ('/', 'Present', 'present'),
    ('L', 'Late, arrived before the register closed', 'late'),
    ('B', 'Off-site educational activity', 'present'),
    ('C', 'Authorised absence: exceptional circumstances', 'excused'),
    ('I', 'Illness', 'excused'),
    ('M', 'Medical or dental appointment', 'excused'),
    ('R', 'Religious observance', 'excused'),
    ('E', 'Suspended or excluded', 'excused'),
    ('U', 'Late, arrived after the register closed', 'absent'),
    ('G', 'Holiday not authorised by the school', 'absent'),
    ('O', 'Absent in other or unknown circumstances', 'absent'),
    ('N', 'No reason yet provided for absence', 'absent'),
    ('X', 'Not required to attend', 'not_required'),
    ('#', 'Planned whole-school closure', 'not_required');
CREATE TABLE register_sessions (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL,
    class_id TEXT NOT NULL,
    class_name TEXT NOT NULL,
    room TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    closed_at INTEGER NOT NULL,
    PRIMARY KEY (slot_id, day)
);
CREATE INDEX register_sessions_day ON register_sessions(day);
CREATE TABLE register_entries (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL,
    student_id TEXT NOT NULL,
    student_name TEXT NOT NULL,
    code TEXT NOT NULL REFERENCES attendance_codes(code),
    source TEXT NOT NULL CHECK (source IN ('record', 'override', 'closed')),
    first_seen_at INTEGER,
    evidence TEXT NOT NULL CHECK (json_valid(evidence)),
    reason TEXT,
    PRIMARY KEY (slot_id, day, student_id),
    FOREIGN KEY (slot_id, day) REFERENCES register_sessions(slot_id, day)
);
CREATE INDEX register_entries_student ON register_entries(student_id, day);
CREATE TABLE register_amendments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL,
    student_id TEXT NOT NULL,
    code TEXT NOT NULL REFERENCES attendance_codes(code),
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    by_user TEXT NOT NULL,
    by_name TEXT NOT NULL,
    by_role TEXT NOT NULL,
    at INTEGER NOT NULL,
    FOREIGN KEY (slot_id, day, student_id)
        REFERENCES register_entries(slot_id, day, student_id)
);
CREATE INDEX register_amendments_entry ON register_amendments(slot_id, day, student_id);
CREATE TRIGGER register_sessions_fixed BEFORE UPDATE ON register_sessions
BEGIN SELECT RAISE(ABORT, 'a closed session never changes'); END;
CREATE TRIGGER register_entries_fixed BEFORE UPDATE ON register_entries
BEGIN SELECT RAISE(ABORT, 'a register entry never changes: add an amendment'); END;
CREATE TRIGGER register_amendments_fixed BEFORE UPDATE ON register_amendments
BEGIN SELECT RAISE(ABORT, 'an amendment never changes: add another'); END;
CREATE TABLE register_progress (
    slot INTEGER PRIMARY KEY CHECK (slot = 1),
    closed_through TEXT NOT NULL
);
";

/// Strangers an admin or teacher dismissed: the centre (mean embedding) of the faces they
/// dismissed, so a new face of the same person is dismissed as it arrives. Biometric data:
/// purged with the reviewed crops (`retention.thumbnail_days`). An index for an Unknown face
/// arriving, and for the strangers' cards: the pending Unknown records, newest first.
const MIGRATION_8: &str = "
CREATE TABLE dismissed_strangers (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    centroid BLOB NOT NULL,
    faces INTEGER NOT NULL CHECK (faces > 0),
    dismissed_by TEXT NOT NULL,
    dismissed_at INTEGER NOT NULL
);
CREATE INDEX dismissed_strangers_model ON dismissed_strangers(model, dismissed_at);
CREATE INDEX records_pending_unknown ON records(captured_at, id)
    WHERE status = 'pending' AND decision = 'unknown';
";

/// When a student stopped being in any class (set and cleared by the retention pass): their
/// enrolment photos and templates are deleted `retention.leaver_days` after.
const MIGRATION_9: &str = "
ALTER TABLE students ADD COLUMN left_at INTEGER;
";

/// The webhook outbox: one row per event and receiver, until it is delivered or given up.
const MIGRATION_10: &str = "
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
";

/// Timetable changes take effect from a date: a slot runs from `valid_from` through
/// `valid_until` (NULL: open-ended), so ending a slot keeps the sessions it had.
const MIGRATION_11: &str = "
ALTER TABLE timetable ADD COLUMN valid_from TEXT CHECK (valid_from IS date(valid_from));
ALTER TABLE timetable ADD COLUMN valid_until TEXT CHECK (valid_until IS date(valid_until));
";

/// What a door unit's heartbeat says beyond version 1: the protocol version it speaks (the
/// hub answers in it), its face model, its free disk, and how far its clock is from the hub's.
const MIGRATION_12: &str = "
ALTER TABLE devices ADD COLUMN protocol_version INTEGER;
ALTER TABLE devices ADD COLUMN model TEXT;
ALTER TABLE devices ADD COLUMN free_disk_bytes INTEGER;
ALTER TABLE devices ADD COLUMN clock_offset_ms INTEGER;
";

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
/// direction each door record was stored with (a class photo's: none; a student's records by
/// time, for their days' comings and goings), and the built-in code a
/// register entry is written with when the student left before the lesson ended. A school's
/// own `LE`, if it had one, is kept.
const MIGRATION_25: &str = "
ALTER TABLE devices ADD COLUMN direction TEXT NOT NULL DEFAULT 'both'
    CHECK (direction IN ('in', 'out', 'both'));
ALTER TABLE records ADD COLUMN direction TEXT CHECK (direction IN ('in', 'out', 'both'));
UPDATE records SET direction = 'both' WHERE source = 'door';
CREATE INDEX records_student_time ON records(final_student, captured_at);
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
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_record_their_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len());
    }

    #[test]
    fn schema_4_moves_rows_that_break_its_constraints_to_quarantine_and_keeps_the_rest() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_to(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO devices (id, name, room, credential_hash, created_at)
                 VALUES ('d1', 'door', 'Lab 3', 'h', 0);
             INSERT INTO records (id, device_id, room, captured_at, received_at, model,
                 gallery_version, embedding, candidates, decision, quality, status)
             VALUES
                 ('good', 'd1', 'Lab 3', 1790000000000, 1790000000500, 'm', 1, x'00',
                     '[]', 'unknown', '{}', 'pending'),
                 ('absurd', 'd1', 'Lab 3', 8210266833600000, 1790000000500, 'm', 1, x'00',
                     '[]', 'unknown', '{}', 'pending'),
                 ('epoch', 'd1', 'Lab 3', 1790000000000, 5, 'm', 1, x'00',
                     '[]', 'confident', '{}', 'approved'),
                 ('garbled', 'd1', 'Lab 3', 1790000000000, 1790000000500, 'm', 1, x'00',
                     '[{', 'uncertain', '{}', 'pending');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let kept: Vec<String> = conn
            .prepare("SELECT id FROM records")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kept, ["good"]);
        let held: Vec<(String, String, String)> = conn
            .prepare("SELECT record_id, reason, detail FROM quarantine ORDER BY record_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let reasons: Vec<(&str, &str)> = held
            .iter()
            .map(|(id, reason, _)| (id.as_str(), reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("absurd", "out_of_range"),
                ("epoch", "out_of_range"),
                ("garbled", "malformed")
            ]
        );
        assert!(
            held[0].2.contains("captured_at 8210266833600000 ms"),
            "{}",
            held[0].2
        );
        assert!(held[1].2.contains("received_at 5 ms"), "{}", held[1].2);
        let indexes: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'
                 AND name IN ('records_room_time', 'records_status_keys', 'records_time_keys')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 3);
    }

    #[test]
    fn schema_8_keeps_the_records_and_remembers_dismissed_strangers() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_to(&mut conn, 7).unwrap();
        conn.execute_batch(
            "INSERT INTO devices (id, name, room, credential_hash, created_at)
                 VALUES ('d1', 'door', 'Lab 3', 'h', 0);
             INSERT INTO records (id, device_id, room, captured_at, received_at, model,
                 gallery_version, embedding, candidates, decision, quality, status)
             VALUES ('r1', 'd1', 'Lab 3', 1790000000000, 1790000000500, 'm', 1, x'00',
                 '[]', 'unknown', '{}', 'pending');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let kept: i64 = conn
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1);
        let insert = "INSERT INTO dismissed_strangers
            (id, model, centroid, faces, dismissed_by, dismissed_at) VALUES (?1, 'm', x'00', ?2, 'u', 1)";
        conn.execute(insert, rusqlite::params!["a", 3]).unwrap();
        assert!(
            conn.execute(insert, rusqlite::params!["b", 0]).is_err(),
            "a dismissal covers at least one face"
        );
    }

    #[test]
    fn schema_13_keeps_users_and_forgets_a_deleted_users_digests() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_to(&mut conn, 12).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at)
                 VALUES ('u1', 'tess', 'Tess', 'teacher', 'h', 0);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let email: Option<String> = conn
            .query_row("SELECT email FROM users WHERE id = 'u1'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(email, None, "existing users have no address");
        conn.execute_batch(
            "INSERT INTO email_digests (user_id, day, status, next_at, updated_at)
                 VALUES ('u1', '2026-11-24', 'sent', 0, 0);
             DELETE FROM users WHERE id = 'u1';",
        )
        .unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM email_digests", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        let bad = conn.execute(
            "INSERT INTO email_digests (user_id, day, status, next_at, updated_at)
                 VALUES ('u2', '2026-11-24', 'maybe', 0, 0)",
            [],
        );
        assert!(
            bad.is_err(),
            "a status is one of four, for an existing user"
        );
    }
}
