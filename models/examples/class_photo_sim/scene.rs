//! A class photo made from portraits, and read as the hub reads one.
//!
//! Layout ([`layout`], pure, seeded): the people in 4–6 rows, front row first in the list,
//! each row staggered by half a place; the front row's eyes `front_eye_px` apart, each row
//! behind 6 % smaller (farther from the phone). A place is 5 eye distances wide and rows 5 eye
//! distances apart, so shoulders overlap and a row hides the chests of the row behind, never a
//! face. Rendering ([`render`]): each person's head and shoulders
//! (`eval::doorway::head_and_shoulders`) scaled and pasted, back row first, on a wall-grey
//! gradient; then sensor noise (σ 3) and JPEG 80, a phone photo sent on.
//!
//! Reading ([`read`]): the hub's `class_photo::read`: detection with the default options,
//! alignment, quality, the door's gate; every face but an `Out` one embedded.

use image::{Rgb, RgbImage, imageops::FilterType};
use rollcall_models::eval::doorway::{Subject, add_noise, head_and_shoulders, recompress};
use rollcall_models::pipeline::FacePipeline;
use rollcall_models::quality::{Grade, QualityGate};
use serde::{Deserialize, Serialize};

use crate::faces_cache::{Error, SeenFace};

/// One person placed in a photo: where their face should be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placed {
    pub person: String,
    pub photo: std::path::PathBuf,
    /// `[x1, y1, x2, y2]` of the face box in the frame.
    pub face_box: [f32; 4],
    pub eye_px: f32,
}

/// Where each of `people` (photo, subject) goes, and the frame's size.
pub fn layout(
    people: &[(String, std::path::PathBuf, Subject)],
    rows: usize,
    front_eye_px: f32,
) -> (Vec<Placed>, u32, u32) {
    let per_row = people.len().div_ceil(rows.max(1)).max(1);
    let width = (per_row as f32 + 1.5) * 5.0 * front_eye_px;
    let eye_of = |row: usize| front_eye_px * 0.94f32.powi(row as i32);
    let used_rows = people.len().div_ceil(per_row);
    // Row centres from the back (top) down: the back row 3.5 of its eyes from the top.
    let mut y = 3.5 * eye_of(used_rows.saturating_sub(1));
    let mut centres = vec![0.0; used_rows];
    for row in (0..used_rows).rev() {
        centres[row] = y;
        y += 5.0 * eye_of(row);
    }
    let height = centres.first().copied().unwrap_or(0.0) + 4.5 * front_eye_px;
    let placed = people
        .iter()
        .enumerate()
        .map(|(i, (person, photo, subject))| {
            let (row, place) = (i / per_row, i % per_row);
            let in_row = (people.len() - row * per_row).min(per_row);
            let eye = eye_of(row);
            let span = in_row as f32 * 5.0 * eye;
            let stagger = if row % 2 == 1 { 0.5 * 5.0 * eye } else { 0.0 };
            let cx = (width - span) / 2.0 + (place as f32 + 0.5) * 5.0 * eye + stagger;
            let scale = eye / subject.eye_px.max(1.0);
            let b = subject.bbox;
            let (w, h) = ((b[2] - b[0]) * scale, (b[3] - b[1]) * scale);
            Placed {
                person: person.clone(),
                photo: photo.clone(),
                face_box: [
                    cx - w / 2.0,
                    centres[row] - h / 2.0,
                    cx + w / 2.0,
                    centres[row] + h / 2.0,
                ],
                eye_px: eye,
            }
        })
        .collect();
    (placed, width.ceil() as u32, height.ceil() as u32)
}

/// The photo of `placed` (subjects as found in their portraits), seeded noise.
pub fn render(
    placed: &[Placed],
    subjects: &[(RgbImage, Subject)],
    (width, height): (u32, u32),
    seed: u64,
) -> RgbImage {
    let mut frame = RgbImage::from_fn(width, height, |x, y| {
        let v = (150 + x * 40 / width.max(1) - y * 30 / height.max(1)) as u8;
        Rgb([v, v.saturating_sub(4), v.saturating_sub(12)])
    });
    // Back row first, so the front rows stand in front of it.
    for (p, (photo, subject)) in placed.iter().zip(subjects).rev() {
        let crop = head_and_shoulders(photo, subject);
        let scale = p.eye_px / subject.eye_px.max(1.0);
        let (cw, ch) = (crop[2] - crop[0], crop[3] - crop[1]);
        let w = ((cw as f32 * scale).round() as u32).max(1);
        let h = ((ch as f32 * scale).round() as u32).max(1);
        let region = image::imageops::crop_imm(photo, crop[0], crop[1], cw, ch).to_image();
        let person = image::imageops::resize(&region, w, h, FilterType::Triangle);
        let b = subject.bbox;
        let centre = [
            (b[0] + b[2]) / 2.0 - crop[0] as f32,
            (b[1] + b[3]) / 2.0 - crop[1] as f32,
        ];
        let target = [
            (p.face_box[0] + p.face_box[2]) / 2.0,
            (p.face_box[1] + p.face_box[3]) / 2.0,
        ];
        let x = (target[0] - centre[0] * scale).round() as i64;
        let y = (target[1] - centre[1] * scale).round() as i64;
        image::imageops::replace(&mut frame, &person, x, y);
    }
    add_noise(&mut frame, 3.0, seed);
    recompress(&frame, 80)
}

/// Every face of `image` as the hub's `class_photo::read` finds it: graded by the door's
/// gate, embedded unless `Out` (then the embedding is empty).
pub fn read(pipeline: &FacePipeline, image: &RgbImage) -> Result<Vec<SeenFace>, Error> {
    let faces = pipeline.faces(image)?;
    let gate = QualityGate::door();
    let kept: Vec<_> = faces
        .iter()
        .filter(|f| gate.grade(&f.quality) != Grade::Out)
        .cloned()
        .collect();
    let mut embeddings = pipeline.embed(&kept)?.into_iter();
    Ok(faces
        .iter()
        .map(|f| SeenFace {
            bbox: f.detection.bbox,
            quality: f.quality,
            embedding: match gate.grade(&f.quality) {
                Grade::Out => Vec::new(),
                _ => embeddings.next().map(|e| e.to_vec()).unwrap_or_default(),
            },
            live: None,
        })
        .collect())
}
