//! The whole face pipeline behind one type: detect → align → measure quality → embed.
//!
//! Owns the order of the stages and what flows between them; each stage lives in its own
//! module. The edge daemon, the hub's enrolment and the command-line tools all go through
//! [`FacePipeline`], so every embedding in the system is made the same way, and its
//! [`model_id`] names that way.

use candle_core::Device;
use image::RgbImage;
use rayon::prelude::*;
use rollcall_shared::ModelId;
use serde::{Deserialize, Serialize};

use crate::align::dlib_chip::{FACE_RECOGNITION_PADDING, extract_chip, face_chip_details};
use crate::align::{AlignError, AlignOptions, Landmarks, align_face};
use crate::detect::Detection;
use crate::dlib_resnet::{CHIP_SIZE, Chip, DlibResnet, EmbedError};
use crate::landmarks::{ShapePredictor, SpBoxFit, box_from_detection};
use crate::matching::Embedding;
use crate::quality::{FaceQuality, QualityInput};
use crate::resize::resize_triangle;
use crate::retinaface::{DetectOptions, DetectorError, RetinaFace, SMALLEST_ANCHOR_PX};
use crate::weights::{ModelsDir, WeightsError};

/// Names the detector, alignment and embedder together: the one place the model id is
/// spelled (configs, tests and the hub's enrolment all refer to [`model_id`]). Bump the last
/// part whenever a change moves embeddings, so stored embeddings of the old pipeline are never
/// compared with new ones.
///
/// `align-3` descriptors are `align-2` descriptors scaled to unit length ([`unit_length`]):
/// distances between them are cosine distances in disguise, which no longer let a blurred or
/// dim photo (dlib gives those shorter descriptors) sit close to everybody (docs/ACCURACY.md).
pub fn model_id() -> ModelId {
    ModelId::new(MODEL_NAME).expect("MODEL_NAME is a valid model id")
}

/// The model before [`model_id`], whose stored embeddings [`unit_length`] turns into
/// [`model_id`] ones exactly, so a school need not photograph its students again.
pub fn previous_model_id() -> ModelId {
    ModelId::new(PREVIOUS_MODEL_NAME).expect("PREVIOUS_MODEL_NAME is a valid model id")
}

const MODEL_NAME: &str = "retinaface-mnet025.dlib-resnet-v1.align-3";
const PREVIOUS_MODEL_NAME: &str = "retinaface-mnet025.dlib-resnet-v1.align-2";

/// `d` scaled to unit Euclidean length: a descriptor of [`previous_model_id`] becomes one of
/// [`model_id`]. A zero or non-finite descriptor is returned unchanged (matching refuses the
/// non-finite ones).
pub fn unit_length(d: &Embedding) -> Embedding {
    let norm = d.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm.is_finite() && norm > 0.0 {
        Embedding(d.0.map(|v| v / norm))
    } else {
        *d
    }
}

/// Tunables of the pipeline; the defaults are the calibrated ones (see docs/ACCURACY.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineOptions {
    pub detect: DetectOptions,
    /// How chips are cut (the default is the calibrated one).
    pub aligner: Aligner,
    /// Options of [`Aligner::Template`] (unused by the shape predictor).
    pub align: AlignOptions,
    /// Average each descriptor with that of the mirrored chip before scaling it to unit
    /// length (twice the embedding cost).
    pub mirror: bool,
    /// Run the detector again on each face's own aligned chip and report its score as
    /// [`FaceQuality::chip_face_score`] (one small detection per face, a few ms), which the
    /// quality gate uses to turn down things that are not human faces.
    pub recheck_on_chip: bool,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            detect: DetectOptions::default(),
            aligner: Aligner::default(),
            align: AlignOptions::default(),
            mirror: true,
            recheck_on_chip: true,
        }
    }
}

