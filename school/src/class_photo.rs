//! The register from a class photo: a teacher photographs the lesson (or uploads photos of
//! it) and every face in the photos counts as it would at the door.
//!
//! 1. [`read`] (CPU: off the async executor): the photo decoded within the hub's photo limits
//!    (EXIF orientation applied, so boxes fall where a browser shows the faces), every face
//!    detected, aligned and graded by the door's quality gate ([`QualityGate::door`]); every
//!    face but an [`Grade::Out`] one embedded, with its crop.
//! 2. [`judge`]: the photo's faces against the lesson's class (`gallery::of_class`, what a
//!    door in its room holds of it), named jointly with the class photo's band
//!    ([`Rule::CLASS_PHOTO`]): a student is one face of a photo.
//! 3. [`keep`] (in the upload's one transaction): a record per judged face, source
//!    `class_photo`, standing as a door's record would (`crate::arrival`): a Confident face
//!    counts at once, the others wait in review with their crop; a face matching nobody is
//!    kept only when the school keeps such faces (`[privacy] unknown_faces`).
//!
//! Several photos of one lesson combine through the register: a student seen in any counts
//! from the first. The photo itself is never stored, only the crops of faces a teacher must
//! look at, under the retention every record's face has.

mod judge;

use chrono::NaiveDate;
use rollcall_models::image_io::decode_image;
use rollcall_models::quality::{FaceQuality, Grade, QualityGate, QualityIssue};
use rollcall_shared::{Decision, Embedding, RecordId, UnixMillis, UnknownFaces};
use serde_json::json;

pub use judge::{Evidence, Judgement, Rule, judge};

use crate::arrival;
use crate::attendance::{Rules, Session};
use crate::enrol::{Enroller, Refusal, jpeg_thumbnail};
use crate::session_rosters::hhmm;
use rollcall_store::records::{self, PhotoFace};
use rollcall_store::{Sql, StoreError};

/// Most faces read in one photo: a class, with room to spare. A crowd is not a lesson.
pub const MAX_FACES: usize = 100;

/// How far ahead of the hub's clock a photo's time may be (a phone's clock runs a little
/// fast).
const FUTURE_SLACK_MS: i64 = 2 * 60_000;

/// A photo as read: its size (after EXIF orientation) and every face in it.
#[derive(Clone, Debug)]
pub struct Photo {
    pub width: u32,
    pub height: u32,
    pub faces: Vec<SeenFace>,
}

/// One face of a photo.
#[derive(Clone, Debug)]
pub struct SeenFace {
    /// `[x1, y1, x2, y2]` in photo pixels.
    pub bbox: [f32; 4],
    pub quality: FaceQuality,
    pub grade: Grade,
    /// What the door's gate found wrong with it, if anything.
    pub issue: Option<QualityIssue>,
    /// `None` for a face too poor to judge.
    pub embedding: Option<Embedding>,
    /// The aligned face as a JPEG, for a teacher to look at.
    pub crop: Option<Vec<u8>>,
}

impl SeenFace {
    pub fn evidence(&self) -> Evidence<'_> {
        Evidence {
            grade: self.grade,
            embedding: self.embedding.as_ref(),
        }
    }
}

/// Reads every face of a photo (see the module docs, step 1). CPU-heavy.
pub fn read(enroller: &Enroller, bytes: &[u8]) -> Result<Photo, Refusal> {
    let pipeline_failed = |e: &dyn std::fmt::Display| Refusal::Pipeline(e.to_string());
    let image = decode_image(bytes, enroller.limits())?;
    let faces = enroller
        .pipeline()
        .faces(&image)
        .map_err(|e| pipeline_failed(&e))?;
    if faces.len() > MAX_FACES {
        return Err(Refusal::TooManyFaces {
            found: faces.len(),
            max: MAX_FACES,
        });
    }
    let gate = QualityGate::door();
    let graded: Vec<(Grade, Option<QualityIssue>)> = faces
        .iter()
        .map(|f| (gate.grade(&f.quality), gate.check(&f.quality).err()))
        .collect();
    let judged: Vec<_> = faces
        .iter()
        .zip(&graded)
        .filter(|(_, (grade, _))| *grade != Grade::Out)
        .map(|(face, _)| face.clone())
        .collect();
    let mut embeddings = enroller
        .pipeline()
        .embed(&judged)
        .map_err(|e| pipeline_failed(&e))?
        .into_iter();
    let mut seen = Vec::with_capacity(faces.len());
    for (face, (grade, issue)) in faces.into_iter().zip(graded) {
        let (embedding, crop) = match grade {
            Grade::Out => (None, None),
            _ => {
                let crop = jpeg_thumbnail(face.chip.as_rgb()).map_err(|e| pipeline_failed(&e))?;
                (embeddings.next(), Some(crop))
            }
        };
        seen.push(SeenFace {
            bbox: face.detection.bbox,
            quality: face.quality,
            grade,
            issue,
            embedding,
            crop,
        });
    }
    Ok(Photo {
        width: image.width(),
        height: image.height(),
        faces: seen,
    })
}

