//! The face pipeline behind a small trait, so the daemon's logic is testable without the
//! networks. The real implementation is `rollcall_models::pipeline::FacePipeline`: CPU-heavy
//! and synchronous, so it is only ever called from the pipeline thread.

use image::RgbImage;
use rollcall_models::matching::Embedding;
use rollcall_models::pipeline::{Face, FacePipeline, PipelineError, model_id};
use rollcall_shared::ModelId;

/// Why recognition failed on a frame (not "no face": that is an empty result).
#[derive(Debug, thiserror::Error)]
#[error("face pipeline: {0}")]
pub struct RecognizeError(String);

impl RecognizeError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<PipelineError> for RecognizeError {
    fn from(e: PipelineError) -> Self {
        Self(e.to_string())
    }
}

/// Detect, align and measure faces; embed them in one batch.
pub trait Recognizer: Send + 'static {
    /// Names the pipeline; embeddings of other models are never compared.
    fn model_id(&self) -> ModelId;
    /// Every face in `frame`, aligned and measured.
    fn faces(&self, frame: &RgbImage) -> Result<Vec<Face>, RecognizeError>;
    /// One descriptor per face, in order.
    fn embed(&self, faces: &[Face]) -> Result<Vec<Embedding>, RecognizeError>;
}

impl Recognizer for FacePipeline {
    fn model_id(&self) -> ModelId {
        model_id()
    }

    fn faces(&self, frame: &RgbImage) -> Result<Vec<Face>, RecognizeError> {
        Ok(FacePipeline::faces(self, frame)?)
    }

    fn embed(&self, faces: &[Face]) -> Result<Vec<Embedding>, RecognizeError> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        Ok(FacePipeline::embed(self, faces)?)
    }
}

/// A recognizer shared between daemons (tests load the networks once).
impl<R: Recognizer + Sync> Recognizer for std::sync::Arc<R> {
    fn model_id(&self) -> ModelId {
        R::model_id(self)
    }

    fn faces(&self, frame: &RgbImage) -> Result<Vec<Face>, RecognizeError> {
        R::faces(self, frame)
    }

    fn embed(&self, faces: &[Face]) -> Result<Vec<Embedding>, RecognizeError> {
        R::embed(self, faces)
    }
}
