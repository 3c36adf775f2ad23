//! [`DetectorError`]: what can go wrong loading or running the detector.

use std::path::PathBuf;

/// What can go wrong loading or running the detector.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// The weight file is missing or does not hold the expected tensors.
    #[error(
        "cannot load RetinaFace weights from {}: {source} (run `rollcall-edge models fetch`)",
        path.display()
    )]
    Weights {
        path: PathBuf,
        source: candle_core::Error,
    },
    /// The image has no pixels.
    #[error("image is empty ({width}×{height})")]
    EmptyImage { width: u32, height: u32 },
    /// A `DetectOptions` field is out of range.
    #[error("invalid detect options: {0}")]
    InvalidOptions(&'static str),
    /// A tensor operation failed (shape bug or allocation failure).
    #[error("detector tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}
