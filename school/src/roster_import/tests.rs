use std::collections::BTreeMap;
use std::path::Path;

use rollcall_shared::{StudentId, UnixMillis};

use super::*;
use rollcall_store::{Db, imports, timetable};

const PLAIN: &str = "\
student_id,student_name,class_id,class_name,teacher_id,teacher_username,teacher_name,teacher_email
S1,Ada Lovelace,C7B,7B,T1,tess,Tess Ting,tess@school.test
S2,Bo Diddley,C7B,7B,T1,tess,Tess Ting,tess@school.test
S2,Bo Diddley,C8A,8A,,,,
S3,Cy Young,C8A,8A,,,,
";

/// When the tests import: Monday 23 November 2026 (a date of birth must not be after it).
const NOVEMBER: UnixMillis = UnixMillis(1_795_392_000_000);

fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        &dir.path().join("hub.sqlite3"),
        rollcall_store::engines::test_keys(),
    )
    .unwrap();
    (dir, db)
}

fn options(dry_run: bool) -> Options {
    Options {
        dry_run,
        confirm_leavers: None,
        add_terms: false,
        max_leavers_percent: 10,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    }
}

fn try_run(db: &Db, roster: &Roster, options: Options) -> Result<Plan, ImportError> {
    db.write_blocking(|tx| import(tx, roster, options, "test", NOVEMBER))
}

fn run(db: &Db, roster: &Roster, dry_run: bool) -> Plan {
    try_run(db, roster, options(dry_run)).unwrap()
}

fn count(plan: &Plan, kind: &str, action: &str) -> usize {
    plan.counts
        .get(kind)
        .and_then(|c| c.get(action))
        .copied()
        .unwrap_or(0)
}

fn fixture(case: &str) -> Roster {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oneroster");
    read_dir(&dir.join(case)).unwrap().unwrap()
}

fn fixture_files(case: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/oneroster");
    (ONEROSTER_FILES.iter())
        .filter_map(|f| Some((f.to_string(), std::fs::read(dir.join(case).join(f)).ok()?)))
        .collect()
}

fn members_of(db: &Db, class: &str) -> Vec<String> {
    let mut m: Vec<String> = (db.read_blocking(|sql| imports::members(sql)).unwrap())
        .into_iter()
        .filter(|(c, _)| c == class)
        .map(|(_, s)| s)
        .collect();
    m.sort();
    m
}

fn names(r: &Roster, role: Role) -> Vec<&str> {
    (r.people.iter())
        .filter(|p| p.role == Some(role))
        .map(|p| p.name.as_str())
        .collect()
}

#[test]
fn the_plain_csv_reads_students_classes_teachers_and_memberships() {
    let r = plain::read(PLAIN.as_bytes()).unwrap();
    assert_eq!(names(&r, Role::Student).len(), 3);
    assert_eq!(names(&r, Role::Teacher), ["Tess Ting"]);
    assert_eq!(r.classes.len(), 2);
    let students = r.enrollments.iter().filter(|e| e.role == Role::Student);
    assert_eq!(students.count(), 4);
    assert_eq!(r.coverage, Coverages::default(), "the whole school");
}

#[test]
fn bad_rows_are_each_reported_with_file_and_line() {
    let text =
        "student_id,student_name,class_id,class_name\nS1,,C1,7B\nS2,Bo,C1,\nS1,Ada,,\nS1,Other,,\n";
    let errors = plain::read(text.as_bytes()).unwrap_err();
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 5], "{errors:?}");
    assert!(errors[0].message.contains("student_name is empty"));
    assert!(errors[2].message.contains("different details"));
    let teachers = "student_id,student_name,class_id,class_name,teacher_id,teacher_username,teacher_email\n\
        S1,Ada,C1,7B,T1,Tess Ting,tess@school.test\nS2,Bo,C2,8A,T2,bob,not an address\n";
    let errors = plain::read(teachers.as_bytes()).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].message.contains("user name"), "{errors:?}");
    assert_eq!(errors[1].line, 3);
    let missing = plain::read(b"id,name\n1,x\n").unwrap_err();
    assert!(
        missing[0].message.contains("missing columns"),
        "{missing:?}"
    );
}

