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
