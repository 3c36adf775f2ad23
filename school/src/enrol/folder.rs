//! A year's photos in one go: a school photographer's folder, each photo named by the
//! student's reference (`S0042.jpg`; `S0042-2.jpg` a second photo of S0042) or a member of
//! staff's personnel code (`T042.jpg`), or given its reference by a mapping file
//! (`photo,reference`).
//!
//! Each photo, in name order:
//! 1. whose it is: the mapping's reference, else the name's; a student's reference, else a
//!    member of staff's personnel code; neither is *no such reference*;
//! 2. their consent: a student or member of staff without consent given is skipped,
//!    *no consent*, and no face of theirs is read;
//! 3. the same photo (its bytes' SHA-256) already enrolled for them is *already enrolled*,
//!    so a run again after a break, or the same folder next year, enrols only what is new;
//! 4. the enrolment gate, as an upload meets it: *enrolled*, or *refused* with the reason;
//! 5. a student's face within the door's Confident band of another enrolled student's photo
//!    is *looks like another student*, not enrolled: enrol it from the student's page, where
//!    the admin is asked to confirm.
//!
//! Each photo is its own transaction, so a run stopped halfway keeps what it enrolled.

use std::collections::HashMap;

use rollcall_shared::{StudentId, UnixMillis};
use rollcall_store::consent::State;
use rollcall_store::imports::Held;
use rollcall_store::staff_faces::Saved;
use rollcall_store::{Db, StoreError, imports, school, staff, staff_faces};
use serde::Serialize;
use uuid::Uuid;

use super::{Enroller, LookAlike, Refusal, look_alike, photo_sha256, save};
use crate::table::{RowError, Table};
use rollcall_models::pipeline::model_id;

/// Most photos one folder may hold: a larger one is refused before any photo is read.
pub const MAX_PHOTOS: usize = 10_000;

/// The file endings taken as photos (any case).
pub const PHOTO_ENDINGS: [&str; 7] = ["jpg", "jpeg", "png", "tif", "tiff", "bmp", "webp"];

/// What became of one photo.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Enrolled {
        face: Uuid,
    },
    AlreadyEnrolled,
    Refused {
        code: &'static str,
        reason: String,
    },
    NoSuchReference,
    NoConsent {
        consent: State,
    },
    /// Held: the face is another enrolled student's, as far as the door can tell.
    LooksLikeAnotherStudent {
        like: LookAlike,
    },
}

impl Outcome {
    /// Its name in the outcome table.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Enrolled { .. } => "enrolled",
            Outcome::AlreadyEnrolled => "already enrolled",
            Outcome::Refused { .. } => "refused",
            Outcome::NoSuchReference => "no such reference",
            Outcome::NoConsent { .. } => "no consent",
            Outcome::LooksLikeAnotherStudent { .. } => "looks like another student",
        }
    }

    /// Why, in words, where there is more to say than [`Outcome::as_str`].
    pub fn detail(&self) -> String {
        match self {
            Outcome::Refused { reason, .. } => reason.clone(),
            Outcome::NoConsent { consent } => format!("consent is {}", consent.as_str()),
            Outcome::LooksLikeAnotherStudent { like } => like.described(),
            _ => String::new(),
        }
    }
}

/// One line of the outcome table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// The photo's file name.
    pub photo: String,
    /// Whose it was taken to be.
    pub reference: String,
    /// Whose the reference is, when anyone's.
    pub whose: Option<Kind>,
    /// Their name.
    pub name: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The columns of a mapping file, both required.
pub const MAPPING_COLUMNS: [&str; 2] = ["photo", "reference"];

/// A mapping file ([`MAPPING_COLUMNS`] with a header, in any case, no others), as photo name
/// → reference; or every bad row (a blank field, a photo named twice).
pub fn read_mapping(bytes: &[u8]) -> Result<HashMap<String, String>, Vec<RowError>> {
    let columns = &MAPPING_COLUMNS;
    let table = Table::read_known("mapping", bytes, columns, columns, MAX_PHOTOS)?;
    let (mut mapping, mut errors) = (HashMap::new(), Vec::new());
    for row in table.rows() {
        let (photo, reference) = (row.raw("photo"), row.raw("reference"));
        if photo.is_empty() || reference.is_empty() {
            errors.push(RowError::new(row.at, "photo or reference empty"));
        } else if mapping
            .insert(photo.to_owned(), reference.to_owned())
            .is_some()
        {
            errors.push(RowError::new(row.at, format!("{photo} is named twice")));
        }
    }
    match errors.is_empty() {
        true => Ok(mapping),
        false => Err(errors),
    }
}

