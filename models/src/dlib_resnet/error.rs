//! [`EmbedError`]: why the embedder could not be loaded or run, or refused a chip. The chip
//! size its message names is `chip.rs`'s, held to it by a test there.

use thiserror::Error;

use crate::weights::WeightsError;

/// Why the embedder could not be loaded or run.
#[derive(Debug, Error)]
pub enum EmbedError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error("reading {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("tensor error (weights file damaged or wrong version?): {0}")]
    Candle(#[from] candle_core::Error),
    #[error("a chip must be 150×150 RGB, 67500 bytes; got {len} bytes")]
    BadChip { len: usize },
}
