//! Turning one matched person into an [`AttendanceRecord`], with a JPEG thumbnail of the
//! aligned face for records a teacher has to check (Uncertain, Unknown) when enabled. A gate's
//! Confident match of a member of staff names them and no student; every other record's
//! candidates are students only.

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rollcall_models::dlib_resnet::Chip;
use rollcall_models::matching::Match;
use rollcall_models::pipeline::Face;
use rollcall_shared::record::{MAX_CANDIDATES, MAX_THUMBNAIL_BYTES};
use rollcall_shared::{
    AttendanceRecord, Candidate, ClockSync, Decision, DeviceId, Direction, Embedding, FaceQuality,
    GalleryVersion, LivenessCheck, ModelId, RecordId, StaffMatch, Thumbnail, UnixMillis,
};

use super::gallery::Enrolled;

/// Side of the aligned chip the thumbnail is made from.
const CHIP_SIDE: u32 = 150;

/// Who and where: the fixed parts of every record.
#[derive(Debug, Clone)]
pub struct RecordOrigin {
    pub device: DeviceId,
    pub room: String,
    pub direction: Direction,
    pub model: ModelId,
}

/// What was decided about one person of a burst.
#[derive(Debug)]
pub struct Decided<'a> {
    /// The record's id (UUID v7), minted when the person was first looked at, so that every
    /// line said of them carries it.
    pub id: RecordId,
    pub embedding: &'a Embedding,
    pub matches: &'a [Match<Enrolled>],
    pub decision: Decision,
    /// The person's best face.
    pub face: &'a Face,
    pub frames: usize,
    /// What the liveness judge made of that face; `None`: not judged.
    pub liveness: Option<LivenessCheck>,
}

/// Builds the record of what was `decided`.
pub fn build(
    origin: &RecordOrigin,
    gallery_version: GalleryVersion,
    captured_at: UnixMillis,
    clock: ClockSync,
    decided: &Decided<'_>,
    thumbnails: bool,
) -> AttendanceRecord {
    let staff = match (decided.decision, decided.matches.first()) {
        (
            Decision::Confident,
            Some(&Match {
                id: Enrolled::Staff(member),
                distance,
            }),
        ) => Some(StaffMatch { member, distance }),
        _ => None,
    };
    let students = decided.matches.iter().filter_map(|m| match m.id {
        Enrolled::Student(student) => Some(Candidate {
            student,
            distance: m.distance,
        }),
        Enrolled::Staff(_) => None,
    });
    let candidates = students.take(if staff.is_some() { 0 } else { MAX_CANDIDATES });
    let q = &decided.face.quality;
    let wants_thumbnail = thumbnails && decided.decision != Decision::Confident;
    AttendanceRecord {
        id: decided.id,
        device: origin.device,
        room: origin.room.clone(),
        captured_at,
        model: origin.model.clone(),
        gallery_version,
        embedding: *decided.embedding,
        candidates: candidates.collect(),
        decision: decided.decision,
        thumbnail: wants_thumbnail
            .then(|| thumbnail(&decided.face.chip))
            .flatten(),
        quality: FaceQuality {
            face_px: q.inter_ocular_px,
            sharpness: q.sharpness,
            detector_score: q.detector_score,
            yaw_deg: q.pose.map_or(0.0, |p| p.yaw_deg),
            frames: decided.frames.min(usize::from(u8::MAX)) as u8,
        },
        clock,
        direction: Some(origin.direction),
        liveness: decided.liveness,
        staff,
    }
}

/// A JPEG of the aligned face no larger than the protocol allows.
pub fn thumbnail(chip: &Chip) -> Option<Thumbnail> {
    let image = RgbImage::from_raw(CHIP_SIDE, CHIP_SIDE, chip.as_rgb().to_vec())?;
    [85u8, 70, 50, 30].into_iter().find_map(|quality| {
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(&image)
            .ok()?;
        (bytes.len() <= MAX_THUMBNAIL_BYTES).then_some(Thumbnail(bytes))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_are_small_jpegs() {
        let noisy: Vec<u8> = (0..150 * 150 * 3).map(|i| (i * 7919 % 251) as u8).collect();
        let chip = Chip::from_rgb(noisy).unwrap();
        let t = thumbnail(&chip).unwrap();
        assert!(t.validate().is_ok(), "{} bytes", t.0.len());
    }
}
