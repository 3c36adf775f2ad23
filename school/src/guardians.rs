//! Students' guardians: the people the school contacts about a student, first to last.
//!
//! - Each is checked where they enter ([`Given::checked`]): a name, how they are related, an
//!   e-mail address and a mobile number (either may be left out), the language messages to
//!   them are written in (a BCP 47 tag, `en` unless given), whether they are told of absences
//!   and whether they have parental responsibility. At most [`MAX_GUARDIANS`] a student.
//! - A student's guardians are set as a whole, in order ([`set`]): by an admin on the
//!   student's page, or for many students at once from a CSV file ([`import_csv`], all rows or
//!   none). The audit log says how many a student has, never who they are.
//! - Admins alone see them; they are in the student's subject-access archive and go with the
//!   student.

use std::collections::HashMap;

use rollcall_shared::{StudentId, UnixMillis};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::accounts::email_address;
use crate::office::{phone_number, text};
use crate::table::{Row, RowError, Table};
use rollcall_store::audit::{self, Change};
use rollcall_store::guardians::{self, Guardian, Relationship};
use rollcall_store::{Sql, StoreError, imports, school};

/// Most guardians one student may have.
pub const MAX_GUARDIANS: usize = 9;
/// The language of a guardian who does not give one.
pub const DEFAULT_LANGUAGE: &str = "en";
/// Longest name, in characters.
const MAX_NAME: usize = 200;
/// Most rows a guardians CSV file may have.
pub const MAX_ROWS: usize = 20_000;
/// The columns of a guardians CSV file; the first three are required.
pub const COLUMNS: [&str; 8] = [
    "student_reference",
    "name",
    "relationship",
    "email",
    "phone",
    "language",
    "notices",
    "responsibility",
];

