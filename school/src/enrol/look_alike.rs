//! A photo whose face is another child's (issue 73, point 3). A face within the door's
//! Confident band of another enrolled student's photo lets the door name either child as the
//! other, so such a photo is held before it is enrolled: the admin is asked to confirm
//! ("This face looks like Barack Obama, enrolled in 7B"), the API answers 409 naming the other
//! student unless confirmed, and a photographer's folder lists it as *looks like another
//! student*. Twins are the honest case for confirming; a wrong photo is the common one.

use rollcall_models::matching::Thresholds;
use rollcall_shared::{Embedding, ModelId, StudentId};
use rollcall_store::{Sql, StoreError, school};
use serde::Serialize;

use crate::gallery;

/// Another enrolled student a photo's face lies close to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LookAlike {
    pub student: StudentId,
    pub name: String,
    /// The names of their classes, for the admin to know which child it is.
    pub classes: Vec<String>,
    /// The distance from the photo's face to their nearest enrolled photo.
    pub distance: f32,
}

impl LookAlike {
    /// "Barack Obama, enrolled in 7B".
    pub fn described(&self) -> String {
        match self.classes.as_slice() {
            [] => format!("{}, enrolled", self.name),
            classes => format!("{}, enrolled in {}", self.name, classes.join(", ")),
        }
    }
}

/// The distance within which a photo's face is another student's: the door's Confident band.
pub fn band() -> f32 {
    Thresholds::DOOR.confident
}

/// The student other than `student` whose enrolled photos (consent given, active) lie nearest
/// `face`, if within [`band`].
pub fn look_alike(
    sql: &dyn Sql,
    model: &ModelId,
    face: &Embedding,
    student: StudentId,
) -> Result<Option<LookAlike>, StoreError> {
    let nearest = gallery::of_school(sql, model)?
        .into_iter()
        .filter(|(other, _)| *other != student)
        .map(|(other, template)| (other, face.distance(&template)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let Some((other, distance)) = nearest.filter(|(_, d)| *d <= band()) else {
        return Ok(None);
    };
    let name = school::student(sql, other)?.name;
    let classes = school::classes_of(sql, other)?
        .into_iter()
        .map(|c| school::class(sql, c).map(|c| c.name))
        .collect::<Result<_, _>>()?;
    Ok(Some(LookAlike {
        student: other,
        name,
        classes,
        distance,
    }))
}
