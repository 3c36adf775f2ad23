//! The schema on PostgreSQL. Versions count as SQLite's do (`store::schema_version`): the
//! PostgreSQL back end arrived at schema 17, so its history starts with [`BASELINE`], schema 17
//! whole; every later migration is written for both engines, appended to both lists.
//!
//! Columns take the types SQLite's values map to (`BIGINT`, `DOUBLE PRECISION`, `TEXT`,
//! `BYTEA`), and the functions SQLite has and PostgreSQL lacks (`instr`, `json_valid`) are
//! defined, so the store's SQL reads the same on both. The database must sort text by code
//! point as SQLite does (collation `C`): [`migrate`] refuses any other.

use postgres::Client;

use super::Schema;
use crate::error::StoreError;

/// Schema 17, created in one step.
const BASELINE: &str = r#"
CREATE FUNCTION json_valid(t TEXT) RETURNS BOOLEAN LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM t::jsonb;
    RETURN TRUE;
EXCEPTION WHEN others THEN
    RETURN FALSE;
END $$;
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS BIGINT LANGUAGE sql IMMUTABLE
    AS $$ SELECT strpos(haystack, needle) $$;
CREATE FUNCTION rollcall_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END $$;

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'teacher')),
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    email TEXT,
    external_ref TEXT
);
CREATE UNIQUE INDEX users_external_ref ON users(external_ref) WHERE external_ref IS NOT NULL;
CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    teacher_id TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    external_ref TEXT
);
CREATE UNIQUE INDEX classes_external_ref ON classes(external_ref) WHERE external_ref IS NOT NULL;
CREATE TABLE students (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    external_ref TEXT,
    created_at BIGINT NOT NULL,
    left_at BIGINT
);
CREATE INDEX students_external_ref ON students(external_ref);
CREATE TABLE class_members (
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    PRIMARY KEY (class_id, student_id)
);
CREATE TABLE embeddings (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    embedding BYTEA NOT NULL,
    quality DOUBLE PRECISION,
    thumbnail BYTEA,
    created_at BIGINT NOT NULL,
    figures TEXT,
    source TEXT NOT NULL DEFAULT 'photo' CHECK (source IN ('photo', 'api', 'review', 'door')),
    record_id TEXT
);
CREATE INDEX embeddings_student ON embeddings(student_id, model);
CREATE INDEX embeddings_source ON embeddings(student_id, source, created_at);
CREATE TABLE timetable (
    id TEXT PRIMARY KEY,
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    room TEXT NOT NULL,
    weekday BIGINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_minute BIGINT NOT NULL,
    end_minute BIGINT NOT NULL,
    valid_from TEXT CHECK (to_char(valid_from::date, 'YYYY-MM-DD') = valid_from),
    valid_until TEXT CHECK (to_char(valid_until::date, 'YYYY-MM-DD') = valid_until),
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
    enabled BIGINT NOT NULL DEFAULT 1,
    credential_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    online BIGINT NOT NULL DEFAULT 0,
    last_seen_at BIGINT,
    outbox_depth BIGINT,
    gallery_version BIGINT,
    software_version TEXT,
    last_error TEXT,
    protocol_version BIGINT,
    model TEXT,
    free_disk_bytes BIGINT,
    clock_offset_ms BIGINT,
    clock_synchronised BIGINT,
    retired_at BIGINT,
    replaced_by TEXT
);
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    room TEXT NOT NULL CHECK (octet_length(room) BETWEEN 1 AND 64),
    captured_at BIGINT NOT NULL CHECK (captured_at BETWEEN 946684800000 AND 7258118399999),
    received_at BIGINT NOT NULL CHECK (received_at BETWEEN 946684800000 AND 7258118399999),
    model TEXT NOT NULL,
    gallery_version BIGINT NOT NULL,
    embedding BYTEA NOT NULL,
    candidates TEXT NOT NULL CHECK (json_valid(candidates)),
    decision TEXT NOT NULL CHECK (decision IN ('confident', 'uncertain', 'unknown')),
    thumbnail BYTEA,
    quality TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'reassigned')),
    final_student TEXT,
    reviewed_by TEXT,
    reviewed_at BIGINT,
    clock_synchronised BIGINT
);
CREATE INDEX records_room_time ON records(room, captured_at);
CREATE INDEX records_status_keys ON records(status, captured_at, id, room);
CREATE INDEX records_time_keys ON records(captured_at, id, room);
CREATE INDEX records_pending_unknown ON records(captured_at, id)
    WHERE status = 'pending' AND decision = 'unknown';
