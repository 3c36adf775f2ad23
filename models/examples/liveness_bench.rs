//! Times one liveness judgement (both MiniFASNets, crops included) on minivision's real
//! sample frame, and counts its multiply-adds.
//!
//! `cargo run -p rollcall-models --release --example liveness_bench [-- ITERATIONS]`
//! The frame comes from `$ROLLCALL_MINIFASNET_SAMPLES` (default
//! `../shared/models/minifasnet/samples` beside the workspace); the weights are built in.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use candle_core::Device;
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::liveness::{KEEP_V1SE, KEEP_V2, Keep, Liveness};

/// The face box of `image_T1.jpg` in the parity fixture.
const BOX: [f32; 4] = [90.0, 110.0, 290.0, 340.0];

/// Multiply-adds of one 80×80 pass: convolutions, squeeze-excitations and the head.
fn multiply_adds(keep: &Keep, se: bool) -> u64 {
    let k = |i: usize| keep[i] as u64;
    // conv1 (3×3/2, 3 → k0) and conv2_dw at 40×40.
    let mut total = 1600 * k(0) * 27 + 1600 * k(1) * 9;
    let block = |at: usize, side: u64, stride: u64| {
        let out = side / stride;
        side * side * k(at) * k(at + 1) + out * out * k(at + 1) * (9 + k(at + 3))
    };
    let stages = [(1, 40, 4, 4, 20), (16, 20, 6, 19, 10), (37, 10, 2, 40, 5)];
    for (down, side, count, first, out) in stages {
        total += block(down, side, 2);
        for j in 0..count {
            total += block(first + 3 * j, out, 1);
            if se && j + 1 == count {
                let c = k(first + 3 * j + 3);
                total += 2 * c * (c / 4);
            }
        }
    }
    total + 25 * k(46) * k(47) + 25 * k(48) + k(48) * 128 + 128 * 3
}

fn samples_dir() -> PathBuf {
    std::env::var_os("ROLLCALL_MINIFASNET_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/models/minifasnet/samples")
        })
}

fn main() -> Result<()> {
    let iterations: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200);
    let path = samples_dir().join("image_T1.jpg");
    let image = load_image(&path, ImageLimits::default())
        .with_context(|| format!("reading {}", path.display()))?;
    let start = Instant::now();
    let liveness = Liveness::load(&Device::Cpu)?;
    println!(
        "load (both models, SHA-256 checked): {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    for _ in 0..5 {
        liveness.judge(&image, BOX)?;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        liveness.judge(&image, BOX)?;
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let verdict = liveness.judge(&image, BOX)?;
    println!(
        "liveness per face: min {:.2} ms, median {:.2} ms, p90 {:.2} ms over {iterations} runs ({} threads); {verdict:?}",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
        rayon::current_num_threads()
    );
    let (v2, v1se) = (
        multiply_adds(&KEEP_V2, false),
        multiply_adds(&KEEP_V1SE, true),
    );
    println!(
        "multiply-adds: V2 {:.1} M, V1SE {:.1} M, per face {:.1} M",
        v2 as f64 / 1e6,
        v1se as f64 / 1e6,
        (v2 + v1se) as f64 / 1e6
    );
    Ok(())
}