impl PipelineOptions {
    /// For door-camera frames: the whole frame searched at [`DOOR_SEARCH_SIDE`] and each face
    /// looked at again in the full frame (`retinaface/second_look.rs`),
    /// and faces not searched below the detector's smallest anchor ([`SMALLEST_ANCHOR_PX`]),
    /// so a frame is never scaled up. Faces are aligned and embedded from the full frame, so
    /// a camera with more pixels gives sharper chips for the same detection cost
    /// (docs/PERFORMANCE.md, "The door's frame").
    pub fn door() -> Self {
        let defaults = Self::default();
        PipelineOptions {
            detect: DetectOptions {
                min_face_px: defaults.detect.min_face_px.max(SMALLEST_ANCHOR_PX),
                max_side: DOOR_SEARCH_SIDE,
                second_look: true,
                ..defaults.detect
            },
            ..defaults
        }
    }
}

/// The long side a door camera's whole frame is searched at: 640 px, a 720p frame at half
/// size, whatever the camera gives; each face found there is looked at again in the full
/// frame.
pub const DOOR_SEARCH_SIDE: u32 = 640;

/// The chip is searched again at half size (75×75, the face about 50 px across: plenty for
/// the detector, a quarter of the cost) ...
const RECHECK_SIDE: u32 = 75;
/// ... with a grey border, because the detector needs some context around a face.
const RECHECK_MARGIN: u32 = 25;
/// A re-detection counts if its box centre is this close to the chip centre, in pixels of
/// the half-size chip.
const RECHECK_MAX_OFFSET: f32 = 12.5;

/// How a face's chip is cut out of the image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aligner {
    /// RetinaFace's five points fitted to the dlib template (model `…align-1`).
    Template,
    /// dlib's 5-point shape predictor, run in a box derived from the detection, then dlib's
    /// own chip (`get_face_chip_details(shape, 150, 0.25)`): the chips `face_recognition`
    /// feeds the embedder (model `…align-2`).
    #[default]
    DlibShapePredictor,
}

/// Why the pipeline failed. Per-image problems (no face) are not errors: they are empty results.
/// The causes are boxed so the `Result` of every call stays small.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Weights(Box<WeightsError>),
    #[error("face detector: {0}")]
    Detect(Box<DetectorError>),
    #[error("face embedder: {0}")]
    Embed(Box<EmbedError>),
    #[error("alignment: {0}")]
    Align(#[from] AlignError),
}

macro_rules! boxed_from {
    ($($variant:ident($error:ty)),*) => {$(
        impl From<$error> for PipelineError {
            fn from(e: $error) -> Self {
                PipelineError::$variant(Box::new(e))
            }
        }
    )*};
}
boxed_from!(
    Weights(WeightsError),
    Detect(DetectorError),
    Embed(EmbedError)
);

/// One face found in an image, aligned and measured, ready to embed.
#[derive(Debug, Clone)]
pub struct Face {
    pub detection: Detection,
    /// dlib's five points (eye corners and nose base, shape-predictor order), when the
    /// shape predictor cut the chip.
    pub shape: Option<Landmarks>,
    pub quality: FaceQuality,
    pub chip: Chip,
}

/// The loaded networks and options.
#[derive(Debug)]
pub struct FacePipeline {
    detector: RetinaFace,
    shape_predictor: ShapePredictor,
    embedder: DlibResnet,
    options: PipelineOptions,
}

impl FacePipeline {
    /// Loads both networks from the models directory (checked against their SHA-256).
    pub fn load(dir: &ModelsDir, options: PipelineOptions) -> Result<Self, PipelineError> {
        let device = Device::Cpu;
        dir.check()?;
        let detector = RetinaFace::load(&dir.retinaface(), &device)?;
        let shape_predictor = ShapePredictor::load(&dir.shape_predictor_5())?;
        let embedder = DlibResnet::from_models_dir(dir, &device)?;
        Ok(Self {
            detector,
            shape_predictor,
            embedder,
            options,
        })
    }

    pub fn options(&self) -> &PipelineOptions {
        &self.options
    }