fn code_of(db: &Db, source: &str) -> Option<String> {
    let held = db.read_blocking(|sql| imports::classes(sql)).unwrap();
    held[source].code.clone()
}

#[test]
fn class_codes_are_imported_kept_when_unsaid_and_never_shared() {
    let (_dir, oneroster) = db();
    run(&oneroster, &fixture("v1.2-bulk"), false);
    assert_eq!(
        code_of(&oneroster, "K1").as_deref(),
        Some("7B"),
        "OneRoster's classCode"
    );

    let (_dir, db) = db();
    let by_hand = rollcall_store::school::Class {
        id: rollcall_shared::ClassId::random(),
        name: "7B Maths".into(),
        teacher_id: None,
        created_at: NOVEMBER,
        code: Some("7B".into()),
    };
    db.write_blocking(|sql| rollcall_store::school::insert_class(sql, &by_hand))
        .unwrap();
    let coded = "student_id,student_name,class_id,class_name,class_code\n\
        S1,Ada,C7,7 Maths,7/Ma1\nS2,Bo,C7,7 Maths,7/Ma1\nS3,Cy,C8,8 Maths,\n";
    let plan = run(&db, &plain::read(coded.as_bytes()).unwrap(), false);
    assert_eq!(count(&plan, "class", "create"), 2);
    assert_eq!(code_of(&db, "C7").as_deref(), Some("7/Ma1"));
    assert_eq!(code_of(&db, "C8"), None);

    let recoded = coded.replace("8 Maths,", "8 Maths,8/Ma1");
    let plan = run(&db, &plain::read(recoded.as_bytes()).unwrap(), false);
    assert_eq!(count(&plan, "class", "update"), 1, "{:?}", plan.steps);
    assert_eq!(code_of(&db, "C8").as_deref(), Some("8/Ma1"));

    let clash = coded.replace("8 Maths,", "8 Maths,7B");
    let Err(ImportError::Rows(errors)) =
        try_run(&db, &plain::read(clash.as_bytes()).unwrap(), options(false))
    else {
        panic!("a code another class has is refused");
    };
    assert!(
        errors[0]
            .message
            .contains(r#"class code "7B" is already "7B Maths"'s"#),
        "{errors:?}"
    );

    let twice = "student_id,student_name,class_id,class_name,class_code\n\
        S1,Ada,C7,7 Maths,X1\nS3,Cy,C8,8 Maths,X1\n";
    let errors = plain::read(twice.as_bytes()).unwrap_err();
    assert_eq!((errors[0].line, errors.len()), (3, 1), "{errors:?}");
    assert!(
        errors[0].message.contains("is also class C7's"),
        "{errors:?}"
    );
}

#[test]
fn a_dry_run_changes_nothing_and_the_same_file_twice_changes_nothing() {
    let (_dir, db) = db();
    let roster = plain::read(PLAIN.as_bytes()).unwrap();
    let dry = run(&db, &roster, true);
    assert_eq!(count(&dry, "student", "create"), 3);
    assert_eq!(count(&dry, "membership", "create"), 4);
    let again = run(&db, &roster, true);
    assert_eq!(again, dry, "a dry run wrote nothing");

    let done = run(&db, &roster, false);
    assert!(!done.dry_run && done.changes());
    let twice = run(&db, &roster, false);
    assert!(!twice.changes(), "{:?}", twice.steps);
    assert_eq!(count(&twice, "student", "unchanged"), 3);
}

#[test]
fn renamed_students_stay_themselves_and_missing_ones_leave_once_confirmed() {
    let (_dir, db) = db();
    run(&db, &plain::read(PLAIN.as_bytes()).unwrap(), false);
    let ids: Vec<(String, StudentId)> = (db.read_blocking(|sql| imports::students(sql)))
        .unwrap()
        .into_iter()
        .map(|(r, h)| (r, h.id))
        .collect();
    let next = PLAIN
        .replace("Ada Lovelace", "Ada King")
        .replace("S3,Cy Young,C8A,8A,,,,\n", "S4,Di Prima,C8A,8A,,,,\n")
        .replace("S2,Bo Diddley,C8A,8A,,,,\n", "");
    let roster = plain::read(next.as_bytes()).unwrap();

    // One leaver of three students is past the 10 % gate: refused, nothing changed.
    let Err(ImportError::Leavers(gate)) = try_run(&db, &roster, options(false)) else {
        panic!("the gate let one leaver in three through");
    };
    assert_eq!((gate.leavers, gate.students), (1, 3));
    assert_eq!(
        db.read_blocking(|sql| imports::students(sql)).unwrap()["S1"].name,
        "Ada Lovelace"
    );
    let dry = run(&db, &roster, true);
    assert!(dry.gate.needs_confirmation && !dry.gate.open());
    assert_eq!(
        dry.steps[0].action,
        Action::Leaver,
        "leavers first: {:?}",
        dry.steps
    );
    let wrong = Options {
        confirm_leavers: Some(2),
        ..options(false)
    };
    assert!(matches!(
        try_run(&db, &roster, wrong),
        Err(ImportError::Leavers(_))
    ));

    let confirmed = Options {
        confirm_leavers: Some(1),
        ..options(false)
    };
    let plan = try_run(&db, &roster, confirmed).unwrap();
    assert_eq!(count(&plan, "student", "update"), 1);
    assert_eq!(count(&plan, "student", "leaver"), 1);
    assert_eq!(count(&plan, "membership", "remove"), 1, "{:?}", plan.steps);
    assert_eq!(count(&plan, "membership", "create"), 1, "{:?}", plan.steps);
    let after = db.read_blocking(|sql| imports::students(sql)).unwrap();
    assert_eq!(after.len(), 4, "a leaver is kept");
    assert_eq!(after["S1"].name, "Ada King");
    assert!(ids.iter().all(|(r, id)| after[r].id == *id), "same ids");
    assert!(after["S3"].gone, "S3 is marked as left");
    assert!(!after["S1"].gone);
}

#[test]
fn oneroster_1_2_reads_roles_from_roles_csv_and_1_1_from_users_csv() {
    let r = fixture("v1.2-bulk");
    assert_eq!(r.format, "OneRoster 1.2");
    assert_eq!(
        names(&r, Role::Student),
        ["Ada Lovelace", "Bo Diddley", "Cy Young"]
    );
    assert_eq!(
        names(&r, Role::Teacher),
        ["Tess Ting"],
        "her primary role; the parent is not ours"
    );
    assert_eq!(r.people.len(), 4);
    let teacher = r
        .enrollments
        .iter()
        .find(|e| e.role == Role::Teacher)
        .unwrap();
    assert!(teacher.primary && teacher.user == "T1");
    let terms: Vec<&str> = r.terms.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        terms,
        ["Autumn term", "Spring term"],
        "terms, not the year or grading periods"
    );

    let r = fixture("v1.1-bulk");
    assert_eq!(r.format, "OneRoster 1.1");
    assert_eq!(names(&r, Role::Student), ["Ada Lovelace", "Bo Diddley"]);
    assert_eq!(names(&r, Role::Teacher), ["Tess Ting"]);
    assert_eq!(r.coverage.users, Coverage::Bulk);
    assert!(r.terms.is_empty(), "academicSessions absent");
}

