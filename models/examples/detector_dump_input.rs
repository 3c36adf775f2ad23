//! Writes the exact RetinaFace input tensor for a photo as `.npy`, for the parity script
//! `models/parity/detector/make_fixture.py`: the photo is decoded and resized by this crate,
//! so the reference runtime sees bit-identical input.
//!
//! `cargo run -p rollcall-models --release --example detector_dump_input -- PHOTO MAX_SIDE OUT.npy`

use std::io::Write;

use anyhow::{Context, Result, bail};
use candle_core::Device;
use rollcall_models::retinaface::{self, DetectOptions, SMALLEST_ANCHOR_PX};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [photo, max_side, out] = args.as_slice() else {
        bail!("usage: detector_dump_input PHOTO MAX_SIDE OUT.npy");
    };
    let image = image::open(photo)
        .with_context(|| format!("decoding {photo}"))?
        .to_rgb8();
    let opts = DetectOptions {
        max_side: max_side.parse().context("MAX_SIDE")?,
        min_face_px: SMALLEST_ANCHOR_PX,
        ..DetectOptions::default()
    };
    let (w, h) = opts.network_size(image.width(), image.height());
    let resized = retinaface::resize_for_network(&image, w, h);
    let tensor = retinaface::image_to_tensor(&resized, &Device::Cpu)?;
    let data: Vec<f32> = tensor.flatten_all()?.to_vec1()?;
    write_npy(out, &[1, 3, h as usize, w as usize], &data)?;
    println!(
        "{photo}: {}×{} → {w}×{h}, wrote {out}",
        image.width(),
        image.height()
    );
    Ok(())
}

/// Minimal `.npy` (version 1.0, little-endian f32, C order).
fn write_npy(path: &str, shape: &[usize], data: &[f32]) -> Result<()> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(b"\x93NUMPY\x01\x00")?;
    file.write_all(&(header.len() as u16).to_le_bytes())?;
    file.write_all(header.as_bytes())?;
    for v in data {
        file.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}