CREATE TABLE quarantine (
    record_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    room TEXT NOT NULL,
    captured_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    decision TEXT NOT NULL,
    candidates TEXT NOT NULL,
    thumbnail BYTEA,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX quarantine_received ON quarantine(received_at, record_id);
CREATE TABLE marks (
    slot_id TEXT NOT NULL REFERENCES timetable(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    mark TEXT NOT NULL CHECK (mark IN ('present', 'late', 'absent', 'excused')),
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (slot_id, day, student_id)
);
CREATE TABLE device_galleries (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    state BYTEA NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT,
    at BIGINT NOT NULL
);
CREATE TABLE signins (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX signins_user ON signins(user_id);
CREATE TABLE refresh_tokens (
    token_sha256 TEXT PRIMARY KEY,
    signin_id TEXT NOT NULL REFERENCES signins(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    spent_at BIGINT
);
CREATE INDEX refresh_tokens_signin ON refresh_tokens(signin_id);
CREATE TABLE attendance_codes (
    code TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 4),
    meaning TEXT NOT NULL CHECK (length(meaning) BETWEEN 1 AND 200),
    mark TEXT NOT NULL
        CHECK (mark IN ('present', 'late', 'excused', 'absent', 'not_required')),
    -- SQLite's implicit rowid, by which the codes list in the order they were added
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
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
    weekday BIGINT NOT NULL,
    start_minute BIGINT NOT NULL,
    end_minute BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    closed_at BIGINT NOT NULL,
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
    first_seen_at BIGINT,
    evidence TEXT NOT NULL CHECK (json_valid(evidence)),
    reason TEXT,
    PRIMARY KEY (slot_id, day, student_id),
    FOREIGN KEY (slot_id, day) REFERENCES register_sessions(slot_id, day)
);
CREATE INDEX register_entries_student ON register_entries(student_id, day);
CREATE TABLE register_amendments (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL,
    student_id TEXT NOT NULL,
    code TEXT NOT NULL REFERENCES attendance_codes(code),
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    by_user TEXT NOT NULL,
    by_name TEXT NOT NULL,
    by_role TEXT NOT NULL,
    at BIGINT NOT NULL,
    FOREIGN KEY (slot_id, day, student_id)
        REFERENCES register_entries(slot_id, day, student_id)
);
CREATE INDEX register_amendments_entry ON register_amendments(slot_id, day, student_id);
CREATE TRIGGER register_sessions_fixed BEFORE UPDATE ON register_sessions
    FOR EACH ROW EXECUTE FUNCTION rollcall_fixed('a closed session never changes');
CREATE TRIGGER register_entries_fixed BEFORE UPDATE ON register_entries
    FOR EACH ROW EXECUTE FUNCTION rollcall_fixed('a register entry never changes: add an amendment');
CREATE TRIGGER register_amendments_fixed BEFORE UPDATE ON register_amendments
    FOR EACH ROW EXECUTE FUNCTION rollcall_fixed('an amendment never changes: add another');
CREATE TABLE register_progress (
    slot BIGINT PRIMARY KEY CHECK (slot = 1),
    closed_through TEXT NOT NULL
);
CREATE TABLE dismissed_strangers (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    centroid BYTEA NOT NULL,
    faces BIGINT NOT NULL CHECK (faces > 0),
    dismissed_by TEXT NOT NULL,
    dismissed_at BIGINT NOT NULL
);
CREATE INDEX dismissed_strangers_model ON dismissed_strangers(model, dismissed_at);
CREATE TABLE webhook_deliveries (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    delivered_at BIGINT,
    failed_at BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE TABLE email_digests (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'empty', 'retrying', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE TABLE at_risk_students (
    class_id TEXT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    since BIGINT NOT NULL,
    PRIMARY KEY (class_id, student_id)
);
CREATE TABLE provisioning_codes (
    digest TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    used_from TEXT
);
CREATE INDEX provisioning_codes_device ON provisioning_codes(device_id);
"#;

/// The schema version [`BASELINE`] creates.
const BASELINE_VERSION: usize = 17;

/// Migrations after the baseline, written for PostgreSQL, in step with SQLite's list.
const AFTER_BASELINE: &[&str] = &[
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

/// Schema 18 (SQLite's migration 18): the hubs alive, and leases.
const MIGRATION_18: &str = "
CREATE TABLE hubs (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
";

/// Schema 19 (SQLite's migration 19): discarded unknown faces per door unit.
const MIGRATION_19: &str = "
ALTER TABLE devices ADD COLUMN discarded_since_start BIGINT;
ALTER TABLE devices ADD COLUMN unknown_discarded BIGINT NOT NULL DEFAULT 0;
";

/// Schema 20 (SQLite's migration 20): consent to recognise each student's face.
const MIGRATION_20: &str = "
ALTER TABLE students ADD COLUMN consent TEXT NOT NULL DEFAULT 'not_asked'
    CHECK (consent IN ('not_asked', 'requested', 'given', 'refused', 'withdrawn', 'objected'));
CREATE TABLE consent_changes (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    by_whom TEXT,
    signed_on TEXT,
    reference TEXT,
    note TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX consent_changes_student ON consent_changes(student_id, id);
";

/// The keys faces have been sealed with (`store::keys`), by id: never the keys themselves, which
/// live in a file of their own. A key in use must be in the hub's key file for it to start; a
/// retired key seals nothing any more.
const MIGRATION_21: &str = "
CREATE TABLE face_keys (
    id TEXT PRIMARY KEY,
    added_at BIGINT NOT NULL,
    retired_at BIGINT
);
";

/// Schema 22 (SQLite's migration 22): records from a teacher's class photo, by the user who
/// took it, beside the door units'.
const MIGRATION_22: &str = "
ALTER TABLE records ALTER COLUMN device_id DROP NOT NULL;
ALTER TABLE records ADD COLUMN source TEXT NOT NULL DEFAULT 'door'
    CHECK (source IN ('door', 'class_photo'));
ALTER TABLE records ADD COLUMN taken_by TEXT;
ALTER TABLE records ADD CONSTRAINT records_door_has_device
    CHECK ((source = 'door') = (device_id IS NOT NULL));
ALTER TABLE records ADD CONSTRAINT records_photo_has_taker
    CHECK ((source = 'class_photo') = (taken_by IS NOT NULL));
";

/// Schema 23 (SQLite's migration 23): each user's digest and default class.
const MIGRATION_23: &str = "
ALTER TABLE users ADD COLUMN digest BIGINT NOT NULL DEFAULT 1 CHECK (digest IN (0, 1));
ALTER TABLE users ADD COLUMN digest_at BIGINT CHECK (digest_at BETWEEN 0 AND 1439);
ALTER TABLE users ADD COLUMN default_class TEXT REFERENCES classes(id) ON DELETE SET NULL;
";

/// Schema 24 (SQLite's migration 24): retired attendance codes.
const MIGRATION_24: &str = "
ALTER TABLE attendance_codes ADD COLUMN retired BIGINT NOT NULL DEFAULT 0
    CHECK (retired IN (0, 1));
";

/// Schema 25 (SQLite's migration 25): entry and exit.
const MIGRATION_25: &str = "
ALTER TABLE devices ADD COLUMN direction TEXT NOT NULL DEFAULT 'both'
    CHECK (direction IN ('in', 'out', 'both'));
ALTER TABLE records ADD COLUMN direction TEXT CHECK (direction IN ('in', 'out', 'both'));
UPDATE records SET direction = 'both' WHERE source = 'door';
INSERT INTO attendance_codes (code, meaning, mark)
    VALUES ('LE', 'Present, left before the end of the lesson', 'present')
    ON CONFLICT (code) DO NOTHING;
";

/// Schema 26 (SQLite's migration 26): emergency roll calls.
const MIGRATION_26: &str = "
CREATE TABLE roll_calls (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('drill', 'emergency')),
    started_at BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    ended_at BIGINT,
    ended_by TEXT
);
CREATE INDEX roll_calls_started ON roll_calls(started_at);
CREATE TABLE roll_call_people (
    roll_call_id TEXT NOT NULL REFERENCES roll_calls(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL,
    student_name TEXT NOT NULL,
    class_name TEXT NOT NULL,
    room TEXT,
    last_seen_at BIGINT,
    expected BIGINT NOT NULL CHECK (expected IN (0, 1)),
    accounted_at BIGINT,
    accounted_by TEXT,
    PRIMARY KEY (roll_call_id, student_id)
);
";

/// Schema 27 (SQLite's migration 27): a student's year group, form, date of birth and active
/// flag; an active flag per enrolment template.
const MIGRATION_27: &str = "
ALTER TABLE students ADD COLUMN year_group TEXT;
ALTER TABLE students ADD COLUMN form TEXT;
ALTER TABLE students ADD COLUMN born_on TEXT;
ALTER TABLE students ADD COLUMN active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE embeddings ADD COLUMN active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
";

/// Schema 28 (SQLite's migration 28): door units' settings from the hub.
const MIGRATION_28: &str = "
CREATE TABLE unit_settings (
    scope TEXT PRIMARY KEY CHECK (scope LIKE 'room:%' OR scope LIKE 'device:%'),
    settings TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE TABLE unit_settings_state (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    version BIGINT NOT NULL DEFAULT 0,
    in_force BIGINT,
    refused_version BIGINT,
    refused_reason TEXT,
    reported_at BIGINT
);
";

/// Schema 29 (SQLite's migration 29): door units' settings must be JSON, as on SQLite since
/// schema 28.
const MIGRATION_29: &str = "
ALTER TABLE unit_settings ADD CONSTRAINT unit_settings_settings_check CHECK (json_valid(settings));
";

/// Schema 30 (SQLite's migration 30): the door unit's liveness check of a record's face.
const MIGRATION_30: &str = "
ALTER TABLE records ADD COLUMN live BIGINT CHECK (live IN (0, 1));
ALTER TABLE records ADD COLUMN live_score DOUBLE PRECISION CHECK (live_score BETWEEN 0 AND 1);
";

/// Schema 31 (SQLite's migration 31): class codes, students' e-mail and phone, review notes,
/// enrolment photos' digests, visitors.
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
    signed_in_at BIGINT NOT NULL,
    signed_in_by TEXT NOT NULL,
    signed_out_at BIGINT,
    signed_out_by TEXT
);
CREATE INDEX visitors_signed_in ON visitors(signed_in_at);
CREATE UNIQUE INDEX visitors_badge_on_site ON visitors(badge) WHERE signed_out_at IS NULL;
";

/// Schema 32 (SQLite's migration 32): students' own accounts and invitations.
const MIGRATION_32: &str = "
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'teacher', 'student'));
ALTER TABLE users ADD COLUMN student_id TEXT REFERENCES students(id) ON DELETE CASCADE;
ALTER TABLE users ADD CONSTRAINT users_student_role
    CHECK ((role = 'student') = (student_id IS NOT NULL));
CREATE UNIQUE INDEX users_student ON users(student_id) WHERE student_id IS NOT NULL;
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE CHECK (length(digest) = 64),
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    sent_at BIGINT,
    send_error TEXT
);
CREATE INDEX invitations_user ON invitations(user_id);
";

/// Schema 33 (SQLite's migration 33): visitors on the emergency roll call.
const MIGRATION_33: &str = "
CREATE TABLE roll_call_visitors (
    roll_call_id TEXT NOT NULL REFERENCES roll_calls(id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    expected BIGINT NOT NULL CHECK (expected IN (0, 1)),
    accounted_at BIGINT,
    accounted_by TEXT,
    PRIMARY KEY (roll_call_id, visitor_id)
);
CREATE INDEX roll_call_visitors_visitor ON roll_call_visitors(visitor_id);
";

/// Schema 34 (SQLite's migration 34): staff, their comings and goings, staff on the roll call.
const MIGRATION_34: &str = "
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    department TEXT CHECK (length(department) BETWEEN 1 AND 200),
    position TEXT CHECK (length(position) BETWEEN 1 AND 200),
    email TEXT CHECK (length(email) BETWEEN 3 AND 254),
    phone TEXT CHECK (length(phone) BETWEEN 1 AND 32),
    active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    external_ref TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX staff_external_ref ON staff(external_ref) WHERE external_ref IS NOT NULL;
CREATE TABLE staff_log (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    source TEXT NOT NULL CHECK (source IN ('reception', 'door')),
    device_id TEXT,
    confidence DOUBLE PRECISION CHECK (confidence BETWEEN 0 AND 1),
    recorded_by TEXT,
    CHECK ((source = 'door') = (device_id IS NOT NULL))
);
CREATE INDEX staff_log_staff ON staff_log(staff_id, at);
CREATE INDEX staff_log_at ON staff_log(at);
CREATE TABLE roll_call_staff (
    roll_call_id TEXT NOT NULL REFERENCES roll_calls(id) ON DELETE CASCADE,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    expected BIGINT NOT NULL CHECK (expected IN (0, 1)),
    accounted_at BIGINT,
    accounted_by TEXT,
    PRIMARY KEY (roll_call_id, staff_id)
);
CREATE INDEX roll_call_staff_member ON roll_call_staff(staff_id);
";

/// Schema 35 (SQLite's migration 35): students' guardians.
const MIGRATION_35: &str = "
CREATE TABLE guardians (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    priority BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 9),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    relationship TEXT NOT NULL
        CHECK (relationship IN ('parent', 'guardian', 'carer', 'relative', 'other')),
    email TEXT CHECK (length(email) BETWEEN 3 AND 254),
    phone TEXT CHECK (length(phone) BETWEEN 1 AND 32),
    language TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 35),
    notices BIGINT NOT NULL CHECK (notices IN (0, 1)),
    responsibility BIGINT NOT NULL CHECK (responsibility IN (0, 1)),
    UNIQUE (student_id, priority)
);
";

/// Schema 36 (SQLite's migration 36): staff's faces (issue 56): each member's consent, as a student's (their own, given or
/// refused in writing), its history, and the enrolment templates a gate is sent.
const MIGRATION_36: &str = "
ALTER TABLE staff ADD COLUMN consent TEXT NOT NULL DEFAULT 'not_asked'
    CHECK (consent IN ('not_asked', 'requested', 'given', 'refused', 'withdrawn'));
CREATE TABLE staff_consent_changes (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    signed_on TEXT,
    reference TEXT,
    note TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX staff_consent_changes_staff ON staff_consent_changes(staff_id, id);
CREATE TABLE staff_faces (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    embedding BYTEA NOT NULL,
    thumbnail BYTEA,
    figures TEXT,
    photo_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (staff_id, photo_sha256)
);
CREATE INDEX staff_faces_staff ON staff_faces(staff_id, created_at);
";

/// Schema 37 (SQLite's migration 37): families' messages in the school's own words (issue 57): one template of a kind in a
/// language; without one, the built-in words.
const MIGRATION_37: &str = "
CREATE TABLE family_messages (
    kind TEXT NOT NULL CHECK (kind IN ('absence', 'arrived')),
    language TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 35),
    subject TEXT NOT NULL,
    email TEXT NOT NULL,
    sms TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, language)
);
";

/// Schema 38 (SQLite's migration 38): the first-day notice (issue 57): each absence a family is told of, their reply and the
/// office's decision (`absence_notices`), each message sent for it (`notice_messages`), and
/// the attendance code a mark set by hand stands for when it is not its mark's default (a
/// family's reason, accepted while the session is open).
const MIGRATION_38: &str = "
ALTER TABLE marks ADD COLUMN code TEXT;
CREATE TABLE absence_notices (
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    language TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    reason TEXT CHECK (reason IN ('ill', 'medical', 'religious', 'other')),
    note TEXT CHECK (length(note) <= 500),
    replied_at BIGINT,
    decision TEXT CHECK (decision IN ('accepted', 'rejected')),
    decided_by TEXT,
    decided_at BIGINT,
    decision_note TEXT,
    arrived_at BIGINT,
    PRIMARY KEY (student_id, day)
);
CREATE TABLE notice_messages (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('absence', 'arrived')),
    contact BIGINT NOT NULL CHECK (contact BETWEEN 1 AND 9),
    guardian TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    address TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    tries BIGINT NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,
    last_error TEXT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (student_id, day) REFERENCES absence_notices(student_id, day) ON DELETE CASCADE,
    UNIQUE (student_id, day, kind, contact, channel)
);
CREATE INDEX notice_messages_due ON notice_messages(status, next_try_at);
";

/// Schema 39 (SQLite's migration 39): guardians' own accounts.
const MIGRATION_39: &str = "
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'teacher', 'student', 'guardian'));
ALTER TABLE users ADD CONSTRAINT users_guardian_email
    CHECK (role <> 'guardian' OR email IS NOT NULL);