#[test]
fn files_as_systems_write_them_are_read_whole() {
    let r = fixture("v1.2-real-files");
    let mut students = names(&r, Role::Student);
    students.sort();
    assert_eq!(
        students,
        [
            "Jean, Paul O'Brien-Smith",
            "Zoë Ångström-Ødegaard",
            "Мария Иванова",
            "محمد علي",
            "李 小龙"
        ]
    );
    assert_eq!(r.classes[0].name, "7B Maths, set 2");
    let (_dir, db) = db();
    let plan = run(&db, &r, false);
    assert_eq!(count(&plan, "membership", "create"), 5);
    assert_eq!(count(&plan, "teacher", "create"), 1);
    let teacher = db
        .read_blocking(|sql| rollcall_store::users::by_username(sql, "Tess.Ting+maths@school.test"))
        .unwrap();
    assert!(
        teacher.is_some(),
        "the teacher's e-mail address is her user name, as written"
    );
    let zoe = db.read_blocking(|sql| imports::students(sql)).unwrap()["U1"].id;
    let reach = db
        .read_blocking(|sql| rollcall_store::school::contact(sql, zoe))
        .unwrap();
    assert_eq!(
        (reach.email.as_deref(), reach.phone.as_deref()),
        (
            Some("zoe.angstrom@pupils.school.test"),
            Some("+44 7700 900456 ext. 2")
        )
    );
}

