//! A door unit's recogniser for tests: the real face pipeline on a photo, matched against the
//! gallery the hub pushed to the device, decided with calibrated-looking thresholds, and
//! packed as the record the door unit would publish (thumbnail for anything not Confident).

use rollcall_models::matching::{self, Gallery, MatchMode, Thresholds};
use rollcall_models::quality::QualityGate;
use rollcall_school::enrol::Enroller;
use rollcall_shared::*;

/// Thresholds of a door unit calibrated on the test photos (unit-length embeddings).
pub const THRESHOLDS: Thresholds = Thresholds {
    confident: 0.28,
    confident_weak: 0.28,
    uncertain: 0.42,
    min_margin: 0.035,
};
/// Candidates a record carries.
const CANDIDATES: usize = 3;

/// The recogniser of one door unit.
pub struct Camera {
    enroller: Enroller,
    gallery: Gallery<StudentId>,
    version: GalleryVersion,
    model: ModelId,
}

impl Camera {
    /// Loads the face models and the gallery a device holds.
    pub fn new(state: &GalleryState) -> Camera {
        super::faces::require_models();
        let enroller = Enroller::load(None, QualityGate::default()).unwrap();
        let mut gallery = Gallery::new();
        for entry in state.entries.values() {
            for e in &entry.embeddings {
                gallery.add(entry.student, e).unwrap();
            }
        }
        Camera {
            enroller,
            gallery,
            version: state.version,
            model: state.model.clone(),
        }
    }

    /// The record a door unit in `room` would send for a face seen in `photo` at `at`.
    pub fn see(&self, device: DeviceId, room: &str, photo: &[u8], at: i64) -> AttendanceRecord {
        let face = self
            .enroller
            .assess(photo)
            .expect("one good face in the photo");
        let query = face.embedding;
        let matches = self
            .gallery
            .search(&query, CANDIDATES, MatchMode::Nearest)
            .unwrap();
        let decision = match matching::decide_matches(&matches, &THRESHOLDS) {
            matching::Decision::Confident => Decision::Confident,
            matching::Decision::Uncertain => Decision::Uncertain,
            matching::Decision::Unknown => Decision::Unknown,
        };
        let q = face.quality;
        AttendanceRecord {
            id: RecordId::now_v7(),
            device,
            room: room.into(),
            captured_at: UnixMillis(at),
            model: self.model.clone(),
            gallery_version: self.version,
            embedding: query,
            candidates: matches
                .iter()
                .map(|m| Candidate {
                    student: m.id,
                    distance: m.distance,
                })
                .collect(),
            decision,
            thumbnail: (decision != Decision::Confident).then(|| Thumbnail(face.thumbnail.clone())),
            quality: FaceQuality {
                face_px: q.inter_ocular_px,
                sharpness: q.sharpness,
                detector_score: q.detector_score,
                yaw_deg: q.pose.map_or(0.0, |p| p.yaw_deg),
                frames: 1,
            },
            clock: rollcall_shared::ClockSync::Unknown,
            direction: Some(rollcall_shared::Direction::Both),
            liveness: None,
            staff: None,
        }
    }
}
