//! A class's reference in the school's MIS (`classes.external_ref`): the roster import sets
//! it; the office may set it by hand for a class made here, so its lessons can be written back.

use rollcall_shared::ClassId;

use super::class;
use crate::error::StoreError;
use crate::sql::{Sql, params};

/// The class's reference in the school's MIS (the roster import sets it; the office may set
/// it by hand). `None` when it has none.
pub fn class_reference(sql: &dyn Sql, id: ClassId) -> Result<Option<String>, StoreError> {
    class(sql, id)?;
    sql.query_one(
        "SELECT external_ref FROM classes WHERE id = ?1",
        params![id.to_string()],
        "class",
        |r| r.get("external_ref"),
    )
}

/// Sets (or with `None` clears) the class's reference in the MIS. A reference another class
/// has is refused, naming that class.
pub fn set_class_reference(
    sql: &dyn Sql,
    id: ClassId,
    reference: Option<&str>,
) -> Result<(), StoreError> {
    class(sql, id)?;
    if let Some(reference) = reference {
        let other: Option<String> = sql.query_opt(
            "SELECT name FROM classes WHERE external_ref = ?1 AND id != ?2",
            params![reference, id.to_string()],
            |r| r.get("name"),
        )?;
        if let Some(other) = other {
            return Err(StoreError::Conflict(format!(
                "the MIS reference {reference:?} is already class {other:?}'s"
            )));
        }
    }
    sql.execute(
        "UPDATE classes SET external_ref = ?2 WHERE id = ?1",
        params![id.to_string(), reference],
    )?;
    Ok(())
}