    /// Every face in `image`, best detector score first, each aligned and measured.
    /// The faces are aligned and measured in parallel (each is independent of the others).
    pub fn faces(&self, image: &RgbImage) -> Result<Vec<Face>, PipelineError> {
        on_pool(|| {
            self.detect(image)?
                .into_par_iter()
                .map(|d| self.prepare(image, d))
                .collect()
        })
    }

    /// Detection only: boxes, scores and landmarks in `image` pixels.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>, PipelineError> {
        self.detect_with(image, &self.options.detect)
    }

    /// [`Self::detect`] with other detector options (the bench compares settings with it).
    pub fn detect_with(
        &self,
        image: &RgbImage,
        options: &DetectOptions,
    ) -> Result<Vec<Detection>, PipelineError> {
        Ok(on_pool(|| self.detector.detect(image, options))?)
    }

    /// The one face a single-person photo (enrolment, calibration) is of, if any. A face that
    /// fills the whole picture (a tight crop) is looked for again with a margin added, because
    /// the detector needs some context around a face.
    pub fn primary_face(&self, image: &RgbImage) -> Result<Option<Face>, PipelineError> {
        let faces = self.faces(image)?;
        if let Some(i) = primary_face(&faces, image.width(), image.height()) {
            return Ok(faces.into_iter().nth(i));
        }
        let margin = image.width().max(image.height()) / 4;
        let padded = pad(image, margin);
        let faces = self.faces(&padded)?;
        let primary = primary_face(&faces, padded.width(), padded.height());
        let Some(mut face) = primary.and_then(|i| faces.into_iter().nth(i)) else {
            return Ok(None);
        };
        let m = margin as f32;
        let d = &mut face.detection;
        d.bbox = [d.bbox[0] - m, d.bbox[1] - m, d.bbox[2] - m, d.bbox[3] - m];
        d.landmarks = d.landmarks.map(|[x, y]| [x - m, y - m]);
        face.shape = face.shape.map(|s| s.map(|[x, y]| [x - m, y - m]));
        Ok(Some(face))
    }

    /// Aligns and measures one detection.
    pub fn prepare(&self, image: &RgbImage, detection: Detection) -> Result<Face, PipelineError> {
        let (chip_image, shape) = match self.options.aligner {
            Aligner::Template => {
                let chip = align_face(image, &detection.landmarks, &self.options.align)?;
                (chip, None)
            }
            Aligner::DlibShapePredictor => {
                let (chip, shape) = self.dlib_chip(image, &detection)?;
                (chip, Some(shape))
            }
        };
        let mut quality = FaceQuality::assess(&QualityInput {
            landmarks: &detection.landmarks,
            shape: shape.as_ref(),
            box_size: [detection.width(), detection.height()],
            detector_score: detection.score,
            chip: &chip_image,
        });
        if self.options.recheck_on_chip {
            quality.chip_face_score = Some(self.chip_face_score(&chip_image)?);
        }
        let chip = Chip::from_rgb(chip_image.into_raw())?;
        Ok(Face {
            detection,
            shape,
            quality,
            chip,
        })
    }

    /// The detector's best score for a face centred in `chip` (halved, padded with grey), 0
    /// if none: a human face, aligned, is found again with near certainty; an animal or an
    /// object that looked like a face at the frame's scale usually is not.
    fn chip_face_score(&self, chip: &RgbImage) -> Result<f32, PipelineError> {
        let small = resize_triangle(chip, RECHECK_SIDE, RECHECK_SIDE);
        let padded = pad(&small, RECHECK_MARGIN);
        let centre = padded.width() as f32 / 2.0;
        let best = self
            .detect(&padded)?
            .into_iter()
            .filter(|d| {
                let (x, y) = ((d.bbox[0] + d.bbox[2]) / 2.0, (d.bbox[1] + d.bbox[3]) / 2.0);
                (x - centre).hypot(y - centre) <= RECHECK_MAX_OFFSET
            })
            .map(|d| d.score)
            .fold(0.0, f32::max);
        Ok(best)
    }

    /// dlib's five points in the HOG-style box of `detection`, rounded as dlib rounds them,
    /// and dlib's chip cut from them.
    fn dlib_chip(
        &self,
        image: &RgbImage,
        detection: &Detection,
    ) -> Result<(RgbImage, Landmarks), PipelineError> {
        let rect = box_from_detection(detection, &SpBoxFit::FITTED);
        let rounded = self.shape_predictor.predict(image, &rect).rounded();
        let points: [[f64; 2]; 5] = rounded
            .try_into()
            .map_err(|_| AlignError::InvalidOptions("the shape predictor must give 5 points"))?;
        let details = face_chip_details(&points, CHIP_SIZE as u32, FACE_RECOGNITION_PADDING)?;
        let chip = extract_chip(image, &details);
        Ok((chip, points.map(|p| p.map(|v| v as f32))))
    }

    /// Descriptors of `faces`, in order, in one batch.
    pub fn embed(&self, faces: &[Face]) -> Result<Vec<Embedding>, PipelineError> {
        let chips: Vec<Chip> = faces.iter().map(|f| f.chip.clone()).collect();
        self.embed_chips(&chips, self.options.mirror)
    }

    /// Unit-length descriptors of aligned chips, in one batch; `mirror` first averages each
    /// with the descriptor of the flipped chip.
    pub fn embed_chips(
        &self,
        chips: &[Chip],
        mirror: bool,
    ) -> Result<Vec<Embedding>, PipelineError> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        let descriptors = on_pool(|| {
            if mirror {
                self.embedder.embed_batch_mirrored(chips)
            } else {
                self.embedder.embed_batch(chips)
            }
        })?;
        Ok(descriptors.iter().map(unit_length).collect())
    }
}