/// Why guardians could not be set.
#[derive(Debug, thiserror::Error)]
pub enum GuardianError {
    #[error("{0}")]
    Invalid(String),
    #[error("{}", crate::table::nothing_imported(.0, "file"))]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One guardian as the office gives them.
#[derive(Clone, Debug, Default)]
pub struct Given {
    pub name: String,
    pub relationship: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    /// `None`: yes.
    pub notices: Option<bool>,
    /// `None`: yes.
    pub responsibility: Option<bool>,
}

/// A field left out or blank: none.
fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Given {
    /// This guardian checked, at `priority`; the error names the field.
    pub fn checked(&self, priority: u8) -> Result<Guardian, String> {
        let relationship = Relationship::parse(&self.relationship).ok_or_else(|| {
            let all: Vec<&str> = Relationship::ALL.iter().map(|r| r.as_str()).collect();
            format!(
                "relationship: one of {} (not {:?})",
                all.join(", "),
                self.relationship
            )
        })?;
        Ok(Guardian {
            id: Uuid::now_v7(),
            priority,
            name: text("name", &self.name, MAX_NAME)?,
            relationship,
            email: blank(&self.email)
                .map(|e| email_address(e).map_err(|m| format!("email: {m}")))
                .transpose()?,
            phone: blank(&self.phone)
                .map(|p| phone_number(p).map_err(|m| format!("phone: {m}")))
                .transpose()?,
            language: match blank(&self.language) {
                Some(tag) => language(tag)?,
                None => DEFAULT_LANGUAGE.to_owned(),
            },
            notices: self.notices.unwrap_or(true),
            responsibility: self.responsibility.unwrap_or(true),
        })
    }
}

/// Every guardian of a list checked, first to last; the error names the guardian.
pub fn checked(given: &[Given]) -> Result<Vec<Guardian>, String> {
    if given.len() > MAX_GUARDIANS {
        return Err(format!("at most {MAX_GUARDIANS} guardians a student"));
    }
    given
        .iter()
        .enumerate()
        .map(|(i, g)| {
            g.checked(i as u8 + 1)
                .map_err(|m| format!("guardian {}: {m}", i + 1))
        })
        .collect()
}

/// A language tag as BCP 47 writes one (`en`, `cy`, `pt-BR`, `zh-Hant`), up to 35 characters;
/// its first part in lower case.
pub fn language(tag: &str) -> Result<String, String> {
    let tag = tag.trim();
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if tag.len() > 35 || !primary_ok || !rest_ok {
        return Err(format!(
            "language: a language tag such as en, cy or pt-BR (not {tag:?})"
        ));
    }
    Ok(match tag.split_once('-') {
        Some((first, rest)) => format!("{}-{rest}", first.to_ascii_lowercase()),
        None => tag.to_ascii_lowercase(),
    })
}

/// Sets `student`'s guardians to `given`, in order.
pub fn set(
    tx: &dyn Sql,
    student: StudentId,
    given: &[Given],
    by: &str,
    now: UnixMillis,
) -> Result<Vec<Guardian>, GuardianError> {
    school::student(tx, student)?;
    let guardians = checked(given).map_err(GuardianError::Invalid)?;
    guardians::replace(tx, student, &guardians)?;
    log_change(tx, by, student, guardians.len(), now)?;
    Ok(guardians)
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// Students whose guardians the file set.
    pub students: usize,
    pub guardians: usize,
}

/// Sets the guardians of every student a CSV file names ([`COLUMNS`], a header first; a
/// student's rows in order, the first contacted first), each student by their school
/// reference. Students the file does not name keep theirs. One bad row imports nothing.
pub fn import_csv(
    tx: &dyn Sql,
    text: &str,
    by: &str,
    now: UnixMillis,
) -> Result<Imported, GuardianError> {
    let table = Table::read_known(
        "guardians.csv",
        text.as_bytes(),
        &COLUMNS,
        &COLUMNS[..3],
        MAX_ROWS,
    )
    .map_err(GuardianError::Rows)?;
    let students: HashMap<String, StudentId> = imports::students(tx)?
        .into_iter()
        .filter(|(_, h)| !h.gone)
        .map(|(reference, h)| (reference, h.id))
        .collect();
    let mut order: Vec<StudentId> = Vec::new();
    let mut lists: HashMap<StudentId, Vec<Guardian>> = HashMap::new();
    let mut errors = Vec::new();
    for row in table.rows() {
        let reference = row.raw("student_reference");
        let Some(&student) = students.get(reference) else {
            let why = format!("no student has the reference {reference:?}");
            errors.push(RowError::new(row.at, why));
            continue;
        };
        let list = lists.entry(student).or_default();
        if list.is_empty() {
            order.push(student);
        }
        let checked = match list.len() {
            n if n >= MAX_GUARDIANS => Err(format!("at most {MAX_GUARDIANS} guardians a student")),
            n => given(&row).and_then(|g| g.checked(n as u8 + 1)),
        };
        match checked {
            Ok(g) => list.push(g),
            Err(m) => errors.push(RowError::new(row.at, m)),
        }
    }
    if !errors.is_empty() {
        return Err(GuardianError::Rows(errors));
    }
    let mut imported = Imported::default();
    for student in order {
        let list = &lists[&student];
        guardians::replace(tx, student, list)?;
        log_change(tx, by, student, list.len(), now)?;
        imported.students += 1;
        imported.guardians += list.len();
    }
    Ok(imported)
}

/// A row of a guardians file as the office gave it, its yes/no columns read.
fn given(row: &Row) -> Result<Given, String> {
    let field = |column: &str| row.get(column).map(str::to_owned);
    Ok(Given {
        name: row.raw("name").to_owned(),
        relationship: row.raw("relationship").to_owned(),
        email: field("email"),
        phone: field("phone"),
        language: field("language"),
        notices: row.yes_no("notices")?,
        responsibility: row.yes_no("responsibility")?,
    })
}

/// The audit entry of a change: the student and how many guardians they have now.
fn log_change(
    tx: &dyn Sql,
    by: &str,
    student: StudentId,
    count: usize,
    now: UnixMillis,
) -> Result<(), StoreError> {
    audit::log(
        tx,
        Change {
            actor: by,
            action: "student.guardians",
            target: format!("student:{student}"),
            before: None,
            after: Some(json!({"guardians": count})),
            at: now,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_store::engines::{each, read};

    fn mum() -> Given {
        Given {
            name: "Mari Jones".into(),
            relationship: "Parent".into(),
            email: Some("mari@home.example".into()),
            phone: Some("07700 900123".into()),
            language: Some("CY".into()),
            ..Given::default()
        }
    }

    #[test]
    fn each_field_is_checked_and_named_where_it_enters() {
        let g = mum().checked(1).unwrap();
        assert_eq!(
            (g.relationship, g.language.as_str()),
            (Relationship::Parent, "cy")
        );
        assert!(g.notices && g.responsibility, "yes unless said");
        assert_eq!(language("pt-BR").unwrap(), "pt-BR");
        assert_eq!(language("ZH-Hant").unwrap(), "zh-Hant");
        for bad in ["", "e", "english", "en_GB", "en-", "12", &"en-x".repeat(12)] {
            assert!(language(bad).is_err(), "{bad:?}");
        }
        for (given, field) in [
            (
                Given {
                    relationship: "aunt".into(),
                    ..mum()
                },
                "relationship",
            ),
            (
                Given {
                    name: " ".into(),
                    ..mum()
                },
                "name",
            ),
            (
                Given {
                    email: Some("mari@".into()),
                    ..mum()
                },
                "email",
            ),
            (
                Given {
                    phone: Some("call me".into()),
                    ..mum()
                },
                "phone",
            ),
            (
                Given {
                    language: Some("welsh".into()),
                    ..mum()
                },
                "language",
            ),
        ] {
            let e = given.checked(1).unwrap_err();
            assert!(e.starts_with(field), "{e}");
        }
        let ten = vec![mum(); 10];
        assert!(checked(&ten).unwrap_err().contains("at most 9"));
        let e = checked(&[
            mum(),
            Given {
                name: String::new(),
                ..mum()
            },
        ])
        .unwrap_err();
        assert!(e.starts_with("guardian 2: name"), "{e}");
    }

    #[test]
    fn a_file_sets_the_guardians_of_the_students_it_names_whole_or_not_at_all() {
        each(|db| {
            let (ada, bo) = db
                .write_blocking(|tx| {
                    let ada = imports::insert_student(tx, "S1", "Ada", UnixMillis(1))?;
                    let bo = imports::insert_student(tx, "S2", "Bo", UnixMillis(1))?;
                    Ok::<_, StoreError>((ada, bo))
                })
                .unwrap();
            db.write_blocking(|tx| set(tx, bo, &[mum()], "user:a", UnixMillis(2)))
                .unwrap();
            let file = "student_reference,name,relationship,email,phone,language,notices,responsibility\n\
                S1,Dai Evans,parent,dai@home.example,,cy,yes,yes\n\
                S1,Gwen Evans,relative,,07700 900456,,no,no\n";
            let run =
                |text: &str| db.write_blocking(|tx| import_csv(tx, text, "user:a", UnixMillis(3)));
            assert_eq!(
                run(file).unwrap(),
                Imported {
                    students: 1,
                    guardians: 2
                }
            );
            let held = read(db, |sql| guardians::of(sql, ada));
            let shown: Vec<_> = held
                .iter()
                .map(|g| (g.priority, g.name.as_str(), g.notices))
                .collect();
            assert_eq!(shown, [(1, "Dai Evans", true), (2, "Gwen Evans", false)]);
            assert_eq!(
                read(db, |sql| guardians::of(sql, bo)).len(),
                1,
                "Bo, not named, keeps his"
            );

            let bad = "student_reference,name,relationship\nS1,Ok Person,parent\nS9,Nobody,parent\nS2,Bad,aunt\n";
            let Err(GuardianError::Rows(rows)) = run(bad) else {
                panic!("refused")
            };
            assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 4]);
            assert_eq!(
                read(db, |sql| guardians::of(sql, ada)).len(),
                2,
                "nothing imported"
            );
            let Err(GuardianError::Rows(rows)) = run("student,name\nS1,X\n") else {
                panic!()
            };
            assert!(rows[0].message.contains("unknown column"), "{rows:?}");
        });
    }
}