#[test]
fn a_nightly_delta_changes_only_the_rows_it_names() {
    let (_dir, db) = db();
    let bulk = run(&db, &fixture("v1.2-bulk"), false);
    assert_eq!(count(&bulk, "student", "create"), 3);
    assert_eq!(members_of(&db, "K1"), ["U1", "U2", "U3"]);

    // Night 2: Di joins, Ada is renamed; Bo and Cy are not named and stay.
    let delta = fixture("v1.2-delta-1");
    assert_eq!(delta.coverage.users, Coverage::Delta);
    let plan = run(&db, &delta, false);
    assert_eq!(plan.leavers(), 0, "{:?}", plan.steps);
    assert_eq!(count(&plan, "student", "create"), 1);
    assert_eq!(count(&plan, "student", "update"), 1);
    assert_eq!(count(&plan, "membership", "create"), 1);
    assert_eq!(count(&plan, "membership", "remove"), 0);
    assert_eq!(members_of(&db, "K1"), ["U1", "U2", "U3", "U4"]);

    // Night 3: Bo leaves. One in four is past the gate until confirmed.
    let leaving = fixture("v1.2-delta-2");
    assert!(matches!(
        try_run(&db, &leaving, options(false)),
        Err(ImportError::Leavers(_))
    ));
    let confirmed = Options {
        confirm_leavers: Some(1),
        ..options(false)
    };
    let plan = try_run(&db, &leaving, confirmed).unwrap();
    assert_eq!(plan.steps[0].source_id, "U2");
    assert_eq!(plan.steps[0].action, Action::Leaver);
    assert_eq!(members_of(&db, "K1"), ["U1", "U3", "U4"]);
    let students = db.read_blocking(|sql| imports::students(sql)).unwrap();
    assert!(students["U2"].gone && !students["U3"].gone && students["U1"].name == "Ada King");
}

#[test]
fn a_delta_sent_as_the_whole_school_is_stopped_by_the_gate() {
    let (_dir, db) = db();
    run(&db, &fixture("v1.2-bulk"), false);
    let mut files = fixture_files("v1.2-delta-1");
    let manifest = String::from_utf8(files["manifest.csv"].clone()).unwrap();
    let as_bulk = manifest.replace(",delta", ",bulk");
    files.insert("manifest.csv".into(), as_bulk.into_bytes());
    let roster = oneroster::read(&files).unwrap();
    let dry = run(&db, &roster, true);
    // Bo and Cy left out, and Ada left in no class.
    assert_eq!(dry.leavers(), 3, "{:?}", dry.steps);
    assert!(!dry.gate.open());
    let refused = try_run(&db, &roster, options(false)).unwrap_err();
    assert!(
        refused.to_string().contains("3 of the school's 3 students"),
        "{refused}"
    );
    assert_eq!(members_of(&db, "K1"), ["U1", "U2", "U3"], "nothing changed");
}

#[test]
fn the_manifest_decides_and_unknown_versions_and_values_are_refused() {
    let mut files = fixture_files("v1.2-bulk");
    let manifest = String::from_utf8(files["manifest.csv"].clone()).unwrap();
    let with = |files: &BTreeMap<String, Vec<u8>>, from: &str, to: &str| {
        let mut f = files.clone();
        f.insert(
            "manifest.csv".into(),
            manifest.replace(from, to).into_bytes(),
        );
        oneroster::read(&f)
    };
    let refused = |r: Result<Roster, Vec<RowError>>| r.unwrap_err()[0].message.clone();
    assert!(
        refused(with(
            &files,
            "oneroster.version,1.2",
            "oneroster.version,2.0"
        ))
        .contains("1.1 and 1.2")
    );
    assert!(
        refused(with(&files, "manifest.version,1.0", "manifest.version,9"))
            .contains("manifest version")
    );
    assert!(
        refused(with(&files, "file.users,bulk", "file.users,full"))
            .contains("bulk, delta or absent")
    );
    assert!(refused(with(&files, "oneroster.version,1.2\n", "")).contains("oneroster.version"));

    // Absent: not read even when the file is there, and not demanded when it is not.
    files.insert("users.csv".into(), b"not,a\nusers file\n".to_vec());
    let r = with(&files, "file.users,bulk", "file.users,absent").unwrap();
    assert!(r.people.is_empty() && r.coverage.users == Coverage::Absent);
    files.remove("classes.csv");
    let missing = refused(with(&files, "file.users,bulk", "file.users,absent"));
    assert!(
        missing.contains("file.classes is bulk, but the package lacks it"),
        "{missing}"
    );
    let mut no_manifest = fixture_files("v1.2-bulk");
    no_manifest.remove("manifest.csv");
    assert!(refused(oneroster::read(&no_manifest)).contains("starts with its manifest"));
}

