//! Students' guardians (migration 35): the people the school contacts about a student, in
//! order. Plain reads and writes; what each field may hold is `rollcall_school::guardians`'.
//! A student's guardians are replaced as a whole, and go with the student.

use std::collections::HashMap;

use rollcall_shared::StudentId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const SELECT: &str = "SELECT id, student_id, priority, name, relationship, email, phone,
    language, notices, responsibility FROM guardians";
const INSERT: &str = "INSERT INTO guardians (id, student_id, priority, name, relationship,
    email, phone, language, notices, responsibility)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const CHILDREN: &str = "SELECT DISTINCT student_id FROM guardians
    WHERE lower(email) = lower(?1) AND responsibility = 1 ORDER BY student_id";
const CLEAR: &str = "DELETE FROM guardians WHERE student_id = ?1";

/// How a guardian is related to the student.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    Parent,
    Guardian,
    Carer,
    Relative,
    Other,
}

impl Relationship {
    pub const ALL: [Relationship; 5] = [
        Relationship::Parent,
        Relationship::Guardian,
        Relationship::Carer,
        Relationship::Relative,
        Relationship::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Parent => "parent",
            Relationship::Guardian => "guardian",
            Relationship::Carer => "carer",
            Relationship::Relative => "relative",
            Relationship::Other => "other",
        }
    }

    /// The relationship named `text` (any case).
    pub fn parse(text: &str) -> Option<Relationship> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// One of a student's guardians.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Guardian {
    pub id: Uuid,
    /// 1 is contacted first.
    pub priority: u8,
    pub name: String,
    pub relationship: Relationship,
    pub email: Option<String>,
    /// A mobile number, for text messages.
    pub phone: Option<String>,
    /// The language messages to them are written in (a BCP 47 tag: `en`, `cy`, `pl`).
    pub language: String,
    /// They are told when the student is absent without a reason.
    pub notices: bool,
    /// They have parental responsibility.
    pub responsibility: bool,
}

/// The guardians of `student`, in order.
pub fn of(sql: &dyn Sql, student: StudentId) -> Result<Vec<Guardian>, StoreError> {
    let query = format!("{SELECT} WHERE student_id = ?1 ORDER BY priority");
    readable(
        sql.query_map(&query, params![student.to_string()], guardian)?,
        "guardian",
    )
}

/// Every student's guardians, in order (the school's export, the notices of a morning).
pub fn all(sql: &dyn Sql) -> Result<HashMap<StudentId, Vec<Guardian>>, StoreError> {
    let query = format!("{SELECT} ORDER BY student_id, priority");
    let rows = sql.query_map(&query, &[], |r| {
        Ok((id_col(r, "student_id")?, guardian(r)?))
    })?;
    let mut out: HashMap<StudentId, Vec<Guardian>> = HashMap::new();
    for (student, g) in readable(rows, "guardian")? {
        out.entry(student).or_default().push(g);
    }
    Ok(out)
}

/// The students with a guardian at `email` who has parental responsibility (any case): the
/// children a guardian's own account sees.
pub fn children_of(sql: &dyn Sql, email: &str) -> Result<Vec<StudentId>, StoreError> {
    readable(
        sql.query_map(CHILDREN, params![email], |r| id_col(r, "student_id"))?,
        "guardian",
    )
}

/// Replaces the guardians of `student` with `guardians`, in their order (priorities as given).
pub fn replace(
    sql: &dyn Sql,
    student: StudentId,
    guardians: &[Guardian],
) -> Result<(), StoreError> {
    sql.execute(CLEAR, params![student.to_string()])?;
    for g in guardians {
        let row = params![
            g.id.to_string(),
            student.to_string(),
            g.priority,
            g.name,
            g.relationship.as_str(),
            g.email,
            g.phone,
            g.language,
            g.notices,
            g.responsibility
        ];
        sql.execute(INSERT, row)
            .map_err(|e| StoreError::conflict_on_unique(e, "two guardians in one place"))?;
    }
    Ok(())
}

fn guardian(r: &Row) -> ReadResult<Guardian> {
    let relationship: String = r.get("relationship")?;
    Ok(Guardian {
        id: id_col(r, "id")?,
        priority: r.get::<i64>("priority")?.clamp(1, 9) as u8,
        name: r.get("name")?,
        relationship: Relationship::parse(&relationship).unwrap_or(Relationship::Other),
        email: r.get("email")?,
        phone: r.get("phone")?,
        language: r.get("language")?,
        notices: r.get("notices")?,
        responsibility: r.get("responsibility")?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engines::{each, read, write};
    use crate::{imports, school};
    use rollcall_shared::UnixMillis;

    /// A parent with responsibility, e-mailed at `{name}@home.example`.
    pub(crate) fn guardian(priority: u8, name: &str) -> Guardian {
        Guardian {
            id: Uuid::now_v7(),
            priority,
            name: name.into(),
            relationship: Relationship::Parent,
            email: Some(format!("{}@home.example", name.to_lowercase())),
            phone: None,
            language: "cy".into(),
            notices: true,
            responsibility: true,
        }
    }

    #[test]
    fn guardians_are_replaced_whole_kept_in_order_and_go_with_the_student() {
        each(|db| {
            let ada = write(db, |sql| {
                imports::insert_student(sql, "S1", "Ada", UnixMillis(1))
            })
            .unwrap();
            let (mum, dad) = (guardian(2, "Mum"), guardian(1, "Dad"));
            write(db, |sql| replace(sql, ada, &[mum.clone(), dad.clone()])).unwrap();
            let held = read(db, |sql| of(sql, ada));
            assert_eq!(held, [dad.clone(), mum.clone()], "by priority");
            let twice = write(db, |sql| {
                replace(sql, ada, &[dad.clone(), guardian(1, "Gran")])
            });
            assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
            assert_eq!(
                read(db, |sql| of(sql, ada)).len(),
                2,
                "the failed write changed nothing"
            );
            write(db, |sql| replace(sql, ada, &[guardian(1, "Gran")])).unwrap();
            assert_eq!(read(db, all)[&ada][0].name, "Gran");
            write(db, |sql| school::delete_student(sql, ada)).unwrap();
            assert!(read(db, all).is_empty(), "gone with the student");
        });
    }

    #[test]
    fn a_guardians_children_are_those_with_her_address_and_her_responsibility() {
        each(|db| {
            let [ada, bo, cy] = ["Ada", "Bo", "Cy"].map(|name| {
                write(db, |sql| {
                    imports::insert_student(sql, &format!("S-{name}"), name, UnixMillis(1))
                })
                .unwrap()
            });
            let mum = guardian(1, "Mum");
            let not_hers = Guardian {
                responsibility: false,
                ..guardian(1, "Mum")
            };
            write(db, |sql| replace(sql, ada, std::slice::from_ref(&mum))).unwrap();
            write(db, |sql| {
                replace(
                    sql,
                    bo,
                    &[
                        guardian(1, "Dad"),
                        Guardian {
                            id: Uuid::now_v7(),
                            priority: 2,
                            ..mum.clone()
                        },
                    ],
                )
            })
            .unwrap();
            write(db, |sql| replace(sql, cy, &[not_hers])).unwrap();
            let mut expected = vec![ada, bo];
            expected.sort_by_key(|s| s.to_string());
            assert_eq!(
                read(db, |sql| children_of(sql, "MUM@Home.Example")),
                expected
            );
            assert!(read(db, |sql| children_of(sql, "nobody@home.example")).is_empty());
        });
    }
}
