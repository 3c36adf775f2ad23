//! Loading the face pipeline for the command-line tools, and running it over many photos.

use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;
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

/// Runs `analyse` on every item, a window of them at a time spread over the cores, and hands
/// each result to `each` in the items' order as its window finishes. One photo keeps the two
/// cores only partly busy (its stages wait for each other); two photos side by side keep both
/// busy. The window is small so output streams and few decoded images are held at once.
pub fn for_each_in_order<'a, T: Sync, R: Send>(
    items: &'a [T],
    analyse: impl Fn(&'a T) -> R + Sync,
    mut each: impl FnMut(&'a T, R) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let window = 2 * rayon::current_num_threads();
    for chunk in items.chunks(window.max(1)) {
        let results: Vec<R> = chunk.par_iter().map(&analyse).collect();
        for (item, result) in chunk.iter().zip(results) {
            each(item, result)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_and_an_error_stops() {
        let items: Vec<u32> = (0..23).collect();
        let mut seen = Vec::new();
        for_each_in_order(
            &items,
            |i| i * 10,
            |i, r| {
                seen.push((*i, r));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, items.iter().map(|i| (*i, i * 10)).collect::<Vec<_>>());

        let mut count = 0;
        let stopped = for_each_in_order(
            &items,
            |i| *i,
            |_, r| {
                count += 1;
                anyhow::ensure!(r < 5, "stop at {r}");
                Ok(())
            },
        );
        assert!(stopped.is_err());
        assert_eq!(count, 6);
    }
}