CREATE INDEX guardians_email ON guardians(lower(email)) WHERE email IS NOT NULL;
";

/// Schema 40 (SQLite's migration 40): the day a student joined a class.
const MIGRATION_40: &str = "
ALTER TABLE class_members ADD COLUMN joined_on TEXT
    CHECK (to_char(joined_on::date, 'YYYY-MM-DD') = joined_on);
";

/// Schema 41 (SQLite's migration 41): the HTTP request each audit entry was made in.
const MIGRATION_41: &str = "ALTER TABLE audit_log ADD COLUMN request_id TEXT;";

/// Schema 42 (SQLite's migration 42): write-back to the school's MIS.
const MIGRATION_42: &str = "
CREATE TABLE mis_outbox (
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    am TEXT,
    pm TEXT,
    version BIGINT NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL CHECK (status IN ('pending', 'written', 'refused')),
    tries BIGINT NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,
    last_error TEXT,
    written_version BIGINT,
    written_at BIGINT,
    mis_ref TEXT,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (student_id, day)
);
CREATE INDEX mis_outbox_due ON mis_outbox(status, next_try_at);
CREATE TABLE mis_codes (
    code TEXT PRIMARY KEY,
    mis_code TEXT NOT NULL CHECK (length(mis_code) BETWEEN 1 AND 306),
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE mis_differences (
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    ours_am TEXT,
    ours_pm TEXT,
    theirs_am TEXT,
    theirs_pm TEXT,
    found_at BIGINT NOT NULL,
    settled TEXT CHECK (settled IN ('ours', 'theirs')),
    settled_by TEXT,
    settled_at BIGINT,
    PRIMARY KEY (student_id, day)
);
CREATE TABLE mis_comparisons (
    day TEXT PRIMARY KEY CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    compared_at BIGINT NOT NULL,
    pupils BIGINT NOT NULL,
    differences BIGINT NOT NULL
);
";

/// Schema 43 (SQLite's migration 43): lesson registers written back to the MIS.
const MIGRATION_43: &str = "
CREATE TABLE mis_lesson_outbox (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL CHECK (status IN ('pending', 'written', 'refused')),
    tries BIGINT NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL,
    last_error TEXT,
    written_version BIGINT,
    written_at BIGINT,
    mis_ref TEXT,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (slot_id, day, student_id),
    FOREIGN KEY (slot_id, day) REFERENCES register_sessions(slot_id, day) ON DELETE CASCADE
);
CREATE INDEX mis_lesson_outbox_due ON mis_lesson_outbox(status, next_try_at);
CREATE INDEX mis_lesson_outbox_student ON mis_lesson_outbox(student_id, day);
";

/// The schema version this build brings a PostgreSQL database to.
pub const fn schema_version() -> usize {
    BASELINE_VERSION + AFTER_BASELINE.len()
}

/// Schema 44 (SQLite's migration 44): pupils missing from lessons, registers not taken, pupils
/// signed out at reception.
const MIGRATION_44: &str = "
ALTER TABLE users ADD COLUMN pastoral BIGINT NOT NULL DEFAULT 0 CHECK (pastoral IN (0, 1));
ALTER TABLE users ADD COLUMN register_reminders BIGINT NOT NULL DEFAULT 1
    CHECK (register_reminders IN (0, 1));
CREATE TABLE missing_alerts (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    class_name TEXT NOT NULL,
    room TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    in_school TEXT NOT NULL,
    alerted_at BIGINT NOT NULL,
    ended TEXT CHECK (ended IN ('found', 'reason', 'left', 'lesson_over', 'lesson_gone')),
    ended_at BIGINT,
    mailed_at BIGINT,
    found_mailed_at BIGINT,
    PRIMARY KEY (slot_id, day, student_id)
);
CREATE INDEX missing_alerts_day ON missing_alerts(day, ended);
CREATE TABLE register_reminders (
    slot_id TEXT NOT NULL,
    day TEXT NOT NULL CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    teacher_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    reminded_at BIGINT NOT NULL,
    mailed_at BIGINT,
    PRIMARY KEY (slot_id, day)
);
CREATE TABLE sign_outs (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day TEXT NOT NULL CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    out_at BIGINT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('medical', 'ill', 'collected')),
    collected_by TEXT,
    note TEXT,
    signed_out_by TEXT NOT NULL,
    back_at BIGINT,
    signed_in_by TEXT,
    CHECK (reason != 'collected' OR collected_by IS NOT NULL)
);
CREATE INDEX sign_outs_day ON sign_outs(day, student_id);
";