/// Whether `name` ends with one of [`PHOTO_ENDINGS`].
pub fn is_photo(name: &str) -> bool {
    let ending = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    ending.is_some_and(|e| PHOTO_ENDINGS.contains(&e.as_str()))
}

/// The reference a photo's name gives: its name without the ending, or without a `-N` or
/// `_N` after it (a student's second photo) when no student has the whole name.
pub fn reference_in_name(name: &str, known: impl Fn(&str) -> bool) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    if known(stem) {
        return stem.to_owned();
    }
    match stem.rsplit_once(['-', '_']) {
        Some((reference, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            reference.to_owned()
        }
        _ => stem.to_owned(),
    }
}

/// What an enrolment run needs besides the photos.
#[allow(missing_debug_implementations)]
pub struct Run<'a> {
    pub db: &'a Db,
    pub enroller: &'a Enroller,
    /// Photo name → reference, from a mapping file; else the names give them.
    pub mapping: Option<&'a HashMap<String, String>>,
    /// Who enrols, for the audit log.
    pub actor: &'a str,
    pub now: &'a dyn Fn() -> UnixMillis,
}

/// Whose photos a run may enrol: the school's students who have a reference, by it (as
/// [`imports::students`] reads them), and its staff by personnel code.
#[derive(Debug, Default)]
pub struct Students {
    students: HashMap<String, Held<StudentId>>,
    staff: HashMap<String, (Uuid, String)>,
}

impl Students {
    fn knows(&self, reference: &str) -> bool {
        self.students.contains_key(reference) || self.staff.contains_key(reference)
    }
}

/// Who a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Student,
    Staff,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Student => "student",
            Kind::Staff => "staff",
        }
    }
}

/// Whose a photo is.
enum Whose<'a> {
    Student(&'a Held<StudentId>),
    Staff(Uuid, &'a str),
}

impl Run<'_> {
    /// Enrols `photos` (name and bytes, read as they are reached), calling `seen` with each
    /// line as it is decided; returns the table.
    pub fn enrol<I>(&self, photos: I, mut seen: impl FnMut(&Line)) -> Result<Vec<Line>, StoreError>
    where
        I: IntoIterator<Item = (String, std::io::Result<Vec<u8>>)>,
    {
        let students = self.students()?;
        let mut lines = Vec::new();
        for (photo, bytes) in photos {
            let line = self.line(&students, photo, bytes, None)?;
            seen(&line);
            lines.push(line);
        }
        Ok(lines)
    }

    /// The school's students by reference and staff by code, read once for a run.
    pub fn students(&self) -> Result<Students, StoreError> {
        self.db.read_blocking(|sql| {
            let staff = staff::list(sql)?.into_iter().filter(|m| m.active);
            Ok(Students {
                students: imports::students(sql)?,
                staff: staff.map(|m| (m.code, (m.id, m.name))).collect(),
            })
        })
    }

    /// One photo's line: whose it is (`reference` when given, else the mapping's or its
    /// name's), then steps 2 to 4.
    pub fn line(
        &self,
        students: &Students,
        photo: String,
        bytes: std::io::Result<Vec<u8>>,
        reference: Option<&str>,
    ) -> Result<Line, StoreError> {
        let reference = match (reference, self.mapping) {
            (Some(given), _) => given.to_owned(),
            (None, Some(mapping)) => mapping.get(&photo).cloned().unwrap_or_default(),
            (None, None) => reference_in_name(&photo, |r| students.knows(r)),
        };
        let student = students.students.get(&reference).filter(|h| !h.gone);
        let member = students.staff.get(&reference);
        let whose = match (student, member) {
            (Some(held), _) => Whose::Student(held),
            (None, Some((id, name))) => Whose::Staff(*id, name),
            (None, None) => {
                return Ok(Line {
                    photo,
                    reference,
                    whose: None,
                    name: None,
                    outcome: Outcome::NoSuchReference,
                });
            }
        };
        let outcome = match (bytes, &whose) {
            (Ok(bytes), whose) => self.one(whose, &bytes)?,
            (Err(e), _) => Outcome::Refused {
                code: "unreadable",
                reason: e.to_string(),
            },
        };
        let (kind, name) = match whose {
            Whose::Student(held) => (Kind::Student, held.name.clone()),
            Whose::Staff(_, name) => (Kind::Staff, name.to_owned()),
        };
        Ok(Line {
            photo,
            reference,
            whose: Some(kind),
            name: Some(name),
            outcome,
        })
    }

    /// Steps 2 to 4 for one photo of `whose`.
    fn one(&self, whose: &Whose<'_>, bytes: &[u8]) -> Result<Outcome, StoreError> {
        let digest = photo_sha256(bytes);
        let (consent, already) = self.db.read_blocking(|sql| {
            Ok::<_, StoreError>(match whose {
                Whose::Student(held) => (
                    school::student(sql, held.id)?.consent,
                    school::has_photo(sql, held.id, &digest)?,
                ),
                Whose::Staff(member, _) => (
                    staff_faces::consent_of(sql, *member)?,
                    staff_faces::has_photo(sql, *member, &digest)?,
                ),
            })
        })?;
        if consent != State::Given {
            return Ok(Outcome::NoConsent { consent });
        }
        if already {
            return Ok(Outcome::AlreadyEnrolled);
        }
        let accepted = match self.enroller.assess(bytes) {
            Ok(accepted) => accepted,
            Err(refusal) => return Ok(refused(&refusal)),
        };
        let now = (self.now)();
        self.db.write_blocking(|tx| match whose {
            Whose::Student(held) => {
                let like = look_alike(tx, &model_id(), &accepted.embedding, held.id)?;
                if let Some(like) = like {
                    return Ok(Outcome::LooksLikeAnotherStudent { like });
                }
                let face = save(tx, self.actor, held.id, &accepted, now)?;
                Ok(Outcome::Enrolled { face })
            }
            Whose::Staff(member, _) => {
                let saved = crate::staff_faces::save_face(tx, self.actor, *member, &accepted, now);
                match saved {
                    Ok(Saved::New(face)) => Ok(Outcome::Enrolled { face }),
                    Ok(Saved::Already(_)) => Ok(Outcome::AlreadyEnrolled),
                    Err(crate::staff::StaffError::Store(e)) => Err(e),
                    Err(other) => Err(StoreError::Conflict(other.to_string())),
                }
            }
        })
    }
}

