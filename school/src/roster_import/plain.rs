//! The plain CSV: `student_id,student_name,class_id,class_name,teacher_id,teacher_username,
//! teacher_name,teacher_email`, one row per student and class (a student in no class has the
//! class columns empty; the teacher columns may be empty), optionally the class's code
//! (`class_code`), and optionally the student's
//! consent (`consent,consent_by,consent_signed_on,consent_reference`) and details
//! (`year_group,form,date_of_birth,active`) and how the office reaches them
//! (`student_email,student_phone`). It is always the whole school.

use super::collect::Collect;
use super::roster::{ClassRow, Enrollment, Person, Role, Roster};
use crate::office;
use crate::table::{Row, RowError, Table};
use rollcall_store::school::ProfileChange;

pub fn read(bytes: &[u8]) -> Result<Roster, Vec<RowError>> {
    let mut c = Collect::default();
    let required = ["student_id", "student_name", "class_id", "class_name"];
    let t = Table::read("roster.csv", bytes, &required, &mut c.errors);
    for row in t.rows() {
        let e = &mut c.errors;
        let (Some(id), Some(name)) = (
            row.required("student_id", e),
            row.required_name("student_name", e),
        ) else {
            continue;
        };
        let student = Person {
            source_id: id.clone(),
            name,
            username: None,
            email: row.account("", "student_email", &mut c.errors),
            identifier: None,
            phone: row.checked_by("student_phone", office::phone_number, &mut c.errors),
            role: Some(Role::Student),
            consent: row.consent("", &mut c.errors),
            profile: ProfileChange {
                year_group: row.group("year_group", &mut c.errors),
                form: row.group("form", &mut c.errors),
                born_on: row.born_on("date_of_birth", &mut c.errors),
                active: row.active("active", &mut c.errors),
            },
            agents: Vec::new(),
            at: row.at,
        };
        c.person(student);
        let Some(class) = row.optional("class_id", &mut c.errors) else {
            continue;
        };
        let Some(class_name) = row.required_name("class_name", &mut c.errors) else {
            continue;
        };
        if let Some(teacher) = teacher(&row, &mut c) {
            c.enrollment(Enrollment {
                class: class.clone(),
                user: teacher,
                role: Role::Teacher,
                primary: true,
                at: row.at,
            });
        }
        let code = row.checked_by("class_code", office::class_code, &mut c.errors);
        c.class(ClassRow {
            source_id: class.clone(),
            name: class_name,
            code,
            at: row.at,
        });
        c.enrollment(Enrollment {
            class,
            user: id,
            role: Role::Student,
            primary: false,
            at: row.at,
        });
    }
    c.finish(Roster {
        format: "plain CSV",
        ..Roster::default()
    })
}

/// The row's teacher, collected; their source id.
fn teacher(row: &Row, c: &mut Collect) -> Option<String> {
    let e = &mut c.errors;
    let id = row.optional("teacher_id", e)?;
    let username = row.required("teacher_username", e).unwrap_or_default();
    let name = row
        .name("teacher_name", e)
        .unwrap_or_else(|| username.clone());
    let email = row.account(&username, "teacher_email", e);
    c.person(Person {
        source_id: id.clone(),
        name,
        username: Some(username),
        email,
        identifier: None,
        phone: None,
        role: Some(Role::Teacher),
        consent: None,
        profile: ProfileChange::default(),
        agents: Vec::new(),
        at: row.at,
    });
    Some(id)
}
