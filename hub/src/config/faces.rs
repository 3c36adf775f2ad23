//! `[faces]`: photo enrolment: whether the hub loads the face pipeline, where the weights
//! are, what an enrolment photo must meet and how large it may be. Only the settings and
//! their checks; enrolment is `rollcall_school::enrol`.

use std::path::PathBuf;

use rollcall_models::quality::QualityGate;
use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::within;

/// Photo enrolment: the face pipeline the hub runs on uploaded photos.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FacesConfig {
    /// Load the face models at start (required for `POST /students/{id}/faces`).
    pub enabled: bool,
    /// Where the weights live; unset means `ROLLCALL_MODELS_DIR`, then the user's data dir.
    pub models_dir: Option<PathBuf>,
    /// What an enrolment photo's face must meet.
    pub gate: QualityGate,
    /// Largest photo accepted, in megapixels (width × height / 1,000,000), read from the
    /// image's header before it is decoded.
    pub max_photo_megapixels: u32,
}

impl Default for FacesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            models_dir: None,
            gate: QualityGate::enrolment(),
            max_photo_megapixels: 40,
        }
    }
}

/// The largest photo budget: 12,000 × 12,000, the most a side may have.
const MAX_PHOTO_MEGAPIXELS: u64 = 144;

impl FacesConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let megapixels = self.max_photo_megapixels.into();
        within(
            "faces.max_photo_megapixels",
            megapixels,
            1,
            MAX_PHOTO_MEGAPIXELS,
        )
    }
}
