//! What a door unit reports: one [`AttendanceRecord`] per person seen in a burst.

use serde::{Deserialize, Serialize};

use crate::direction::Direction;
pub use crate::embedding::{EMBEDDING_DIM, Embedding};
use crate::ids::{DeviceId, GalleryVersion, ModelId, RecordId, StaffId, StudentId};
use crate::invalid::Invalid;
use crate::liveness::LivenessCheck;
use crate::status::ClockSync;
use crate::time::UnixMillis;

/// Most candidates a record carries.
pub const MAX_CANDIDATES: usize = 3;
/// Largest face thumbnail, in bytes of JPEG.
pub const MAX_THUMBNAIL_BYTES: usize = 24 * 1024;
/// Longest room name, in bytes.
pub const MAX_ROOM_LEN: usize = 64;

/// What the door unit made of a face: the one decision type, from the matcher
/// (`rollcall_models::matching::decide`) over the wire to the hub's store and API. The enum
/// only grows at the end (postcard encodes its index; JSON and SQL its snake_case name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Decision {
    /// The best candidate is within the confident threshold, with a clear margin: the mark
    /// counts at once.
    Confident,
    /// Probably the best candidate; a teacher should confirm.
    Uncertain,
    /// Nobody in the gallery is close enough.
    Unknown,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Confident, Decision::Uncertain, Decision::Unknown];

    /// Its name in JSON and in the hub's database.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confident => "confident",
            Decision::Uncertain => "uncertain",
            Decision::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Decision {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| Invalid::new(format!("{s:?} is not a decision")))
    }
}

/// One possible identity for the face, best first.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Candidate {
    pub student: StudentId,
    /// Euclidean distance between the record's embedding and the student's enrolment.
    pub distance: f32,
}

/// A member of staff a gate recognised (protocol 7). Only a Confident match names one: a face
/// whose nearest is a member of staff but not within the band is Unknown, so a teacher's
/// review never shows staff. The record then names no student.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct StaffMatch {
    pub member: StaffId,
    /// Euclidean distance between the record's embedding and the member's enrolment.
    pub distance: f32,
}

impl StaffMatch {
    /// How alike the face and the enrolment are, 0..1: the cosine similarity of the two unit
    /// embeddings (1 − d²/2), clamped at 0.
    pub fn confidence(&self) -> f64 {
        let d = f64::from(self.distance);
        (1.0 - d * d / 2.0).clamp(0.0, 1.0)
    }
}

/// How good the face evidence was (of the best frame in the burst).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct FaceQuality {
    /// Distance between the eye centres, in source-image pixels.
    pub face_px: f32,
    /// Variance of the Laplacian on the aligned grey chip.
    pub sharpness: f32,
    /// Detector confidence, 0..1.
    pub detector_score: f32,
    /// Rough head yaw from the landmarks, degrees (0 = facing the camera).
    pub yaw_deg: f32,
    /// How many frames of the burst contributed to the embedding.
    pub frames: u8,
}

/// A JPEG of the aligned face, kept only for Uncertain and Unknown records so a teacher can
/// see who it was. Deleted on both sides by the retention policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Thumbnail(pub Vec<u8>);

impl Thumbnail {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.0.len() > MAX_THUMBNAIL_BYTES {
            return Err(Invalid::new(format!(
                "thumbnail is {} bytes, the limit is {MAX_THUMBNAIL_BYTES}",
                self.0.len()
            )));
        }
        if !self.0.starts_with(&[0xFF, 0xD8]) {
            return Err(Invalid::new("thumbnail is not a JPEG"));
        }
        Ok(())
    }
}