#[test]
fn delta_rows_must_say_their_status_and_roles_must_be_oneroster_roles() {
    let mut files = fixture_files("v1.2-delta-1");
    let users = String::from_utf8(files["users.csv"].clone()).unwrap();
    files.insert(
        "users.csv".into(),
        users.replace("U4,active,", "U4,,").into_bytes(),
    );
    let roles = String::from_utf8(files["roles.csv"].clone()).unwrap();
    files.insert(
        "roles.csv".into(),
        roles.replace(",student,", ",pupil,").into_bytes(),
    );
    let errors = oneroster::read(&files).unwrap_err();
    let said: Vec<(&str, u64)> = errors.iter().map(|e| (e.file.as_str(), e.line)).collect();
    assert_eq!(said, [("roles.csv", 2), ("users.csv", 3)], "{errors:?}");
    assert!(errors[0].message.contains("pupil"));
    assert!(errors[1].message.contains("status is empty"));
}

#[test]
fn an_enrollment_naming_no_one_the_hub_knows_is_refused_whole() {
    let (_dir, db) = db();
    run(&db, &fixture("v1.2-bulk"), false);
    let mut files = fixture_files("v1.2-delta-1");
    let e = String::from_utf8(files["enrollments.csv"].clone()).unwrap();
    let extra = e
        .lines()
        .nth(1)
        .unwrap()
        .replace("E4,", "E5,")
        .replace(",U4,", ",U99,");
    files.insert(
        "enrollments.csv".into(),
        format!("{e}{extra}\n").into_bytes(),
    );
    let roster = oneroster::read(&files).unwrap();
    let Err(ImportError::Rows(rows)) = try_run(&db, &roster, options(false)) else {
        panic!("an unknown student was taken");
    };
    assert_eq!(
        (rows[0].file.as_str(), rows[0].line),
        ("enrollments.csv", 3)
    );
    assert!(rows[0].message.contains("U99 is not a student"), "{rows:?}");
    assert_eq!(
        members_of(&db, "K1"),
        ["U1", "U2", "U3"],
        "nothing of it was kept"
    );
}

#[test]
fn terms_are_offered_and_added_only_when_asked() {
    let (_dir, db) = db();
    let roster = fixture("v1.2-bulk");
    let plan = run(&db, &roster, false);
    assert_eq!(count(&plan, "term", "offered"), 2);
    assert!(
        db.read_blocking(|sql| timetable::terms(sql))
            .unwrap()
            .is_empty()
    );
    let add = Options {
        add_terms: true,
        ..options(false)
    };
    let plan = try_run(&db, &roster, add).unwrap();
    assert_eq!(count(&plan, "term", "create"), 2);
    let terms = db.read_blocking(|sql| timetable::terms(sql)).unwrap();
    assert_eq!(terms.len(), 2);
    let again = try_run(&db, &roster, add).unwrap();
    assert_eq!(
        count(&again, "term", "unchanged"),
        2,
        "the calendar has them"
    );
}

