//! The whole face pipeline behind one type: detect → align → measure quality → embed.
//!
//! Owns the order of the stages and what flows between them; each stage lives in its own
//! module. The edge daemon, the hub's enrolment and the command-line tools all go through
//! [`FacePipeline`], so every embedding in the system is made the same way, and its
//! [`MODEL_ID`] names that way.

use candle_core::Device;
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::align::{AlignError, AlignOptions, align_face};
use crate::detect::Detection;
use crate::dlib_resnet::{Chip, Descriptor, DlibResnet, EmbedError};
use crate::quality::{FaceQuality, QualityInput};
use crate::retinaface::{DetectOptions, DetectorError, RetinaFace};
use crate::weights::{ModelsDir, WeightsError};

/// Names the detector, alignment and embedder together. Bump the last part whenever a change
/// moves embeddings, so stored embeddings of the old pipeline are never compared with new ones.
pub const MODEL_ID: &str = "retinaface-mnet025.dlib-resnet-v1.align-1";

/// Tunables of the pipeline; the defaults are the calibrated ones (see docs/ACCURACY.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineOptions {
    pub detect: DetectOptions,
    pub align: AlignOptions,
    /// Average each descriptor with that of the mirrored chip (twice the embedding cost).
    pub mirror: bool,
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
    pub quality: FaceQuality,
    pub chip: Chip,
}

/// The loaded networks and options.
#[derive(Debug)]
pub struct FacePipeline {
    detector: RetinaFace,
    embedder: DlibResnet,
    options: PipelineOptions,
}

impl FacePipeline {
    /// Loads both networks from the models directory (checked against their SHA-256).
    pub fn load(dir: &ModelsDir, options: PipelineOptions) -> Result<Self, PipelineError> {
        let device = Device::Cpu;
        dir.check()?;
        let detector = RetinaFace::load(&dir.retinaface(), &device)?;
        let embedder = DlibResnet::from_models_dir(dir, &device)?;
        Ok(Self {
            detector,
            embedder,
            options,
        })
    }

    pub fn options(&self) -> &PipelineOptions {
        &self.options
    }

    /// Every face in `image`, best detector score first, each aligned and measured.
    pub fn faces(&self, image: &RgbImage) -> Result<Vec<Face>, PipelineError> {
        self.detect(image)?
            .into_iter()
            .map(|d| self.prepare(image, d))
            .collect()
    }

    /// Detection only: boxes, scores and landmarks in `image` pixels.
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>, PipelineError> {
        Ok(self.detector.detect(image, &self.options.detect)?)
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
        Ok(Some(face))
    }

    /// Aligns and measures one detection.
    pub fn prepare(&self, image: &RgbImage, detection: Detection) -> Result<Face, PipelineError> {
        let chip_image = align_face(image, &detection.landmarks, &self.options.align)?;
        let quality = FaceQuality::assess(&QualityInput {
            landmarks: &detection.landmarks,
            box_size: [detection.width(), detection.height()],
            detector_score: detection.score,
            chip: &chip_image,
        });
        let chip = Chip::from_rgb(chip_image.into_raw())?;
        Ok(Face {
            detection,
            quality,
            chip,
        })
    }

    /// Descriptors of `faces`, in order, in one batch.
    pub fn embed(&self, faces: &[Face]) -> Result<Vec<Descriptor>, PipelineError> {
        let chips: Vec<Chip> = faces.iter().map(|f| f.chip.clone()).collect();
        self.embed_chips(&chips, self.options.mirror)
    }

    /// Descriptors of aligned chips, in one batch; `mirror` averages with the flipped chips.
    pub fn embed_chips(
        &self,
        chips: &[Chip],
        mirror: bool,
    ) -> Result<Vec<Descriptor>, PipelineError> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        let descriptors = if mirror {
            self.embedder.embed_batch_mirrored(chips)?
        } else {
            self.embedder.embed_batch(chips)?
        };
        Ok(descriptors)
    }
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

/// The face a single-person photo is of: the largest, discounted by its distance from the
/// image centre (identity photos are centred on their subject; bystanders are at the edges).
pub fn primary_face(faces: &[Face], width: u32, height: u32) -> Option<usize> {
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let diagonal = (width as f32).hypot(height as f32).max(1.0);
    let weight = |f: &Face| {
        let b = f.detection.bbox;
        let off = ((b[0] + b[2]) / 2.0 - cx).hypot((b[1] + b[3]) / 2.0 - cy) / diagonal;
        f.detection.width().min(f.detection.height()) * (1.0 - off).max(0.0)
    };
    (0..faces.len()).max_by(|&a, &b| weight(&faces[a]).total_cmp(&weight(&faces[b])))
}
