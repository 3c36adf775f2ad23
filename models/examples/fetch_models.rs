//! Fetch the pinned weight files into the models directory (what `rollcall-edge models fetch`
//! does), then check them. Usage: `cargo run -p rollcall-models --example fetch_models [DIR]`.

use std::{path::PathBuf, process::ExitCode};

use rollcall_models::weights::{ModelsDir, fetch};

fn main() -> ExitCode {
    let explicit = std::env::args_os().nth(1).map(PathBuf::from);
    let result = ModelsDir::resolve(explicit.as_deref()).and_then(|dir| {
        println!("models directory: {}", dir.path().display());
        let report = fetch(&dir)?;
        print!("{report}");
        dir.check()
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