#[test]
fn a_student_left_in_no_class_and_a_deleted_teacher_are_shown_as_such() {
    let (_dir, db) = db();
    run(&db, &fixture("v1.2-bulk"), false);
    let mut files = fixture_files("v1.2-bulk");
    let e = String::from_utf8(files["enrollments.csv"].clone()).unwrap();
    let fewer: String = e
        .lines()
        .filter(|l| !l.starts_with("E3,"))
        .map(|l| format!("{l}\n"))
        .collect();
    files.insert("enrollments.csv".into(), fewer.into_bytes());
    let roster = oneroster::read(&files).unwrap();
    let dry = run(&db, &roster, true);
    let leaver = &dry.steps[0];
    assert_eq!(
        (leaver.source_id.as_str(), leaver.action),
        ("U3", Action::Leaver)
    );
    assert!(leaver.reason.contains("in no class"), "{leaver:?}");

    let mut files = fixture_files("v1.2-delta-2");
    let users = String::from_utf8(files["users.csv"].clone()).unwrap();
    let teacher = users.lines().nth(1).unwrap().replacen("U2,", "T1,", 1);
    files.insert(
        "users.csv".into(),
        format!("{users}{teacher}\n").into_bytes(),
    );
    let roster = oneroster::read(&files).unwrap();
    let confirmed = Options {
        confirm_leavers: Some(1),
        ..options(false)
    };
    let plan = try_run(&db, &roster, confirmed).unwrap();
    assert_eq!(count(&plan, "teacher", "disable"), 1, "{:?}", plan.steps);
    assert!(db.read_blocking(|sql| imports::teachers(sql)).unwrap()["T1"].gone);
}

#[test]
fn consent_columns_record_each_answer_once_and_a_withdrawal_erases() {
    use rollcall_store::consent::{self as stored, State};
    let (_dir, db) = db();
    let with_consent = "\
student_id,student_name,class_id,class_name,consent,consent_by,consent_signed_on,consent_reference
S1,Ada Lovelace,C7B,7B,given,Jane Lovelace (mother),2026-09-01,form 1
S2,Bo Diddley,C7B,7B,refused,Gus Diddley (father),,
S3,Cy Young,C7B,7B,,,,
";
    // A school day in 2026, after the forms were signed.
    let at = |roster: &Roster, dry_run| {
        let now = UnixMillis(1_790_000_000_000);
        db.write_blocking(|tx| import(tx, roster, options(dry_run), "test", now))
    };
    let run = |_: &Db, roster: &Roster, dry_run| at(roster, dry_run).unwrap();
    let roster = plain::read(with_consent.as_bytes()).unwrap();
    let dry = run(&db, &roster, true);
    assert_eq!(count(&dry, "consent", "update"), 2, "{:?}", dry.steps);
    let plan = run(&db, &roster, false);
    assert_eq!(count(&plan, "consent", "update"), 2);
    let state = |source: &str| {
        db.read_blocking(|sql| {
            let id = imports::students(sql)?[source].id;
            stored::state_of(sql, id)
        })
        .unwrap()
    };
    assert_eq!(
        [state("S1"), state("S2"), state("S3")],
        [State::Given, State::Refused, State::NotAsked]
    );
    let again = run(&db, &roster, false);
    assert_eq!(
        count(&again, "consent", "update"),
        0,
        "the same answers change nothing"
    );

    let withdrawn = with_consent.replace(
        "given,Jane Lovelace (mother),2026-09-01,form 1",
        "withdrawn,Jane Lovelace (mother),,",
    );
    let plan = run(&db, &plain::read(withdrawn.as_bytes()).unwrap(), false);
    let step = plan.steps.iter().find(|s| s.kind == "consent").unwrap();
    assert_eq!(
        step.reason,
        "consent given → withdrawn: their faces are erased"
    );
    assert_eq!(state("S1"), State::Withdrawn);

    // What a state must say, and a state the hub does not know, are row errors.
    let incomplete = with_consent.replace("2026-09-01,form 1", ",");
    let Err(ImportError::Rows(rows)) = at(&plain::read(incomplete.as_bytes()).unwrap(), false)
    else {
        panic!("consent given without its form was taken");
    };
    assert!(rows[0].message.contains("signed form"), "{rows:?}");
    let unknown = with_consent.replace("refused,", "maybe,");
    let errors = plain::read(unknown.as_bytes()).unwrap_err();
    assert!(
        errors[0].message.contains("consent \"maybe\""),
        "{errors:?}"
    );
}

fn profiles(db: &Db) -> BTreeMap<String, rollcall_store::school::Profile> {
    let students = db.read_blocking(|sql| rollcall_store::school::students(sql));
    (students.unwrap().into_iter())
        .filter_map(|s| Some((s.external_ref?, s.profile)))
        .collect()
}