/// Schema 45 as SQLite's: one-off registers (trips, clubs, exams, detentions) with their
/// pupils' marks, and the `Idempotency-Key` of each change a client sent with its answer.
const MIGRATION_45: &str = "
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('trip', 'club', 'exam', 'detention')),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    day TEXT NOT NULL CHECK (to_char(day::date, 'YYYY-MM-DD') = day),
    start_minute BIGINT NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute BIGINT NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    place TEXT,
    created_by TEXT NOT NULL,
    owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    CHECK (end_minute > start_minute)
);
CREATE INDEX activities_day ON activities(day);
CREATE TABLE activity_pupils (
    activity_id TEXT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    mark TEXT CHECK (mark IN ('present', 'late', 'absent')),
    marked_by TEXT,
    marked_at BIGINT,
    PRIMARY KEY (activity_id, student_id)
);
CREATE INDEX activity_pupils_student ON activity_pupils(student_id);
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status BIGINT,
    response TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
";

/// The lock held while migrating, so hubs starting together migrate once.
const MIGRATION_LOCK: i64 = 0x726f_6c6c_6d69_6772;

/// Brings the school's tables in `schema` (made when missing, as the connection's only
/// `search_path`) up to date, under a lock other hubs wait on.
pub fn migrate(client: &mut Client, schema: &Schema) -> Result<(), StoreError> {
    check_collation(client)?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema.as_str()],
        )?
        .get(0);
    if !exists {
        // A schema name is plain lower-case ASCII ([`Schema`]): written as is, never quoted.
        tx.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
    }
    let fresh: bool = tx
        .query_one("SELECT to_regclass('rollcall_schema') IS NULL", &[])?
        .get(0);
    if fresh {
        tx.batch_execute(
            "CREATE TABLE rollcall_schema (
                 slot BIGINT PRIMARY KEY CHECK (slot = 1),
                 version BIGINT NOT NULL
             )",
        )?;
    }
    let found: Option<i64> = tx
        .query_opt("SELECT version FROM rollcall_schema", &[])?
        .map(|row| row.get(0));
    let found = found.map_or(0, |v| usize::try_from(v).unwrap_or(usize::MAX));
    if found > schema_version() {
        return Err(StoreError::Migrate(
            rollcall_runtime::sqlite::MigrateError::TooNew {
                found,
                known: schema_version(),
            },
        ));
    }
    let steps = std::iter::once((BASELINE_VERSION, BASELINE)).chain(
        AFTER_BASELINE
            .iter()
            .enumerate()
            .map(|(i, sql)| (BASELINE_VERSION + i + 1, *sql)),
    );
    for (version, sql) in steps.filter(|(v, _)| *v > found) {
        tx.batch_execute(sql)?;
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO rollcall_schema (slot, version) VALUES (1, $1)
             ON CONFLICT (slot) DO UPDATE SET version = excluded.version",
            &[&version],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Refuses a database that sorts text other than by code point: names would list in another
/// order than on SQLite, and uniqueness could differ.
fn check_collation(client: &mut Client) -> Result<(), StoreError> {
    let row = client.query_one(
        "SELECT datcollate FROM pg_database WHERE datname = current_database()",
        &[],
    )?;
    let collation: String = row.get(0);
    match collation.as_str() {
        "C" | "POSIX" | "C.UTF-8" | "C.utf8" => Ok(()),
        other => Err(StoreError::Config(format!(
            "the database sorts text by the collation {other:?}; Rollcall needs \"C\" (as \
             SQLite sorts): create it with CREATE DATABASE rollcall TEMPLATE template0 \
             ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ))),
    }
}
