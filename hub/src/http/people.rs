//! The people the door knows: students (found, enrolled, their photos and faces, consent,
//! everything held about one as a zip), classes and their members, staff and their faces.

pub(super) mod archive;
pub(super) mod classes;
pub(super) mod consent;
pub(super) mod enrolment;
pub(super) mod faces;
pub(super) mod staff;
pub(super) mod staff_faces;
pub(super) mod students;
