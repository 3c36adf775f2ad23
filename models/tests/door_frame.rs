//! The door's frame, searched as the door searches it (`PipelineOptions::door`): the whole
//! frame at 640 px, a second look at full resolution around small or faint faces, and every
//! face aligned from the camera's full-resolution frame. Real weights, real photos of the
//! shared face set pasted into a corridor (`eval::doorway`).

use std::path::PathBuf;

use image::RgbImage;
use rollcall_models::detect::{Detection, iou};
use rollcall_models::eval::doorway::{self, Camera, Degradation, Subject};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::quality::QualityGate;
use rollcall_models::retinaface::DetectOptions;
use rollcall_models::weights::ModelsDir;

const PHOTO: &str = "identities/Aaron_Peirsol/Aaron_Peirsol_0001.jpg";

fn faces_dir() -> PathBuf {
    std::env::var_os("ROLLCALL_FACES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/faces"))
}

fn door() -> FacePipeline {
    let dir = ModelsDir::resolve(None).expect("face models: run scripts/dev-setup");
    FacePipeline::load(&dir, PipelineOptions::door()).expect("the face models load")
}

/// The photo and where its face is, as the detector finds it in the photo.
fn subject(pipeline: &FacePipeline) -> (RgbImage, Subject) {
    let path = faces_dir().join(PHOTO);
    let photo = load_image(&path, ImageLimits::default())
        .unwrap_or_else(|e| panic!("{}: {e} (set ROLLCALL_FACES_DIR)", path.display()));
    let face = pipeline
        .primary_face(&photo)
        .expect("the pipeline runs")
        .expect("the photo has a face");
    let [l, r] = [face.detection.landmarks[0], face.detection.landmarks[1]];
    let subject = Subject {
        bbox: face.detection.bbox,
        eye_px: (r[0] - l[0]).hypot(r[1] - l[1]),
    };
    (photo, subject)
}

/// The photo's face in `camera`'s corridor with its eyes `eye_px` (720p pixels) apart.
fn frame(photo: &RgbImage, subject: &Subject, eye_px: f32, camera: Camera) -> doorway::Frame {
    let d = Degradation {
        eye_px,
        ..Degradation::CLEAN
    };
    doorway::frame(photo, subject, &d, 11, 0, camera)
}

#[test]
fn a_small_face_is_sure_after_the_second_look_and_not_in_the_shrunk_frame_alone() {
    let pipeline = door();
    let (photo, subject) = subject(&pipeline);
    // Eyes 13 px apart in a 720p frame: about 3 m from a 70° camera; the face 15 px across in
    // the frame searched at 640 px, where the detector is not sure of it (the door's gate
    // wants a score of 0.9).
    let f = frame(&photo, &subject, 13.0, Camera::HD);
    let door = pipeline.options().detect;
    let shrunk_alone = DetectOptions {
        second_look: false,
        ..door
    };
    let full = DetectOptions {
        max_side: 1280,
        second_look: false,
        ..door
    };
    let alone = pipeline.detect_with(&f.image, &shrunk_alone).unwrap();
    let second = pipeline.detect_with(&f.image, &door).unwrap();
    let whole = pipeline.detect_with(&f.image, &full).unwrap();
    let sure = QualityGate::door().min_detector_score;
    let score = |found: &[Detection]| {
        let on_face: Vec<f32> = found
            .iter()
            .filter(|d| iou(&d.bbox, &f.face_box) > 0.5)
            .map(|d| d.score)
            .collect();
        assert!(on_face.len() <= 1, "one face, found once: {found:?}");
        on_face.first().copied().unwrap_or(0.0)
    };
    assert!(score(&alone) < sure, "the shrunk frame alone: {alone:?}");
    assert!(score(&second) >= sure, "with a second look: {second:?}");
    assert!(
        score(&whole) >= sure,
        "the whole frame at full size: {whole:?}"
    );
    let (a, b) = (&second[0], &whole[0]);
    assert!(
        a.bbox.iter().zip(b.bbox).all(|(x, y)| (x - y).abs() < 1.0),
        "the second look measures the face as the full frame does: {a:?} {b:?}"
    );
}

#[test]
fn a_face_is_aligned_from_the_cameras_full_resolution_frame() {
    let pipeline = door();
    let (photo, subject) = subject(&pipeline);
    let camera: Camera = "1920x1080".parse().unwrap();
    // 20 px between the eyes at 720p: 30 at 1080p, 10 in the frame searched at 640 px.
    let f = frame(&photo, &subject, 20.0, camera);
    let faces = pipeline.faces(&f.image).unwrap();
    assert_eq!(
        faces.len(),
        1,
        "{:?}",
        faces.iter().map(|f| f.detection).collect::<Vec<_>>()
    );
    let face = &faces[0];
    assert!(
        iou(&face.detection.bbox, &f.face_box) > 0.5,
        "{:?}",
        face.detection
    );
    let eyes = face.quality.inter_ocular_px;
    assert!(
        (25.0..35.0).contains(&eyes),
        "measured in 1080p pixels: {eyes}"
    );
    let again = pipeline.prepare(&f.image, face.detection).unwrap();
    assert_eq!(again.chip, face.chip, "cut from the full frame");
    let embeddings = pipeline.embed(&faces).unwrap();
    assert!(embeddings[0].iter().all(|v| v.is_finite()));
}
