//! `people::process` with a fake recognizer and a fake liveness judge: each frame's pixels say
//! who is in it, and whether it is a photo of them.

use std::time::Duration;

use image::{Rgb, RgbImage};
use rollcall_models::detect::Detection;
use rollcall_models::dlib_resnet::{CHIP_BYTES, Chip};
use rollcall_models::matching::{MatchMode, Thresholds};
use rollcall_models::pipeline::Face;
use rollcall_models::quality::{FaceQuality, Pose, QualityGate};
use rollcall_shared::*;

use super::*;
use crate::daemon::decide::record::RecordOrigin;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Pixel `(i, 0)` of a frame holds the identity code of face `i` (0 = no more faces); a code
/// of 200 or more is a face too small for the gate, and `50 + c` is person `c` with their head
/// turned 50° (past the gate's limit). Codes 100..200 are faces between two people: `100 + a`
/// lies `a` degrees from code 1's face towards code 2's.
pub(crate) struct Fake;

impl Recognizer for Fake {
    fn model_id(&self) -> ModelId {
        ModelId::new("fake").unwrap()
    }

    fn faces(&self, frame: &RgbImage) -> Result<Vec<Face>, RecognizeError> {
        let codes = (0..frame.width())
            .map(|x| frame.get_pixel(x, 0).0[0])
            .take_while(|c| *c != 0);
        Ok(codes.enumerate().map(|(i, code)| face(i, code)).collect())
    }

    fn embed(&self, faces: &[Face]) -> Result<Vec<Embedding>, RecognizeError> {
        Ok(faces
            .iter()
            .map(|f| embedding(f.chip.as_rgb()[0]))
            .collect())
    }
}

fn embedding(code: u8) -> Embedding {
    let mut e = Embedding::ZERO;
    match code {
        50..100 => return embedding(code - 50),
        100..200 => {
            let a = f32::from(code - 100).to_radians();
            (e[1], e[2]) = (a.cos(), a.sin());
        }
        _ => e[usize::from(code % 100)] = 1.0,
    }
    e
}

fn face(slot: usize, code: u8) -> Face {
    let x = slot as f32 * 300.0;
    let eye = if code >= 200 { 5.0 } else { 40.0 };
    Face {
        detection: Detection {
            bbox: [x, 0.0, x + 120.0, 120.0],
            score: 0.99,
            landmarks: [[x, 0.0]; 5],
        },
        shape: None,
        quality: FaceQuality {
            inter_ocular_px: eye,
            box_px: 120.0,
            sharpness: 100.0,
            detector_score: 0.99,
            pose: Some(Pose {
                yaw_deg: if (50..100).contains(&code) { 50.0 } else { 0.0 },
                pitch_deg: 0.0,
                roll_deg: 0.0,
            }),
            landmark_disagreement: None,
            chip_face_score: None,
        },
        chip: Chip::from_rgb(vec![code; CHIP_BYTES]).unwrap(),
    }
}

pub(crate) fn frame(codes: &[u8]) -> RgbImage {
    let mut img = RgbImage::new(8, 1);
    for (x, c) in codes.iter().enumerate() {
        img.put_pixel(x as u32, 0, Rgb([*c, 0, 0]));
    }
    img
}

/// The burst of `frames`, every frame searched and kept.
fn walk(frames: &[RgbImage]) -> Walk {
    Walk::of(frames.to_vec(), &Fake).unwrap()
}

fn gallery(students: &[(StudentId, u8)]) -> MatchGallery {
    let mut state = GalleryState::empty(ModelId::new("fake").unwrap());
    for (s, code) in students {
        let entry = GalleryEntry {
            student: *s,
            classes: Vec::new(),
            embeddings: vec![embedding(*code)],
        };
        state.entries.insert(*s, entry);
    }
    MatchGallery::new(state)
}

fn settings() -> Settings {
    Settings {
        origin: RecordOrigin {
            device: DeviceId::random(),
            room: "Room 1".into(),
            direction: Direction::Both,
            model: ModelId::new("fake").unwrap(),
        },
        gate: QualityGate::default(),
        thresholds: Thresholds {
            confident: 0.3,
            confident_weak: 0.3,
            uncertain: 0.5,
            min_margin: 0.1,
        },
        same_in_burst: 0.5,
        mode: MatchMode::Nearest,
        thumbnails: true,
    }
}

fn time() -> BurstTime {
    BurstTime {
        captured_at: UnixMillis::now(),
        clock: ClockSync::Synchronised,
        local: WeekTime {
            weekday: 1,
            minute: 600,
        },
        now: Instant::now(),
    }
}