/// Runs `f` on a thread of rayon's pool (directly when already on one). The stages' parallel
/// steps then share their work between this thread and one other; called from outside the
/// pool, each step would instead wake two pool threads while the caller slept, and on two
/// cores that cost about a tenth of a photo's time (docs/PERFORMANCE.md).
fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

/// `image` with a `margin`-pixel border of mid grey on every side.
fn pad(image: &RgbImage, margin: u32) -> RgbImage {
    let mut out = RgbImage::from_pixel(
        image.width() + 2 * margin,
        image.height() + 2 * margin,
        image::Rgb([128; 3]),
    );
    image::imageops::replace(&mut out, image, i64::from(margin), i64::from(margin));
    out
}

/// How much more prominent (see [`prominence`]) a photo's main face must be than every other
/// face for an enrolment photo with several faces to be taken as a photo of that person.
/// Chosen on the developer face set (docs/ACCURACY.md, `examples/enrolment_rule.rs`).
pub const DOMINANCE: f32 = 1.5;

/// How much a face in a `width`×`height` photo looks like the photo's subject: the shorter
/// side of its box, discounted by its distance from the centre (portraits are centred on their
/// subject; bystanders stand at the edges and further back).
pub fn prominence(bbox: &[f32; 4], width: u32, height: u32) -> f32 {
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let diagonal = (width as f32).hypot(height as f32).max(1.0);
    let off = ((bbox[0] + bbox[2]) / 2.0 - cx).hypot((bbox[1] + bbox[3]) / 2.0 - cy) / diagonal;
    let side = (bbox[2] - bbox[0]).min(bbox[3] - bbox[1]).max(0.0);
    side * (1.0 - off).max(0.0)
}

/// The face a single-person photo is of: the most prominent one.
pub fn primary_face(faces: &[Face], width: u32, height: u32) -> Option<usize> {
    let boxes: Vec<[f32; 4]> = faces.iter().map(|f| f.detection.bbox).collect();
    primary_face_of_boxes(&boxes, width, height)
}

