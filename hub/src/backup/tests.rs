use super::*;
use crate::setup;

const DAY: i64 = 24 * 3_600_000;
/// 2026-11-23 08:00 UTC.
const MONDAY: UnixMillis = UnixMillis(1_795_420_800_000);

/// An initialised data directory with one admin.
fn hub() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    setup::init(dir.path(), "admin", "a long enough password").unwrap();
    dir
}

fn database(dir: &Path) -> PathBuf {
    dir.join(DATABASE_FILE)
}

fn users(path: &Path) -> Vec<String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn
        .prepare("SELECT username FROM users ORDER BY username")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_backup_is_one_checked_file_with_what_the_database_held() {
    let hub = hub();
    let to = hub.path().join("copy.sqlite3");
    let summary = take(&database(hub.path()), &to).unwrap();
    assert_eq!(summary.schema, schema_version());
    assert_eq!(summary.records, 0);
    assert!(summary.bytes > 0);
    assert_eq!(users(&to), ["admin"]);
    assert!(
        !with_suffix(&to, "-wal").exists(),
        "a backup has no log beside it"
    );
    assert!(!partial_path(&to).exists());
}

#[test]
fn a_backup_never_overwrites_a_file() {
    let hub = hub();
    let to = hub.path().join("there.sqlite3");
    std::fs::write(&to, b"keep me").unwrap();
    let err = take(&database(hub.path()), &to).unwrap_err();
    assert!(matches!(err, BackupError::Exists(_)), "{err}");
    assert_eq!(std::fs::read(&to).unwrap(), b"keep me");
}

#[test]
fn check_refuses_what_is_not_a_hub_backup() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
    let empty = dir.path().join("empty.sqlite3");
    Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let newer = dir.path().join("newer.sqlite3");
    let hub = hub();
    take(&database(hub.path()), &newer).unwrap();
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", schema_version() + 1)
        .unwrap();
    for (file, says) in [
        (&garbage, "not a database"),
        (&empty, "no hub schema"),
        (&newer, "newer than this build"),
    ] {
        let err = check(file).unwrap_err().to_string();
        assert!(err.contains(says), "{}: {err}", file.display());
    }
}

#[test]
fn restore_refuses_while_a_hub_serves_the_directory() {
    let hub = hub();
    let backup = hub.path().join("b.sqlite3");
    take(&database(hub.path()), &backup).unwrap();
    let serving = DataDirLock::acquire(hub.path()).unwrap();
    let err = restore(&backup, hub.path(), MONDAY).unwrap_err();
    assert!(matches!(err, BackupError::Running(_)), "{err}");
    drop(serving);
    restore(&backup, hub.path(), MONDAY).unwrap();
}

#[test]
fn restore_keeps_the_database_it_replaces() {
    let hub = hub();
    let backup = hub.path().join("b.sqlite3");
    take(&database(hub.path()), &backup).unwrap();
    let db = setup::open(hub.path()).unwrap();
    setup::add_user(
        &db,
        "late",
        "Added after the backup",
        rollcall_store::users::Role::Teacher,
        "another long password",
        None,
    )
    .unwrap();
    drop(db);

    let restored = restore(&backup, hub.path(), MONDAY).unwrap();
    assert_eq!(users(&database(hub.path())), ["admin"]);
    let kept = restored.kept.expect("the old database is kept");
    assert!(kept.ends_with("hub.sqlite3.before-restore-20261123T080000Z"));
    assert_eq!(users(&kept), ["admin", "late"]);
    assert!(!restored.new_key);
}

#[test]
fn restore_into_a_new_directory_makes_a_signing_key() {
    let hub = hub();
    let backup = hub.path().join("b.sqlite3");
    take(&database(hub.path()), &backup).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("data");
    let restored = restore(&backup, &target, MONDAY).unwrap();
    assert!(restored.new_key && restored.kept.is_none());
    SigningKey::load(&target).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o700,
            "a new data directory is the hub's user's only"
        );
    }
    assert_eq!(users(&database(&target)), ["admin"]);
}

#[test]
fn a_bad_file_changes_nothing() {
    let hub = hub();
    let garbage = hub.path().join("garbage");
    std::fs::write(&garbage, b"no").unwrap();
    let before = std::fs::read(database(hub.path())).unwrap();
    assert!(restore(&garbage, hub.path(), MONDAY).is_err());
    assert_eq!(std::fs::read(database(hub.path())).unwrap(), before);
}

#[test]
fn scheduled_backups_are_taken_when_due_and_the_oldest_beyond_keep_go() {
    let hub = hub();
    let dir = hub.path().join("backups");
    let config = BackupConfig {
        dir: Some(dir.clone()),
        every_hours: 24,
        keep: 2,
    };
    let db = database(hub.path());
    let unrelated = {
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("notes.txt");
        std::fs::write(&p, b"mine").unwrap();
        p
    };
    let at = |days: i64, hours: i64| UnixMillis(MONDAY.0 + days * DAY + hours * 3_600_000);
    assert!(scheduled(&db, &config, &dir, at(0, 0)).unwrap().is_some());
    assert!(
        scheduled(&db, &config, &dir, at(0, 23)).unwrap().is_none(),
        "not due within the day"
    );
    assert!(scheduled(&db, &config, &dir, at(1, 0)).unwrap().is_some());
    assert!(scheduled(&db, &config, &dir, at(2, 1)).unwrap().is_some());
    let names: Vec<String> = scheduled_in(&dir)
        .unwrap()
        .iter()
        .map(|(_, p)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "hub-20261124T080000Z.sqlite3",
            "hub-20261125T090000Z.sqlite3"
        ]
    );
    assert!(unrelated.exists(), "other files are left alone");
}

#[test]
fn a_backup_dated_ahead_of_the_clock_does_not_hold_the_schedule_back() {
    let hub = hub();
    let dir = hub.path().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hub-20991231T000000Z.sqlite3"), b"").unwrap();
    let config = BackupConfig {
        dir: Some(dir.clone()),
        every_hours: 24,
        keep: 7,
    };
    let taken = scheduled(&database(hub.path()), &config, &dir, MONDAY).unwrap();
    assert!(taken.is_some(), "due: no backup dated at or before now");
}

#[test]
fn a_backup_dated_ahead_of_the_clock_does_not_count_towards_keep() {
    let hub = hub();
    let dir = hub.path().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let ahead = dir.join("hub-20991231T000000Z.sqlite3");
    std::fs::write(&ahead, b"").unwrap();
    let config = BackupConfig {
        dir: Some(dir.clone()),
        every_hours: 24,
        keep: 2,
    };
    let db = database(hub.path());
    for day in 0..3 {
        let now = UnixMillis(MONDAY.0 + day * 86_400_000);
        assert!(scheduled(&db, &config, &dir, now).unwrap().is_some());
    }
    let names = scheduled_in(&dir).unwrap();
    assert_eq!(
        names.len(),
        3,
        "two real backups kept, and the one dated ahead: {names:?}"
    );
    assert!(ahead.exists(), "the one dated ahead is left alone");
}