/// The lesson a photo was taken in, and by whom.
#[derive(Clone, Copy, Debug)]
pub struct Taken<'a> {
    pub room: &'a str,
    pub at: UnixMillis,
    /// The user, as the audit log names them.
    pub by: &'a str,
}

/// Checks that a photo taken at `at` belongs to `session`: inside its window (from
/// `early_minutes` before the start to the end, as a door's record must be) and not in the
/// future. The reason says the lesson's times.
pub fn check_taken_at(
    session: &Session,
    rules: &Rules,
    at: UnixMillis,
    now: UnixMillis,
) -> Result<(), String> {
    if at.0 > now.0 + FUTURE_SLACK_MS {
        let (taken, clock) = (rules.zone.local(at.0), rules.zone.local(now.0));
        return Err(format!(
            "this photo is dated {} {}, later than now ({} {}): is the clock of the phone or \
             computer it came from right?",
            taken.date,
            hhmm(taken.minute),
            clock.date,
            hhmm(clock.minute)
        ));
    }
    let (from, to) = session.window(rules);
    if (from..to).contains(&at) {
        return Ok(());
    }
    let (slot, taken) = (&session.slot, rules.zone.local(at.0));
    Err(format!(
        "this photo was taken at {} {}, outside the lesson ({} {}–{}, from {} minutes before \
         it starts): a class photo counts for the lesson it was taken in",
        taken.date,
        hhmm(taken.minute),
        session.day,
        hhmm(slot.start_minute),
        hhmm(slot.end_minute),
        rules.early_minutes,
    ))
}

/// Stores a record for each judged face of one photo (see the module docs, step 3): the new
/// record's id per face, `None` for a face not judged or not kept.
pub fn keep(
    tx: &dyn Sql,
    taken: Taken<'_>,
    faces: &[SeenFace],
    judgements: &[Option<Judgement>],
    unknown_faces: UnknownFaces,
    model: &str,
    now: UnixMillis,
) -> Result<Vec<Option<RecordId>>, StoreError> {
    let mut ids = Vec::with_capacity(faces.len());
    for (face, judgement) in faces.iter().zip(judgements) {
        let (Some(judgement), Some(embedding)) = (judgement, &face.embedding) else {
            ids.push(None);
            continue;
        };
        let discard =
            judgement.decision == Decision::Unknown && unknown_faces == UnknownFaces::Discard;
        if discard {
            ids.push(None);
            continue;
        }
        let q = &face.quality;
        let quality = json!({
            "face_px": q.inter_ocular_px, "sharpness": q.sharpness,
            "detector_score": q.detector_score,
            "yaw_deg": q.pose.map(|p| p.yaw_deg), "grade": face.grade,
        });
        let id = RecordId::random();
        let record = PhotoFace {
            id,
            taken_by: taken.by,
            room: taken.room,
            taken_at: taken.at,
            model,
            embedding,
            candidates: &judgement.candidates,
            decision: judgement.decision,
            // As at the door: a face that counts at once keeps no picture.
            thumbnail: match judgement.decision {
                Decision::Confident => None,
                Decision::Uncertain | Decision::Unknown => face.crop.as_deref(),
            },
            quality: &quality,
        };
        let best = judgement.candidates.first().map(|c| c.student);
        let standing = arrival::starting(judgement.decision, best);
        records::insert_photo_face(tx, &record, now, standing)?;
        ids.push(Some(id));
    }
    Ok(ids)
}

/// The session a photo upload is for, as the API names it.
pub fn target(slot: uuid::Uuid, day: NaiveDate) -> String {
    format!("session:{slot}/{day}")
}
