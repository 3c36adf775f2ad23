//! One fixed, valid example of every message, shared by the golden and property tests.

use rollcall_shared::gallery::{GalleryState, GalleryUpdate, TimetableSlot};
use rollcall_shared::message::GalleryRequest;
use rollcall_shared::*;
use uuid::Uuid;

fn uuid(byte: u8) -> Uuid {
    Uuid::from_bytes([byte; 16])
}

/// An embedding starting with `head`, zeros after.
fn embedding(head: &[f32]) -> Embedding {
    let mut e = Embedding::ZERO;
    e[..head.len()].copy_from_slice(head);
    e
}

pub fn record() -> AttendanceRecord {
    AttendanceRecord {
        id: RecordId(uuid(0x01)),
        device: DeviceId(uuid(0x02)),
        room: "B12".into(),
        captured_at: UnixMillis(1_795_000_000_000),
        model: ModelId::new("retinaface-dlib-v1").unwrap(),
        gallery_version: GalleryVersion(7),
        embedding: embedding(&[0.5, -0.25, 1.0, 0.0]),
        candidates: vec![
            Candidate {
                student: StudentId(uuid(0x03)),
                distance: 0.375,
            },
            Candidate {
                student: StudentId(uuid(0x04)),
                distance: 0.5,
            },
        ],
        decision: Decision::Uncertain,
        thumbnail: Some(Thumbnail(vec![0xFF, 0xD8, 0xFF, 0xD9])),
        quality: FaceQuality {
            face_px: 48.0,
            sharpness: 120.5,
            detector_score: 0.99,
            yaw_deg: -4.0,
            frames: 3,
        },
        clock: ClockSync::Unsynchronised,
        direction: Some(Direction::In),
        liveness: Some(LivenessCheck {
            live: false,
            real_score: 0.25,
        }),
        staff: None,
    }
}

pub fn status() -> DeviceStatus {
    DeviceStatus {
        device: DeviceId(uuid(0x02)),
        sent_at: UnixMillis(1_795_000_000_500),
        uptime_s: 86_400,
        outbox_depth: 12,
        gallery_version: GalleryVersion(7),
        software_version: "0.1.0".into(),
        last_error: Some("broker unreachable".into()),
        model: Some(ModelId::new("retinaface-dlib-v1").unwrap()),
        free_disk_bytes: Some(5_000_000_000),
        clock: ClockSync::Synchronised,
        unknown_discarded: 3,
    }
}

/// What only version 7 carries: a gate's record naming a member of staff, and a gallery
/// update with staff in it.
pub fn with_staff() -> Vec<(&'static str, Message)> {
    let record = AttendanceRecord {
        candidates: Vec::new(),
        decision: Decision::Confident,
        thumbnail: None,
        liveness: Some(LivenessCheck {
            live: true,
            real_score: 0.875,
        }),
        staff: Some(StaffMatch {
            member: StaffId(uuid(0x07)),
            distance: 0.25,
        }),
        ..record()
    };
    let mut gallery = gallery_state();
    let member = StaffEntry {
        member: StaffId(uuid(0x07)),
        embeddings: vec![embedding(&[0.5])],
    };
    gallery.staff.insert(member.member, member);
    vec![
        ("staff-record", Message::Record(record)),
        (
            "staff-gallery",
            Message::Gallery(GalleryUpdate::snapshot(&gallery)),
        ),
    ]
}

pub fn gallery_state() -> GalleryState {
    let class = ClassId(uuid(0x05));
    let mut s = GalleryState::empty(ModelId::new("retinaface-dlib-v1").unwrap());
    s.version = GalleryVersion(8);
    let entry = GalleryEntry {
        student: StudentId(uuid(0x03)),
        classes: vec![class],
        embeddings: vec![embedding(&[0.125, 0.25])],
    };
    s.entries.insert(entry.student, entry);
    s.timetable = vec![TimetableSlot {
        class,
        weekday: 1,
        start_minute: 525,
        end_minute: 585,
    }];
    s
}

/// Every message variant, in tag order.
pub fn all() -> Vec<(&'static str, Message)> {
    vec![
        ("record", Message::Record(record())),
        ("status", Message::Status(status())),
        (
            "offline",
            Message::Offline(DeviceOffline {
                device: DeviceId(uuid(0x02)),
            }),
        ),
        (
            "gallery-request",
            Message::GalleryRequest(GalleryRequest {
                device: DeviceId(uuid(0x02)),
                have: GalleryVersion(7),
                full: true,
            }),
        ),
        (
            "ack",
            Message::Ack(RecordAck {
                records: vec![RecordId(uuid(0x01)), RecordId(uuid(0x06))],
            }),
        ),
        (
            "gallery",
            Message::Gallery(GalleryUpdate::snapshot(&gallery_state())),
        ),
        ("command", Message::Command(DeviceCommand::ResyncGallery)),
        (
            "site",
            Message::Site(SiteSettings {
                timezone: "Europe/London".into(),
                unknown_faces: UnknownFaces::Discard,
            }),
        ),
        (
            "unit-settings",
            Message::UnitSettings(UnitSettings {
                version: 3,
                toml: "[burst]\nframes = 7\n".into(),
            }),
        ),
        (
            "settings-report",
            Message::SettingsReport(SettingsReport {
                device: DeviceId(uuid(0x02)),
                in_force: 2,
                refused: Some(Refusal {
                    version: 3,
                    reason: "burst.frames: 70 is above 20".into(),
                }),
            }),
        ),
    ]
}
