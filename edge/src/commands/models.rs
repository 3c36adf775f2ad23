//! `rollcall-edge models fetch|check`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use rollcall_models::weights::{self, ModelsDir};

use crate::cli::ModelsCommand;

pub fn run(cmd: ModelsCommand, models_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let dir = ModelsDir::resolve(models_dir).context("finding the models directory")?;
    match cmd {
        ModelsCommand::Fetch => {
            let report = weights::fetch(&dir).context("fetching the face models")?;
            print!("{report}");
            if report.was_complete() {
                println!("models in {} were already complete", dir.path().display());
            }
        }
        ModelsCommand::Check => {
            dir.check()?;
            println!("models in {} are complete and intact", dir.path().display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
