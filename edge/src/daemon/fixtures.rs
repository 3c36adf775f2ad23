//! Values for unit tests.

use rollcall_shared::*;

/// A valid record; with a ~`thumb` byte JPEG-looking thumbnail when `thumb > 0`.
pub fn record(decision: Decision, thumb: usize) -> AttendanceRecord {
    let candidates = match decision {
        Decision::Unknown => Vec::new(),
        _ => vec![Candidate {
            student: StudentId::random(),
            distance: 0.3,
        }],
    };
    let thumbnail = (thumb > 0).then(|| {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.resize(thumb, 7);
        Thumbnail(bytes)
    });
    AttendanceRecord {
        id: RecordId::now_v7(),
        device: DeviceId::random(),
        room: "Room 1".into(),
        captured_at: UnixMillis::now(),
        model: ModelId::new("test-model").unwrap(),
        gallery_version: GalleryVersion(1),
        embedding: Embedding([0.1; EMBEDDING_DIM]),
        candidates,
        decision,
        thumbnail,
        quality: FaceQuality {
            face_px: 60.0,
            sharpness: 90.0,
            detector_score: 0.98,
            yaw_deg: 2.0,
            frames: 3,
        },
        clock: ClockSync::Unknown,
        direction: Some(Direction::Both),
        liveness: None,
        staff: None,
    }
}