/// One person seen at a door, matched against the device's gallery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AttendanceRecord {
    pub id: RecordId,
    pub device: DeviceId,
    pub room: String,
    /// Device clock when the burst was captured.
    pub captured_at: UnixMillis,
    pub model: ModelId,
    /// The gallery the candidates were matched against.
    pub gallery_version: GalleryVersion,
    pub embedding: Embedding,
    /// Best first, at most [`MAX_CANDIDATES`], distinct students.
    pub candidates: Vec<Candidate>,
    pub decision: Decision,
    pub thumbnail: Option<Thumbnail>,
    pub quality: FaceQuality,
    /// Whether the unit's clock was synchronised when it captured this (protocol 3): when it
    /// was not, `captured_at` may be wrong.
    pub clock: ClockSync,
    /// Which way the unit's camera faces, as its `edge.toml` says (protocol 5; `None` from a
    /// version-4 unit, which does not know). The hub stores the direction its registry has
    /// for the device, as it does the room.
    pub direction: Option<Direction>,
    /// The unit's liveness check of the best face (protocol 6; `None`: not checked, see
    /// [`LivenessCheck`]). A face judged not live is never Confident.
    pub liveness: Option<LivenessCheck>,
    /// The member of staff recognised, at a gate (protocol 7; `None` from a version-6 unit).
    /// When set the record is Confident, names no student and has no thumbnail.
    pub staff: Option<StaffMatch>,
}

impl AttendanceRecord {
    pub fn validate(&self) -> Result<(), Invalid> {
        validate_room(&self.room)?;
        if !self.model.is_valid() {
            return Err(Invalid::new("model id is malformed"));
        }
        self.embedding.validate()?;
        self.validate_candidates()?;
        self.validate_staff()?;
        if let Some(t) = &self.thumbnail {
            t.validate()?;
        }
        if let Some(l) = &self.liveness {
            l.validate()?;
            if l.suspects_spoof() && self.decision == Decision::Confident {
                return Err(Invalid::new("a face judged not live cannot be Confident"));
            }
        }
        let q = &self.quality;
        if ![q.face_px, q.sharpness, q.detector_score, q.yaw_deg]
            .iter()
            .all(|v| v.is_finite())
        {
            return Err(Invalid::new("quality figures must be finite"));
        }
        Ok(())
    }

    fn validate_candidates(&self) -> Result<(), Invalid> {
        let c = &self.candidates;
        if c.len() > MAX_CANDIDATES {
            return Err(Invalid::new(format!(
                "{} candidates, at most {MAX_CANDIDATES}",
                c.len()
            )));
        }
        if !c
            .iter()
            .all(|c| c.distance.is_finite() && c.distance >= 0.0)
        {
            return Err(Invalid::new(
                "candidate distances must be finite and non-negative",
            ));
        }
        if c.windows(2).any(|w| w[0].distance > w[1].distance) {
            return Err(Invalid::new("candidates must be sorted best first"));
        }
        let distinct = c
            .iter()
            .enumerate()
            .all(|(i, a)| c[..i].iter().all(|b| b.student != a.student));
        if !distinct {
            return Err(Invalid::new("a student appears twice among the candidates"));
        }
        if self.decision != Decision::Unknown && c.is_empty() && self.staff.is_none() {
            return Err(Invalid::new(
                "a Confident or Uncertain record needs a candidate",
            ));
        }
        Ok(())
    }

    fn validate_staff(&self) -> Result<(), Invalid> {
        let Some(m) = &self.staff else {
            return Ok(());
        };
        if !(m.distance.is_finite() && m.distance >= 0.0) {
            return Err(Invalid::new(
                "a staff match's distance must be finite and non-negative",
            ));
        }
        if self.decision != Decision::Confident {
            return Err(Invalid::new(
                "only a Confident record names a member of staff",
            ));
        }
        if !self.candidates.is_empty() || self.thumbnail.is_some() {
            return Err(Invalid::new(
                "a record naming a member of staff has no student candidates and no thumbnail",
            ));
        }
        Ok(())
    }
}

/// Room names are shown to teachers and used in timetables: short, printable.
pub fn validate_room(room: &str) -> Result<(), Invalid> {
    if room.trim().is_empty() || room.len() > MAX_ROOM_LEN || room.chars().any(char::is_control) {
        return Err(Invalid::new(format!(
            "room must be 1 to {MAX_ROOM_LEN} printable characters"
        )));
    }
    Ok(())
}