#[test]
fn one_person_in_every_frame_and_a_stranger_make_two_records() {
    let alice = StudentId::random();
    let g = gallery(&[(alice, 1), (StudentId::random(), 2)]);
    let frames = [frame(&[1, 9]), frame(&[1]), frame(&[1, 9])];
    let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
    let out = process(
        walk(&frames),
        &Fake,
        None,
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!((out.faces, out.people, out.records.len()), (5, 2, 2));
    let known = &out.records[0];
    assert_eq!(
        (
            known.decision,
            known.candidates[0].student,
            known.quality.frames
        ),
        (Decision::Confident, alice, 3)
    );
    assert!(known.thumbnail.is_none());
    let stranger = &out.records[1];
    assert_eq!(
        (stranger.decision, stranger.quality.frames),
        (Decision::Unknown, 2)
    );
    assert!(stranger.thumbnail.is_some());
    assert!(out.records.iter().all(|r| r.validate().is_ok()));

    let again = process(
        walk(&frames),
        &Fake,
        None,
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!((again.records.len(), again.cooled_down), (0, 2), "cooldown");
}

#[test]
fn faces_failing_the_gate_are_not_embedded_or_recorded() {
    let g = gallery(&[(StudentId::random(), 1)]);
    let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
    let out = process(
        walk(&[frame(&[201])]),
        &Fake,
        None,
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!((out.faces, out.gated_out, out.records.len()), (1, 1, 0));
}

#[test]
fn a_student_seen_only_turned_away_is_asked_about_never_named_nor_lost() {
    let ada = StudentId::random();
    let g = gallery(&[(ada, 1)]);
    let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
    let turned = [frame(&[51]), frame(&[51]), frame(&[51])];
    let out = process(
        walk(&turned),
        &Fake,
        None,
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!((out.gated_out, out.unclear, out.records.len()), (3, 1, 1));
    let r = &out.records[0];
    assert_eq!(
        r.decision,
        Decision::Uncertain,
        "a clear face would be Confident"
    );
    assert_eq!((r.candidates[0].student, r.quality.frames), (ada, 3));
    assert!(r.thumbnail.is_some(), "the teacher sees the face");

    // One clear frame is enough: the turned ones join it, and it decides.
    let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
    let mixed = [frame(&[51]), frame(&[1]), frame(&[51])];
    let out = process(
        walk(&mixed),
        &Fake,
        None,
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!((out.unclear, out.records.len()), (0, 1));
    assert_eq!(out.records[0].decision, Decision::Confident);
    assert_eq!(out.records[0].quality.frames, 3);
}

#[test]
fn an_empty_gallery_makes_unknowns() {
    let g = MatchGallery::empty(ModelId::new("fake").unwrap());
    let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
    let out = process(
        walk(&[frame(&[1])]),
        &Fake,
        None,
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!(out.records[0].decision, Decision::Unknown);
    assert_eq!(out.records[0].gallery_version, GalleryVersion(0));
}

#[test]
fn a_person_whose_frames_name_different_students_is_asked_not_named() {
    let (x, y) = (StudentId::random(), StudentId::random());
    // Student x at 0°, y at 60° (lookalikes); three frames at 5° and one at 33°, nearer y:
    // combined, the face is 12° from x (Confident on its own), but one frame says y.
    let g = gallery(&[(x, 100), (y, 160)]);
    let run = |codes: [u8; 4]| {
        let frames = codes.map(|c| frame(&[c]));
        let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
        process(
            walk(&frames),
            &Fake,
            None,
            &g,
            &settings(),
            &mut cooldown,
            time(),
        )
        .unwrap()
    };
    let agreed = run([105, 105, 105, 105]);
    assert_eq!(agreed.records.len(), 1);
    assert_eq!(agreed.records[0].decision, Decision::Confident);
    let split = run([105, 105, 105, 133]);
    assert_eq!((split.people, split.disagreed), (1, 1));
    assert_eq!(split.records[0].decision, Decision::Uncertain);
    assert_eq!(split.records[0].candidates[0].student, x, "still x first");
}

/// A judge for which face `i` is a photo when the green of pixel `(i, 0)` is 1; counts calls.
#[derive(Default)]
struct Photos {
    judged: AtomicUsize,
}

impl Judge for Photos {
    fn judge(&self, frame: &RgbImage, bbox: [f32; 4]) -> Result<LivenessCheck, RecognizeError> {
        self.judged.fetch_add(1, Ordering::Relaxed);
        let slot = (bbox[0] / 300.0) as u32;
        let photo = frame.get_pixel(slot, 0).0[1] == 1;
        Ok(LivenessCheck {
            live: !photo,
            real_score: if photo { 0.1 } else { 0.9 },
        })
    }
}

/// A frame of identity codes, each live or a photo.
fn frame_with_photos(faces: &[(u8, bool)]) -> RgbImage {
    let mut img = frame(&faces.iter().map(|(c, _)| *c).collect::<Vec<_>>());
    for (x, (_, photo)) in faces.iter().enumerate() {
        img.get_pixel_mut(x as u32, 0).0[1] = u8::from(*photo);
    }
    img
}

#[test]
fn a_face_the_door_would_mark_but_judged_not_live_is_asked_about_flagged_with_its_face() {
    let (ada, bo) = (StudentId::random(), StudentId::random());
    let g = gallery(&[(ada, 1), (bo, 2)]);
    // Ada walks in; Bo's photo is held up beside her; a stranger follows.
    let frames = [0; 3].map(|_| frame_with_photos(&[(1, false), (2, true), (9, false)]));
    let judge = Photos::default();
    let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
    let out = process(
        walk(&frames),
        &Fake,
        Some(&judge),
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!((out.people, out.records.len(), out.not_live), (3, 3, 1));
    assert_eq!(
        judge.judged.load(Ordering::Relaxed),
        2,
        "only who would be marked"
    );
    let (ada_r, bo_r, stranger) = (&out.records[0], &out.records[1], &out.records[2]);
    assert_eq!(ada_r.decision, Decision::Confident);
    assert_eq!(ada_r.liveness.map(|l| l.live), Some(true));
    assert!(ada_r.thumbnail.is_none());
    assert_eq!(
        (bo_r.decision, bo_r.candidates[0].student),
        (Decision::Uncertain, bo)
    );
    assert_eq!(
        bo_r.liveness,
        Some(LivenessCheck {
            live: false,
            real_score: 0.1
        })
    );
    assert!(bo_r.thumbnail.is_some(), "the teacher sees the face");
    assert_eq!(
        (stranger.decision, stranger.liveness),
        (Decision::Unknown, None)
    );
    assert!(out.records.iter().all(|r| r.validate().is_ok()));

    // The same burst without a judge: Bo's photo is marked, and nothing says it was checked.
    let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
    let out = process(
        walk(&frames),
        &Fake,
        None,
        &g,
        &settings(),
        &mut cooldown,
        time(),
    )
    .unwrap();
    assert_eq!(out.records[1].decision, Decision::Confident);
    assert!(out.records.iter().all(|r| r.liveness.is_none()) && out.not_live == 0);
}

#[test]
fn a_gate_names_a_member_of_staff_only_when_confident_and_never_among_students() {
    // Code 1 is a student, code 2 a member of staff; code 165 lies 25° (0.43) from the
    // member's face and 65° from the student's: nearest the member, inside the uncertain
    // band, outside the confident one.
    let (ada, tess) = (StudentId::random(), StaffId::random());
    let mut g = gallery(&[(ada, 1)]).state;
    let member = StaffEntry {
        member: tess,
        embeddings: vec![embedding(2)],
    };
    g.staff.insert(tess, member);
    let g = MatchGallery::new(g);
    let at_gate = |codes: &[u8]| {
        let mut cooldown = Cooldown::new(Duration::from_secs(600), 0.5);
        let frames = [frame(codes), frame(codes)];
        process(
            walk(&frames),
            &Fake,
            None,
            &g,
            &settings(),
            &mut cooldown,
            time(),
        )
        .unwrap()
    };

    let out = at_gate(&[2, 1]);
    assert_eq!(out.records.len(), 2);
    let staff = &out.records[0];
    assert_eq!(staff.decision, Decision::Confident);
    assert_eq!(staff.staff.map(|m| m.member), Some(tess));
    assert!(staff.candidates.is_empty() && staff.thumbnail.is_none());
    let student = &out.records[1];
    assert_eq!(student.candidates[0].student, ada);
    assert!(student.staff.is_none());
    assert!(out.records.iter().all(|r| r.validate().is_ok()));

    let doubtful = &at_gate(&[165]).records[0];
    assert_eq!(
        doubtful.decision,
        Decision::Unknown,
        "staff are never asked about"
    );
    assert!(doubtful.staff.is_none());
    assert!(
        doubtful.candidates.iter().all(|c| c.student == ada),
        "only students are candidates"
    );
    assert_eq!(
        g.searched(time().local),
        2,
        "students and staff are searched"
    );
}