#[test]
fn a_students_year_group_form_birth_date_and_active_flag_are_imported_and_kept_when_unsaid() {
    let (_dir, db) = db();
    let import_at =
        |text: &str| try_run(&db, &plain::read(text.as_bytes()).unwrap(), options(false));
    let first = "student_id,student_name,class_id,class_name,year_group,form,date_of_birth,active\n\
        S1,Ada Lovelace,C7B,7B,Year 7,7B,2014-03-02,\n\
        S2,Bo Diddley,C7B,7B,Year 7,7L,,false\n";
    let plan = import_at(first).unwrap();
    assert_eq!(count(&plan, "student", "create"), 2);
    let held = profiles(&db);
    let (ada, bo) = (&held["S1"], &held["S2"]);
    assert_eq!(
        (ada.year_group.as_deref(), ada.form.as_deref(), ada.active),
        (Some("Year 7"), Some("7B"), true),
        "an empty active is true"
    );
    assert_eq!(
        ada.born_on.map(|d| d.to_string()).as_deref(),
        Some("2014-03-02")
    );
    assert_eq!((bo.born_on, bo.active), (None, false));

    // Next September: Ada moves up. The file has no date_of_birth or active column, so those
    // stay as the hub holds them.
    let moved = "student_id,student_name,class_id,class_name,year_group,form\n\
        S1,Ada Lovelace,C7B,7B,Year 8,8B\n\
        S2,Bo Diddley,C7B,7B,Year 7,7L\n";
    let plan = import_at(moved).unwrap();
    let ada_step = plan.steps.iter().find(|s| s.source_id == "S1").unwrap();
    assert_eq!(ada_step.action, Action::Update);
    assert_eq!(ada_step.reason, "year group Year 7 → Year 8; form 7B → 8B");
    assert_eq!(count(&plan, "student", "unchanged"), 1, "{:?}", plan.steps);
    let held = profiles(&db);
    assert_eq!(held["S1"].year_group.as_deref(), Some("Year 8"));
    assert!(held["S1"].born_on.is_some() && !held["S2"].active);

    // Bo is back: an empty active column makes him active again; Ada's date is cleared.
    let back = "student_id,student_name,class_id,class_name,date_of_birth,active\n\
        S1,Ada Lovelace,C7B,7B,,\n\
        S2,Bo Diddley,C7B,7B,,true\n";
    let plan = import_at(back).unwrap();
    let reasons: Vec<&str> = plan.steps.iter().map(|s| s.reason.as_str()).collect();
    assert!(
        reasons.contains(&"date of birth 2014-03-02 → none"),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"active again"), "{reasons:?}");

    // Bad values are refused with their line; a date of birth after the import's day too.
    let bad = "student_id,student_name,class_id,class_name,date_of_birth,active\n\
        S1,Ada Lovelace,C7B,7B,02/03/2014,\n\
        S2,Bo Diddley,C7B,7B,,maybe\n";
    let errors = plain::read(bad.as_bytes()).unwrap_err();
    let found: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (2, "date_of_birth \"02/03/2014\": a date as YYYY-MM-DD"),
            (3, "active \"maybe\": true or false")
        ]
    );
    let future = "student_id,student_name,class_id,class_name,date_of_birth\n\
        S1,Ada Lovelace,C7B,7B,2031-01-01\n";
    match import_at(future) {
        Err(ImportError::Rows(rows)) => assert!(rows[0].message.contains("after the day")),
        other => panic!("a date of birth in 2031 was taken: {other:?}"),
    }
    assert_eq!(profiles(&db)["S1"].born_on, None, "nothing of it was kept");
}

#[test]
fn oneroster_gives_the_year_group_from_grades_active_from_enabled_user_and_birth_dates() {
    let r = fixture("v1.2-bulk");
    let ada = r.people.iter().find(|p| p.source_id == "U1").unwrap();
    assert_eq!(ada.profile.year_group, Some(Some("07".into())));
    assert_eq!(ada.profile.active, Some(true));
    assert_eq!(
        ada.profile
            .born_on
            .flatten()
            .map(|d| d.to_string())
            .as_deref(),
        Some("2014-03-02"),
        "from demographics.csv"
    );
    assert_eq!(
        ada.profile.form, None,
        "no metadata.rollcall.form column: as the hub holds it"
    );
    let bo = r.people.iter().find(|p| p.source_id == "U2").unwrap();
    assert_eq!(
        bo.profile.born_on, None,
        "not in demographics.csv: as the hub holds it"
    );
    let tess = r.people.iter().find(|p| p.source_id == "T1").unwrap();
    assert_eq!(
        tess.profile,
        rollcall_store::school::ProfileChange::default()
    );

    let mut files = fixture_files("v1.2-bulk");
    let users = String::from_utf8(files["users.csv"].clone()).unwrap();
    let users = users.replacen("U2,,,true,bo", "U2,,,false,bo", 1);
    files.insert("users.csv".into(), users.into_bytes());
    let r = oneroster::read(&files).unwrap();
    let bo = r.people.iter().find(|p| p.source_id == "U2").unwrap();
    assert_eq!(
        bo.profile.active,
        Some(false),
        "enabledUser false: inactive"
    );
}

