//! `[gallery]`: which face model's embeddings the gallery holds. (Whether the name is well
//! formed, and whether it matches photo enrolment's, is checked by `Config`.)

use rollcall_models::pipeline::model_id;
use rollcall_shared::ModelId;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GalleryConfig {
    pub model: ModelId,
}

impl Default for GalleryConfig {
    fn default() -> Self {
        Self { model: model_id() }
    }
}
