//! The [`Enroller`]: the loaded face pipeline and the rules an enrolment photo must meet, from
//! its bytes to an [`Accepted`] embedding with its thumbnail, or the [`Refusal`] that says why not.

use std::path::PathBuf;

use rollcall_models::image_io::{ImageLimits, decode_image};
use rollcall_models::pipeline::{
    DOMINANCE, Face, FacePipeline, PipelineOptions, dominant_face, model_id,
};
use rollcall_models::quality::{FaceQuality, QualityGate};
use rollcall_models::weights::ModelsDir;
use rollcall_shared::{Embedding, ModelId};

use super::refusal::Refusal;
use super::thumbnail::jpeg_thumbnail;

/// Why the face pipeline could not be loaded at start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "face models not found ({0}); run `rollcall-edge models fetch` (or set faces.models_dir / \
         ROLLCALL_MODELS_DIR), or set faces.enabled = false to run without photo enrolment"
    )]
    Missing(String),
}

/// The image limits for enrolment photos: the defaults with the pixel budget of
/// `faces.max_photo_megapixels`.
pub fn photo_limits(max_photo_megapixels: u32) -> ImageLimits {
    ImageLimits {
        max_pixels: u64::from(max_photo_megapixels) * 1_000_000,
        ..ImageLimits::default()
    }
}

/// A photo that passed: its embedding, quality figures and chip thumbnail.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub embedding: Embedding,
    pub quality: FaceQuality,
    pub thumbnail: Vec<u8>,
    /// The photo's [`photo_sha256`]: the same photo is not enrolled twice for a student.
    pub photo_sha256: String,
}

/// The SHA-256 of a photo's bytes, in hex.
pub fn photo_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The loaded pipeline and the rules enrolment photos must meet.
#[derive(Debug)]
pub struct Enroller {
    pipeline: FacePipeline,
    gate: QualityGate,
    limits: ImageLimits,
}

impl Enroller {
    /// Loads the networks from `models_dir` (else `ROLLCALL_MODELS_DIR` and the usual places).
    pub fn load(models_dir: Option<&PathBuf>, gate: QualityGate) -> Result<Self, LoadError> {
        Self::load_with(models_dir, gate, ImageLimits::default())
    }

    /// [`Enroller::load`] with the photo limits of `[faces]` (see [`photo_limits`]).
    pub fn load_with(
        models_dir: Option<&PathBuf>,
        gate: QualityGate,
        limits: ImageLimits,
    ) -> Result<Self, LoadError> {
        let missing = |e: &dyn std::fmt::Display| LoadError::Missing(e.to_string());
        let dir = ModelsDir::resolve(models_dir.map(PathBuf::as_path)).map_err(|e| missing(&e))?;
        let pipeline = FacePipeline::load(&dir, PipelineOptions::default())
            .map_err(|e| LoadError::Missing(format!("{}: {e}", dir.path().display())))?;
        Ok(Self {
            pipeline,
            gate,
            limits,
        })
    }

    /// The model id every embedding made here carries.
    pub fn model(&self) -> ModelId {
        model_id()
    }

    pub fn gate(&self) -> &QualityGate {
        &self.gate
    }

    /// The loaded networks (a class photo reads every face with them).
    pub fn pipeline(&self) -> &FacePipeline {
        &self.pipeline
    }

    /// What a photo may be: its bytes, pixels and the decoder's allocations.
    pub fn limits(&self) -> ImageLimits {
        self.limits
    }

    /// Runs one photo through the rules. CPU-heavy: call it off the async executor. Of several
    /// faces, the one that dominates (larger and more central than any other by
    /// [`DOMINANCE`]) is the student's; bystanders at the edges do not refuse a photo.
    pub fn assess(&self, bytes: &[u8]) -> Result<Accepted, Refusal> {
        let image = decode_image(bytes, self.limits)?;
        let mut faces = self
            .pipeline
            .faces(&image)
            .map_err(|e| Refusal::Pipeline(e.to_string()))?;
        let boxes: Vec<[f32; 4]> = faces.iter().map(|f| f.detection.bbox).collect();
        let face = match dominant_face(&boxes, image.width(), image.height(), DOMINANCE) {
            Ok(subject) => faces.swap_remove(subject),
            Err(competing) if competing.is_empty() => return Err(Refusal::NoFace),
            Err(competing) => {
                let boxes = competing.into_iter().map(|i| boxes[i]).collect();
                return Err(Refusal::SeveralFaces { boxes });
            }
        };
        self.gate.check(&face.quality)?;
        self.accept(face, bytes)
    }

    fn accept(&self, face: Face, photo: &[u8]) -> Result<Accepted, Refusal> {
        let descriptor = self
            .pipeline
            .embed(std::slice::from_ref(&face))
            .map_err(|e| Refusal::Pipeline(e.to_string()))?;
        let embedding = *descriptor
            .first()
            .ok_or_else(|| Refusal::Pipeline("the embedder returned nothing".into()))?;
        let thumbnail =
            jpeg_thumbnail(face.chip.as_rgb()).map_err(|e| Refusal::Pipeline(e.to_string()))?;
        Ok(Accepted {
            embedding,
            quality: face.quality,
            thumbnail,
            photo_sha256: photo_sha256(photo),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_models_say_how_to_fetch_them() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().to_path_buf();
        let error = Enroller::load(Some(&empty), QualityGate::default()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("rollcall-edge models fetch"), "{message}");
        assert!(message.contains("faces.enabled = false"), "{message}");
    }
}
