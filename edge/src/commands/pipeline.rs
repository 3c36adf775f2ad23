//! Loading the face pipeline for the command-line tools.

use std::path::Path;

use anyhow::Context;
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::weights::ModelsDir;

use crate::cli::PipelineArgs;

/// Reads the options (file, then flags) and loads both networks once.
pub fn load(models_dir: Option<&Path>, args: &PipelineArgs) -> anyhow::Result<FacePipeline> {
    let mut options = match &args.pipeline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            toml::from_str::<PipelineOptions>(&text)
                .with_context(|| format!("in {}", path.display()))?
        }
        None => PipelineOptions::default(),
    };
    options.mirror |= args.mirror;
    let dir = ModelsDir::resolve(models_dir)?;
    FacePipeline::load(&dir, options).context("loading the face models")
}
