//! The first twelve migrations, as they shipped (append-only: never edited).

pub(super) const MIGRATION_1: &str = "
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
pub(super) const MIGRATION_2: &str = "ALTER TABLE embeddings ADD COLUMN figures TEXT;";

/// Covering indexes for the review queue and the record list: with them, finding the newest
/// records a teacher may see reads index pages only, not records with their embeddings and
/// thumbnails (a `GET /review` over 165,000 records took up to a second without them).
pub(super) const MIGRATION_3: &str = "
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
pub(super) const MIGRATION_4: &str = "
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
pub(super) const MIGRATION_5: &str = "
ALTER TABLE embeddings ADD COLUMN source TEXT NOT NULL DEFAULT 'photo'
    CHECK (source IN ('photo', 'api', 'review', 'door'));
ALTER TABLE embeddings ADD COLUMN record_id TEXT;
CREATE INDEX embeddings_source ON embeddings(student_id, source, created_at);
";

/// Sign-ins that can end: one row per sign-in (a family of refresh tokens, with an absolute
/// end and a revocation time) and one per refresh token, kept only as its SHA-256, spent when
/// used. Access tokens name their family, so ending a family ends them too.
pub(super) const MIGRATION_6: &str = "
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
pub(super) const MIGRATION_7: &str = "
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
pub(super) const MIGRATION_8: &str = "
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
pub(super) const MIGRATION_9: &str = "
ALTER TABLE students ADD COLUMN left_at INTEGER;
";

/// The webhook outbox: one row per event and receiver, until it is delivered or given up.
pub(super) const MIGRATION_10: &str = "
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
pub(super) const MIGRATION_11: &str = "
ALTER TABLE timetable ADD COLUMN valid_from TEXT CHECK (valid_from IS date(valid_from));
ALTER TABLE timetable ADD COLUMN valid_until TEXT CHECK (valid_until IS date(valid_until));
";

/// What a door unit's heartbeat says beyond version 1: the protocol version it speaks (the
/// hub answers in it), its face model, its free disk, and how far its clock is from the hub's.
pub(super) const MIGRATION_12: &str = "
ALTER TABLE devices ADD COLUMN protocol_version INTEGER;
ALTER TABLE devices ADD COLUMN model TEXT;
ALTER TABLE devices ADD COLUMN free_disk_bytes INTEGER;
ALTER TABLE devices ADD COLUMN clock_offset_ms INTEGER;
";
