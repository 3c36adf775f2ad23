//! Who may see what, below the route table's role check: admins see everything; a teacher sees
//! their own classes, the students in them, and the records and sessions of those classes; a
//! student (who reaches only the routes for their own attendance) sees themselves and the
//! classes they are in. Checks run inside database calls.

use rollcall_shared::{ClassId, StudentId};

use crate::principal::Principal;
use rollcall_store::school::{self, Class};
use rollcall_store::timetable::{self, Slot};
use rollcall_store::{Sql, StoreError};

/// Why `who` may not have it.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// It exists, and is not theirs.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The class, if `who` may see it.
pub fn class(conn: &dyn Sql, who: &Principal, id: ClassId) -> Result<Class, AccessError> {
    let class = school::class(conn, id)?;
    let in_it = |s| Ok::<_, StoreError>(school::classes_of(conn, s)?.contains(&id));
    if who.is_admin()
        || class.teacher_id == Some(who.user_id)
        || who.student.map(in_it).transpose()? == Some(true)
    {
        return Ok(class);
    }
    Err(AccessError::Forbidden("this class is not yours"))
}

/// The classes `who` sees: all for an admin, a teacher's own, the ones a student is in.
pub fn classes(conn: &dyn Sql, who: &Principal) -> Result<Vec<Class>, AccessError> {
    let all = school::classes(conn)?;
    let theirs = match who.student {
        Some(student) => school::classes_of(conn, student)?,
        None => Vec::new(),
    };
    Ok(all
        .into_iter()
        .filter(|c| who.is_admin() || c.teacher_id == Some(who.user_id) || theirs.contains(&c.id))
        .collect())
}

/// The ids of the classes `who` sees.
pub fn class_ids(conn: &dyn Sql, who: &Principal) -> Result<Vec<ClassId>, AccessError> {
    Ok(classes(conn, who)?.into_iter().map(|c| c.id).collect())
}

/// The timetable slots of the classes `who` sees.
pub fn slots(conn: &dyn Sql, who: &Principal) -> Result<Vec<Slot>, AccessError> {
    let all = timetable::all_slots(conn)?;
    if who.is_admin() {
        return Ok(all);
    }
    let mine: Vec<ClassId> = classes(conn, who)?.into_iter().map(|c| c.id).collect();
    Ok(all
        .into_iter()
        .filter(|s| mine.contains(&s.class_id))
        .collect())
}

/// Fails unless `who` may see `student` (an admin, the teacher of one of their classes, or
/// the student themselves).
pub fn student(conn: &dyn Sql, who: &Principal, id: StudentId) -> Result<(), AccessError> {
    school::student(conn, id)?;
    if who.is_admin() || who.student == Some(id) {
        return Ok(());
    }
    if !who.is_staff() {
        return Err(AccessError::Forbidden("a student sees only themselves"));
    }
    let theirs = school::classes_of(conn, id)?;
    let mine = classes(conn, who)?;
    match mine.iter().any(|c| theirs.contains(&c.id)) {
        true => Ok(()),
        false => Err(AccessError::Forbidden(
            "this student is not in your classes",
        )),
    }
}