fn refused(refusal: &Refusal) -> Outcome {
    Outcome::Refused {
        code: refusal.code(),
        reason: refusal.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_gives_the_reference_and_a_number_after_it_a_second_photo() {
        let known = |r: &str| ["S0042", "7B-2026"].contains(&r);
        assert_eq!(reference_in_name("S0042.jpg", known), "S0042");
        assert_eq!(reference_in_name("S0042-2.JPG", known), "S0042");
        assert_eq!(reference_in_name("S0042_3.png", known), "S0042");
        assert_eq!(
            reference_in_name("7B-2026.jpg", known),
            "7B-2026",
            "a whole name first"
        );
        assert_eq!(reference_in_name("S0099-x.jpg", known), "S0099-x");
        assert!(is_photo("a.TIFF") && is_photo("b.jpeg") && !is_photo("notes.txt"));
        assert!(!is_photo("jpg"));
    }

    #[test]
    fn a_mapping_file_names_each_photo_once() {
        let good = "\u{feff}photo,reference\r\nIMG_001.jpg, S0042 \r\nIMG_002.jpg,S0043\r\n";
        let mapping = read_mapping(good.as_bytes()).unwrap();
        assert_eq!(mapping["IMG_001.jpg"], "S0042");
        assert_eq!(mapping.len(), 2);
        let errors = |text: &str| {
            let found = read_mapping(text.as_bytes()).unwrap_err();
            found
                .into_iter()
                .map(|e| (e.line, e.message))
                .collect::<Vec<_>>()
        };
        let twice = "Photo,Reference\nIMG_001.jpg,\"S1\n\"\nIMG_001.jpg,S2\n,S3\n";
        assert_eq!(
            errors(twice),
            [
                (4, "IMG_001.jpg is named twice".to_owned()),
                (5, "photo or reference empty".to_owned())
            ],
            "each row named by the line it starts on"
        );
        let headless = "file,id\nIMG_001.jpg,S1\n";
        assert!(errors(headless)[0].1.contains("photo, reference"));
    }
}