/// [`primary_face`] on bare boxes.
pub fn primary_face_of_boxes(boxes: &[[f32; 4]], width: u32, height: u32) -> Option<usize> {
    let weight = |i: &usize| prominence(&boxes[*i], width, height);
    (0..boxes.len()).max_by(|a, b| weight(a).total_cmp(&weight(b)))
}

/// The face an enrolment photo is of, when one dominates: at least `ratio` times as prominent
/// as any other. Otherwise the faces that compete (every face within `ratio` of the most
/// prominent, most prominent first; empty when there is no face).
pub fn dominant_face(
    boxes: &[[f32; 4]],
    width: u32,
    height: u32,
    ratio: f32,
) -> Result<usize, Vec<usize>> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    let weight = |i: usize| prominence(&boxes[i], width, height);
    order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)));
    match order.as_slice() {
        [] => Err(Vec::new()),
        [only] => Ok(*only),
        [first, second, ..] if weight(*first) >= ratio * weight(*second) => Ok(*first),
        [first, ..] => {
            let best = weight(*first);
            Err(order
                .into_iter()
                .filter(|&i| weight(i) * ratio > best)
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_ids_are_valid_and_differ() {
        assert_eq!(model_id().as_str(), MODEL_NAME);
        assert_eq!(previous_model_id().as_str(), PREVIOUS_MODEL_NAME);
        assert_ne!(model_id(), previous_model_id());
    }

    #[test]
    fn unit_length_scales_to_one_and_keeps_direction() {
        let mut d = Embedding::ZERO;
        d[0] = 3.0;
        d[5] = -4.0;
        let u = unit_length(&d);
        assert!((u.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!((u[0], u[5]), (0.6, -0.8));
        assert_eq!(unit_length(&u), u, "already unit length: unchanged");
    }

    #[test]
    fn door_options_search_frames_at_640_and_never_scale_one_up() {
        let door = PipelineOptions::door();
        assert_eq!(door.detect.network_size(1280, 720), (640, 360));
        assert_eq!(door.detect.network_size(2304, 1296), (640, 360));
        assert_eq!(door.detect.network_size(640, 480), (640, 480));
        assert_eq!(door.detect.network_size(320, 240), (320, 240));
        let tools = PipelineOptions::default();
        assert_eq!(tools.detect.network_size(640, 480), (853, 640));
        assert_eq!(
            PipelineOptions {
                detect: tools.detect,
                ..door
            },
            tools
        );
    }

    #[test]
    fn unit_length_leaves_zero_and_non_finite_descriptors_alone() {
        let zero = Embedding::ZERO;
        assert_eq!(unit_length(&zero), zero);
        let mut nan = Embedding([1.0f32; 128]);
        nan[7] = f32::NAN;
        assert!(unit_length(&nan)[7].is_nan());
        assert_eq!(unit_length(&nan)[0], 1.0);
    }

    #[test]
    fn a_clearly_larger_central_face_dominates_two_alike_compete() {
        let (w, h) = (250, 250);
        let subject = [75.0, 70.0, 175.0, 180.0];
        let bystander = [0.0, 10.0, 40.0, 55.0];
        assert_eq!(dominant_face(&[bystander, subject], w, h, DOMINANCE), Ok(1));
        assert_eq!(primary_face_of_boxes(&[bystander, subject], w, h), Some(1));
        let twin = [130.0, 70.0, 230.0, 180.0];
        let left = [20.0, 70.0, 120.0, 180.0];
        assert_eq!(
            dominant_face(&[left, bystander, twin], w, h, DOMINANCE),
            Err(vec![0, 2])
        );
        assert_eq!(dominant_face(&[], w, h, DOMINANCE), Err(vec![]));
        assert_eq!(dominant_face(&[bystander], w, h, DOMINANCE), Ok(0));
        assert_eq!(
            dominant_face(&[bystander, subject], w, h, f32::INFINITY),
            Err(vec![1, 0]),
            "an infinite ratio refuses every photo with several faces"
        );
    }
}
