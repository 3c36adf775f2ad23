//! Times RetinaFace on 320×240 and 640×480 inputs (network + decode + NMS, no resize).
//!
//! `cargo run -p rollcall-models --release --example detector_bench [-- ITERATIONS]`
//! Weights come from `$ROLLCALL_MODELS_DIR` (default `~/.local/share/rollcall/models`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use candle_core::Device;
use image::RgbImage;
use rollcall_models::retinaface::{RetinaFace, WEIGHTS_FILE};

fn models_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ROLLCALL_MODELS_DIR") {
        return Ok(dir.into());
    }
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".local/share/rollcall/models"))
}

fn time(model: &RetinaFace, image: &RgbImage, iterations: usize) -> Result<Vec<Duration>> {
    for _ in 0..3 {
        model.detect_unscaled(image, 0.6, 0.4)?;
    }
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        model.detect_unscaled(image, 0.6, 0.4)?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times)
}

fn main() -> Result<()> {
    let iterations: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(30);
    let path = models_dir()?.join(WEIGHTS_FILE);
    let model = RetinaFace::load(&path, &Device::Cpu)?;
    for (w, h) in [(320, 240), (640, 480)] {
        let image = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 7 + y) as u8, (y * 3) as u8, (x ^ y) as u8])
        });
        let times = time(&model, &image, iterations)?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{w}×{h}: min {:.1} ms, median {:.1} ms over {iterations} runs ({} threads)",
            ms(times[0]),
            ms(times[times.len() / 2]),
            rayon::current_num_threads()
        );
    }
    Ok(())
}
