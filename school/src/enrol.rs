//! Enrolment photos: from uploaded bytes to an embedding worth keeping, or the reason it is not.
//!
//! Owns the rules a photo must meet (decodable within limits, one face that dominates any
//! other, past the quality gate) and the thumbnail kept beside the embedding. Knows nothing of
//! HTTP: the API maps a [`Refusal`] to a status; [`save()`] is the one way an [`Accepted`]
//! photo is stored, and a face that is another enrolled child's is held first
//! ([`look_alike`]). A photographer's folder is enrolled in one go by [`folder`].

mod enroller;
pub mod folder;
mod look_alike;
mod record;
mod refusal;
mod save;
mod thumbnail;
mod upgrade;
pub mod zipped;

pub use enroller::{Accepted, Enroller, LoadError, photo_limits, photo_sha256};
pub use look_alike::{LookAlike, band as look_alike_band, look_alike};
pub use record::{check_record, grade_record};
pub use refusal::Refusal;
pub use save::save;
pub use thumbnail::{MAX_THUMBNAIL_BYTES, jpeg_thumbnail};
pub use upgrade::upgrade_enrolments;
