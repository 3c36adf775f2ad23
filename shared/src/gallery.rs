//! The device's copy of the gallery and the versioned updates that keep it in step with the hub.
//!
//! The hub computes updates with [`GalleryUpdate::snapshot`] and [`GalleryUpdate::delta`]; the
//! device checks and applies them with [`GalleryState::apply`], which is pure: it returns the new
//! state and leaves the old one untouched, so the caller can persist first and swap after.
//! A digest of the resulting state travels with every update, so a corrupt, partial or
//! out-of-order update is refused instead of silently diverging.
//!
//! A gallery holds students and, at a gate, staff (protocol 7): two maps, because a student
//! carries their classes for the timetable's narrowing and a member of staff carries none.
//! A gallery without staff digests exactly as a version-6 one, so a version-6 unit keeps its
//! gallery across the hub's upgrade.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::embedding::Embedding;
use crate::ids::{ClassId, GalleryVersion, ModelId, StaffId, StudentId};
use crate::invalid::Invalid;

/// Most students in one gallery.
pub const MAX_STUDENTS: usize = 20_000;
/// Most members of staff in one gallery.
pub const MAX_STAFF: usize = 5_000;
/// Most enrolment embeddings per person (student or member of staff).
pub const MAX_EMBEDDINGS_PER_STUDENT: usize = 32;
/// Most classes a student belongs to.
pub const MAX_CLASSES_PER_STUDENT: usize = 64;
/// Most timetable slots for one room.
pub const MAX_SLOTS: usize = 2_000;

/// SHA-256 of a gallery state (see [`GalleryState::digest`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct GalleryDigest(pub [u8; 32]);

impl fmt::Debug for GalleryDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short: String = self.0[..6].iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "GalleryDigest({short}…)")
    }
}

/// One enrolled student as a device sees them: ids and embeddings, never a name or photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct GalleryEntry {
    pub student: StudentId,
    /// Classes the student belongs to (for narrowing by the timetable).
    pub classes: Vec<ClassId>,
    pub embeddings: Vec<Embedding>,
}

/// One member of staff as a gate sees them: an id and embeddings, never a name or photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct StaffEntry {
    pub member: StaffId,
    pub embeddings: Vec<Embedding>,
}

/// A class meeting in the device's room, in the site's local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TimetableSlot {
    pub class: ClassId,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Minutes after local midnight, `start_minute < end_minute <= 1440`.
    pub start_minute: u16,
    pub end_minute: u16,
}

/// A versioned change to a device's gallery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct GalleryUpdate {
    pub model: ModelId,
    /// The version the device holds after applying this update.
    pub version: GalleryVersion,
    /// `None`: a full snapshot replacing everything. `Some(v)`: a delta that applies only on `v`.
    pub base: Option<GalleryVersion>,
    /// Students added or replaced whole.
    pub upserts: Vec<GalleryEntry>,
    pub removals: Vec<StudentId>,
    /// `Some`: the room's whole timetable from now on. `None`: unchanged.
    pub timetable: Option<Vec<TimetableSlot>>,
    /// Digest of the state after applying.
    pub digest: GalleryDigest,
    /// Members of staff added or replaced whole (protocol 7; only a gate gets any).
    pub staff_upserts: Vec<StaffEntry>,
    pub staff_removals: Vec<StaffId>,
}

/// Why an update was refused. The device keeps its old gallery in every case.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GalleryError {
    #[error("update is for model {got}, this device runs {expected}")]
    WrongModel { expected: ModelId, got: ModelId },
    #[error("update to {update} is not newer than the gallery held ({have})")]
    Stale {
        have: GalleryVersion,
        update: GalleryVersion,
    },
    #[error("delta applies on {base} but the device holds {have}")]
    Gap {
        have: GalleryVersion,
        base: GalleryVersion,
    },
    #[error("gallery digest after applying {version} does not match the hub's")]
    DigestMismatch { version: GalleryVersion },
    #[error("invalid gallery update: {0}")]
    Invalid(#[from] Invalid),
}

