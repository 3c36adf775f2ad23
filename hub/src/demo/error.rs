//! [`DemoError`]: why the demo could not start, from fetching the models to running the hub
//! and its door unit.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rollcall_models::weights::WeightsError;

use crate::server::RunError;
use crate::setup::SetupError;
use rollcall_school::enrol::{LoadError, Refusal};
use rollcall_store::StoreError;

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("fetching models or sample photos: {0}")]
    Weights(#[from] WeightsError),
    #[error(
        "{0} is not empty and was not made by `rollcall-hub demo`: choose another --dir, or an empty or new one"
    )]
    NotADemoDir(PathBuf),
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Faces(#[from] LoadError),
    #[error("sample photo {photo} was refused for enrolment: {refusal}")]
    Refused { photo: String, refusal: Refusal },
    #[error("cannot listen on {addr}: {source} (is another hub or demo running? try --port)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "no rollcall-edge beside this program ({0}): build both: cargo build --release -p rollcall-hub -p rollcall-edge"
    )]
    EdgeMissing(PathBuf),
    #[error("starting {program}: {source}")]
    EdgeStart {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] RunError),
}

impl DemoError {
    pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
