//! How the school's office reaches each student: an e-mail address and a phone number, kept
//! on the student's row.

use std::collections::HashMap;

use rollcall_shared::StudentId;
use serde::Serialize;

use crate::columns::{id_col, readable};
use crate::error::StoreError;
use crate::sql::{ReadResult, Row, Sql, params};

const SELECT_CONTACT: &str = "SELECT id, email, phone FROM students";
const SET_CONTACT: &str = "UPDATE students SET email = ?2, phone = ?3 WHERE id = ?1";

/// How the school's office reaches a student. Shown to admins only, never to a teacher or a
/// door unit; in the student's subject-access archive, and erased with the student.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// How the office reaches `student`.
pub fn contact(sql: &dyn Sql, student: StudentId) -> Result<Contact, StoreError> {
    let query = format!("{SELECT_CONTACT} WHERE id = ?1");
    sql.query_one(&query, params![student.to_string()], "student", contact_row)
}

/// How the office reaches each student who has an address or a phone.
pub fn contacts(sql: &dyn Sql) -> Result<HashMap<StudentId, Contact>, StoreError> {
    let query = format!("{SELECT_CONTACT} WHERE email IS NOT NULL OR phone IS NOT NULL");
    let rows = sql.query_map(&query, &[], |r| Ok((id_col(r, "id")?, contact_row(r)?)))?;
    Ok(readable(rows, "student contact")?.into_iter().collect())
}

/// Sets how the office reaches `student` (already checked: an address, a phone number).
pub fn set_contact(sql: &dyn Sql, student: StudentId, c: &Contact) -> Result<(), StoreError> {
    sql.execute(SET_CONTACT, params![student.to_string(), c.email, c.phone])?;
    Ok(())
}

fn contact_row(r: &Row) -> ReadResult<Contact> {
    Ok(Contact {
        email: r.get("email")?,
        phone: r.get("phone")?,
    })
}
