use std::collections::BTreeMap;

use super::*;
use crate::store::Db;

const PLAIN: &str = "\
student_id,student_name,class_id,class_name,teacher_id,teacher_username,teacher_name,teacher_email
S1,Ada Lovelace,C7B,7B,T1,tess,Tess Ting,tess@school.test
S2,Bo Diddley,C7B,7B,T1,tess,Tess Ting,tess@school.test
S2,Bo Diddley,C8A,8A,,,,
S3,Cy Young,C8A,8A,,,,
";

fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("hub.sqlite3")).unwrap();
    (dir, db)
}

fn run(db: &Db, roster: &Roster, dry_run: bool) -> Plan {
    db.write_blocking(|tx| {
        let plan = import(tx, roster, dry_run, "test", UnixMillis(1_000)).unwrap();
        Ok::<_, StoreError>(plan)
    })
    .unwrap()
}

fn count(plan: &Plan, kind: &str, action: &str) -> usize {
    plan.counts
        .get(kind)
        .and_then(|c| c.get(action))
        .copied()
        .unwrap_or(0)
}

#[test]
fn the_plain_csv_reads_students_classes_teachers_and_memberships() {
    let r = parse::plain(PLAIN.as_bytes()).unwrap();
    assert_eq!(r.students.len(), 3);
    assert_eq!(r.classes.len(), 2);
    assert_eq!(r.teachers.len(), 1);
    assert_eq!(r.members.len(), 4);
    assert_eq!(r.classes[0].teacher.as_deref(), Some("T1"));
}

#[test]
fn bad_rows_are_each_reported_with_file_and_line() {
    let text =
        "student_id,student_name,class_id,class_name\nS1,,C1,7B\nS2,Bo,C1,\nS1,Ada,,\nS1,Other,,\n";
    let errors = parse::plain(text.as_bytes()).unwrap_err();
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 5], "{errors:?}");
    assert!(errors[0].message.contains("student_name is empty"));
    assert!(errors[2].message.contains("different details"));
    let teachers = "student_id,student_name,class_id,class_name,teacher_id,teacher_username,teacher_email\n\
        S1,Ada,C1,7B,T1,Tess Ting,tess@school.test\nS2,Bo,C2,8A,T2,bob,not an address\n";
    let errors = parse::plain(teachers.as_bytes()).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].message.contains("user name"), "{errors:?}");
    assert_eq!(errors[1].line, 3);
    let missing = parse::plain(b"id,name\n1,x\n").unwrap_err();
    assert!(
        missing[0].message.contains("missing columns"),
        "{missing:?}"
    );
}

#[test]
fn a_dry_run_changes_nothing_and_the_same_file_twice_changes_nothing() {
    let (_dir, db) = db();
    let roster = parse::plain(PLAIN.as_bytes()).unwrap();
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
fn renamed_students_stay_themselves_and_missing_ones_become_leavers() {
    let (_dir, db) = db();
    run(&db, &parse::plain(PLAIN.as_bytes()).unwrap(), false);
    let ids: Vec<(String, StudentId)> = db
        .read_blocking(|sql| imports::students(sql))
        .unwrap()
        .into_iter()
        .map(|(r, h)| (r, h.id))
        .collect();
    let next = PLAIN
        .replace("Ada Lovelace", "Ada King")
        .replace("S3,Cy Young,C8A,8A,,,,\n", "S4,Di Prima,C8A,8A,,,,\n")
        .replace("S2,Bo Diddley,C8A,8A,,,,\n", "");
    let plan = run(&db, &parse::plain(next.as_bytes()).unwrap(), false);
    assert_eq!(count(&plan, "student", "update"), 1);
    assert_eq!(count(&plan, "student", "leaver"), 1);
    assert_eq!(count(&plan, "membership", "remove"), 1, "{:?}", plan.steps);
    assert_eq!(count(&plan, "membership", "create"), 1, "{:?}", plan.steps);
    let after = db.read_blocking(|sql| imports::students(sql)).unwrap();
    assert_eq!(after.len(), 4, "a leaver is kept");
    assert_eq!(after["S1"].name, "Ada King");
    assert!(ids.iter().all(|(r, id)| after[r].id == *id), "same ids");
    assert!(after["S3"].extra.is_some(), "S3 is marked as left");
    assert!(after["S1"].extra.is_none());
}

fn oneroster_files() -> BTreeMap<String, Vec<u8>> {
    let files = [
        (
            "orgs.csv",
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nORG1,,,St Mary's,school,,\n",
        ),
        (
            "academicSessions.csv",
            "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\nT1,,,Autumn,term,2026-09-01,2026-12-18,,2027\n",
        ),
        (
            "users.csv",
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email\n\
U1,active,,true,ORG1,student,ada,,Ada,Lovelace,,,\n\
U2,active,,true,ORG1,student,bo,,Bo,Diddley,,,\n\
U3,tobedeleted,,true,ORG1,student,cy,,Cy,Young,,,\n\
U9,active,,true,ORG1,teacher,tess,,Tess,Ting,,,tess@school.test\n\
P1,active,,true,ORG1,parent,pam,,Pam,Lovelace,,,\n",
        ),
        (
            "classes.csv",
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds\nK1,,,7B Maths,,,,scheduled,,ORG1,T1\n",
        ),
        (
            "enrollments.csv",
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
E1,,,K1,ORG1,U1,student,false,,\n\
E2,,,K1,ORG1,U2,student,false,,\n\
E3,,,K1,ORG1,U9,teacher,true,,\n\
E4,,,K1,ORG1,U3,student,false,,\n",
        ),
    ];
    files
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.as_bytes().to_vec()))
        .collect()
}

#[test]
fn oneroster_users_classes_and_enrollments_make_the_roster() {
    let mut files = oneroster_files();
    // U3 is to be deleted: their enrollment is refused row by row.
    let errors = parse::oneroster(&files).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].file.as_str(), errors[0].line),
        ("enrollments.csv", 5)
    );
    let enrollments = String::from_utf8(files["enrollments.csv"].clone()).unwrap();
    let fixed = enrollments.replace("E4,,,K1,ORG1,U3,student,false,,\n", "");
    files.insert("enrollments.csv".into(), fixed.into_bytes());
    let r = parse::oneroster(&files).unwrap();
    let names: Vec<&str> = r.students.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Ada Lovelace", "Bo Diddley"],
        "no parents, nobody to be deleted"
    );
    assert_eq!(r.teachers[0].username, "tess");
    assert_eq!(r.classes[0].name, "7B Maths");
    assert_eq!(r.classes[0].teacher.as_deref(), Some("U9"));
    assert_eq!(r.members.len(), 2);

    files.remove("orgs.csv");
    let missing = parse::oneroster(&files).unwrap_err();
    assert!(missing.iter().any(|e| e.file == "orgs.csv"), "{missing:?}");
}
