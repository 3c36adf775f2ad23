//! [`LivenessError`]: what can go wrong loading or running the liveness networks.

/// What can go wrong loading or running the liveness networks.
#[derive(Debug, thiserror::Error)]
pub enum LivenessError {
    /// The embedded weight file is not the one this code was written for (a bad checkout,
    /// e.g. a Git LFS pointer in place of the file).
    #[error("MiniFASNet {model} weights have SHA-256 {found}, expected {expected}")]
    WeightsChecksum {
        model: &'static str,
        expected: &'static str,
        found: String,
    },
    /// The weight file does not hold the tensors the network needs.
    #[error("cannot load MiniFASNet {model} weights: {source}")]
    Weights {
        model: &'static str,
        source: candle_core::Error,
    },
    /// The face box is empty, inverted or not finite.
    #[error("face box {bbox:?} is not a box (x1 < x2, y1 < y2, finite)")]
    BadBox { bbox: [f32; 4] },
    /// The image has no pixels.
    #[error("image is empty ({width}×{height})")]
    EmptyImage { width: u32, height: u32 },
    /// A tensor operation failed (shape bug or allocation failure).
    #[error("liveness tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}