impl GalleryError {
    /// Whether the device should ask the hub for a full snapshot.
    pub fn needs_full_snapshot(&self) -> bool {
        matches!(
            self,
            GalleryError::Gap { .. } | GalleryError::DigestMismatch { .. }
        )
    }
}

/// A device's whole gallery at one version.
#[derive(Clone, Debug, PartialEq)]
pub struct GalleryState {
    pub model: ModelId,
    pub version: GalleryVersion,
    pub entries: BTreeMap<StudentId, GalleryEntry>,
    pub timetable: Vec<TimetableSlot>,
    /// Members of staff (empty but at a gate).
    pub staff: BTreeMap<StaffId, StaffEntry>,
}

impl GalleryState {
    /// Version 0: nothing enrolled yet.
    pub fn empty(model: ModelId) -> Self {
        Self {
            model,
            version: GalleryVersion(0),
            entries: BTreeMap::new(),
            timetable: Vec::new(),
            staff: BTreeMap::new(),
        }
    }

    /// SHA-256 over the postcard encoding of model, version, entries (in student order),
    /// timetable and staff (in id order; nothing when there are none, so a gallery without
    /// staff digests as in version 6): equal digests mean equal galleries.
    pub fn digest(&self) -> GalleryDigest {
        let mut h = Sha256::new();
        let mut feed = |bytes: Vec<u8>| h.update(bytes);
        feed(postcard::to_stdvec(&(&self.model, self.version)).unwrap_or_default());
        for entry in self.entries.values() {
            feed(postcard::to_stdvec(entry).unwrap_or_default());
        }
        feed(postcard::to_stdvec(&self.timetable).unwrap_or_default());
        for member in self.staff.values() {
            feed(postcard::to_stdvec(member).unwrap_or_default());
        }
        GalleryDigest(h.finalize().into())
    }

    /// The state after `update`, or why the update must be refused.
    pub fn apply(&self, update: &GalleryUpdate) -> Result<GalleryState, GalleryError> {
        update.validate()?;
        self.check_applies(update)?;
        let mut next = match update.base {
            None => GalleryState::empty(self.model.clone()),
            Some(_) => self.clone(),
        };
        next.version = update.version;
        for student in &update.removals {
            next.entries.remove(student);
        }
        for entry in &update.upserts {
            next.entries.insert(entry.student, entry.clone());
        }
        if let Some(slots) = &update.timetable {
            next.timetable = slots.clone();
        }
        for member in &update.staff_removals {
            next.staff.remove(member);
        }
        for entry in &update.staff_upserts {
            next.staff.insert(entry.member, entry.clone());
        }
        if next.digest() != update.digest {
            return Err(GalleryError::DigestMismatch {
                version: update.version,
            });
        }
        Ok(next)
    }

    fn check_applies(&self, update: &GalleryUpdate) -> Result<(), GalleryError> {
        if update.model != self.model {
            return Err(GalleryError::WrongModel {
                expected: self.model.clone(),
                got: update.model.clone(),
            });
        }
        if update.version <= self.version {
            return Err(GalleryError::Stale {
                have: self.version,
                update: update.version,
            });
        }
        match update.base {
            Some(base) if base != self.version => Err(GalleryError::Gap {
                have: self.version,
                base,
            }),
            _ => Ok(()),
        }
    }
}

impl GalleryUpdate {
    /// A full snapshot of `state`.
    pub fn snapshot(state: &GalleryState) -> Self {
        Self {
            model: state.model.clone(),
            version: state.version,
            base: None,
            upserts: state.entries.values().cloned().collect(),
            removals: Vec::new(),
            timetable: Some(state.timetable.clone()),
            digest: state.digest(),
            staff_upserts: state.staff.values().cloned().collect(),
            staff_removals: Vec::new(),
        }
    }