#[test]
fn teachers_become_staff_by_their_code_once_and_one_added_by_hand_is_linked() {
    use crate::staff::{Details, create};
    use rollcall_store::staff;

    let (_dir, db) = db();
    let by_hand = Details {
        code: "S-0417".into(),
        name: "T. Ting".into(),
        active: true,
        ..Details::default()
    };
    db.write_blocking(|tx| create(tx, &by_hand, "user:ada", NOVEMBER))
        .unwrap();
    let real = fixture("v1.2-real-files");
    let dry = run(&db, &real, true);
    assert_eq!(count(&dry, "staff", "update"), 1, "{:?}", dry.steps);
    run(&db, &real, false);
    let members = db.read_blocking(staff::list).unwrap();
    assert_eq!(members.len(), 1, "linked, not doubled: {members:?}");
    let tess = &members[0];
    assert_eq!(
        (
            tess.code.as_str(),
            tess.name.as_str(),
            tess.external_ref.as_deref()
        ),
        ("S-0417", "Tess Ting", Some("T1"))
    );
    assert_eq!(tess.email.as_deref(), Some("tess@school.test"));
    let again = run(&db, &real, false);
    assert_eq!(count(&again, "staff", "unchanged"), 1);

    // A principal is staff too, by their identifier, and no user of the hub.
    let (_admin_dir, with_head) = self::db();
    let plan = run(&with_head, &fixture("v1.2-bulk"), false);
    assert_eq!(count(&plan, "staff", "create"), 2, "{:?}", plan.steps);
    let members = with_head.read_blocking(staff::list).unwrap();
    let head = members.iter().find(|m| m.name == "Hedd Wyn").unwrap();
    assert_eq!(
        (head.code.as_str(), head.email.as_deref()),
        ("HT-01", Some("head@school.test"))
    );
    assert_eq!(
        count(&plan, "teacher", "create"),
        1,
        "the principal is no teacher"
    );

    // Without an identifier, the teacher's sourcedId is their code.
    let (_other_dir, other) = self::db();
    let plan = run(&other, &fixture("v1.1-bulk"), false);
    assert_eq!(count(&plan, "staff", "create"), 1);
    let members = other.read_blocking(staff::list).unwrap();
    assert_eq!((members[0].code.as_str(), members[0].active), ("T1", true));
}

#[test]
fn parents_named_by_a_student_become_their_guardians_in_order_once() {
    use rollcall_store::guardians::{self, Relationship};

    for version in ["v1.1-bulk", "v1.2-bulk"] {
        let (_dir, db) = db();
        let roster = fixture(version);
        let dry = run(&db, &roster, true);
        assert_eq!(
            count(&dry, "guardians", "create"),
            1,
            "{version}: {:?}",
            dry.steps
        );
        run(&db, &roster, false);
        let ada = db.read_blocking(|sql| imports::students(sql)).unwrap()["U1"].id;
        let held = db.read_blocking(|sql| guardians::of(sql, ada)).unwrap();
        assert_eq!(held.len(), 1, "{version}");
        assert_eq!(
            (held[0].name.as_str(), held[0].email.as_deref()),
            ("Pam Lovelace", Some("pam@home.test"))
        );
        let expected = match version {
            "v1.1-bulk" => Relationship::Guardian,
            _ => Relationship::Parent,
        };
        assert_eq!(held[0].relationship, expected, "{version}");
        let again = run(&db, &roster, false);
        assert_eq!(count(&again, "guardians", "unchanged"), 1, "{version}");
    }
}