    /// The smallest update that takes a device from `from` to `to`.
    pub fn delta(from: &GalleryState, to: &GalleryState) -> Self {
        let upserts = to
            .entries
            .values()
            .filter(|e| from.entries.get(&e.student) != Some(*e))
            .cloned();
        let removals = from
            .entries
            .keys()
            .filter(|s| !to.entries.contains_key(s))
            .copied();
        let staff_upserts = to
            .staff
            .values()
            .filter(|e| from.staff.get(&e.member) != Some(*e))
            .cloned();
        let staff_removals = from
            .staff
            .keys()
            .filter(|m| !to.staff.contains_key(m))
            .copied();
        Self {
            model: to.model.clone(),
            version: to.version,
            base: Some(from.version),
            upserts: upserts.collect(),
            removals: removals.collect(),
            timetable: (from.timetable != to.timetable).then(|| to.timetable.clone()),
            digest: to.digest(),
            staff_upserts: staff_upserts.collect(),
            staff_removals: staff_removals.collect(),
        }
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if !self.model.is_valid() {
            return Err(Invalid::new("model id is malformed"));
        }
        if self.upserts.len() > MAX_STUDENTS || self.removals.len() > MAX_STUDENTS {
            return Err(Invalid::new(format!(
                "more than {MAX_STUDENTS} students in one update"
            )));
        }
        self.upserts.iter().try_for_each(GalleryEntry::validate)?;
        if self.staff_upserts.len() > MAX_STAFF || self.staff_removals.len() > MAX_STAFF {
            return Err(Invalid::new(format!(
                "more than {MAX_STAFF} members of staff in one update"
            )));
        }
        self.staff_upserts
            .iter()
            .try_for_each(StaffEntry::validate)?;
        match &self.timetable {
            Some(slots) if slots.len() > MAX_SLOTS => {
                Err(Invalid::new(format!("more than {MAX_SLOTS} slots")))
            }
            Some(slots) => slots.iter().try_for_each(TimetableSlot::validate),
            None => Ok(()),
        }
    }
}

impl GalleryEntry {
    pub fn validate(&self) -> Result<(), Invalid> {
        let n = self.embeddings.len();
        if n == 0 || n > MAX_EMBEDDINGS_PER_STUDENT {
            return Err(Invalid::new(format!(
                "student {} has {n} embeddings, expected 1..={MAX_EMBEDDINGS_PER_STUDENT}",
                self.student
            )));
        }
        if self.classes.len() > MAX_CLASSES_PER_STUDENT {
            return Err(Invalid::new(format!(
                "student {} is in too many classes",
                self.student
            )));
        }
        self.embeddings.iter().try_for_each(Embedding::validate)
    }
}

impl StaffEntry {
    pub fn validate(&self) -> Result<(), Invalid> {
        let n = self.embeddings.len();
        if n == 0 || n > MAX_EMBEDDINGS_PER_STUDENT {
            return Err(Invalid::new(format!(
                "member of staff {} has {n} embeddings, expected 1..={MAX_EMBEDDINGS_PER_STUDENT}",
                self.member
            )));
        }
        self.embeddings.iter().try_for_each(Embedding::validate)
    }
}

impl TimetableSlot {
    pub fn validate(&self) -> Result<(), Invalid> {
        let ok = (1..=7).contains(&self.weekday)
            && self.start_minute < self.end_minute
            && self.end_minute <= 1440;
        if !ok {
            return Err(Invalid::new(format!(
                "timetable slot weekday {} {}..{} is not a valid day and time range",
                self.weekday, self.start_minute, self.end_minute
            )));
        }
        Ok(())
    }

    /// Whether the slot covers `minute` after midnight on ISO `weekday`.
    pub fn covers(&self, weekday: u8, minute: u16) -> bool {
        self.weekday == weekday && (self.start_minute..self.end_minute).contains(&minute)
    }
}

#[cfg(test)]
mod tests;
