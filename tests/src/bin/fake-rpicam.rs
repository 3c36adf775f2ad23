//! `fake-rpicam`: a stand-in for `rpicam-vid --codec mjpeg --output -` in tests. It writes
//! real JPEG frames, made from the photos in `$FAKE_RPICAM_DIR` at the size asked for, to its
//! standard output at the frame rate asked for, forever, and can be told to misbehave:
//!
//! - `FAKE_RPICAM_DIE_AFTER=N`: exit with an error after N frames, as when a cable comes loose;
//! - `FAKE_RPICAM_STALL_AFTER=N`: stop sending after N frames but stay alive, as when the
//!   camera stack hangs.
//!
//! It refuses a command line that would not give MJPEG on standard output.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use image::imageops::FilterType;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    if value("--codec") != Some("mjpeg") || value("--output") != Some("-") {
        bail!("fake-rpicam only writes MJPEG to standard output: {args:?}");
    }
    let width: u32 = value("--width").context("--width")?.parse()?;
    let height: u32 = value("--height").context("--height")?.parse()?;
    let fps: f32 = value("--framerate").context("--framerate")?.parse()?;
    let frames = encode_photos(width, height)?;
    let die_after = env_number("FAKE_RPICAM_DIE_AFTER")?;
    let stall_after = env_number("FAKE_RPICAM_STALL_AFTER")?;
    eprintln!(
        "fake-rpicam: {width}x{height} at {fps} fps, {} photos",
        frames.len()
    );
    let mut out = std::io::stdout().lock();
    for (sent, frame) in frames.iter().cycle().enumerate() {
        if Some(sent) == die_after {
            eprintln!("ERROR: *** fake-rpicam: camera disconnected ***");
            std::process::exit(1);
        }
        if Some(sent) == stall_after {
            eprintln!("fake-rpicam: stalling");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        out.write_all(frame)?;
        out.flush()?;
        std::thread::sleep(Duration::from_secs_f32(1.0 / fps));
    }
    Ok(())
}

/// Every photo in `$FAKE_RPICAM_DIR`, filled to the frame size and encoded as JPEG.
fn encode_photos(width: u32, height: u32) -> anyhow::Result<Vec<Vec<u8>>> {
    let dir = PathBuf::from(std::env::var_os("FAKE_RPICAM_DIR").context("FAKE_RPICAM_DIR")?);
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    photos.sort();
    let mut frames = Vec::new();
    for photo in photos {
        let image = image::open(&photo).with_context(|| photo.display().to_string())?;
        let frame = image
            .resize_to_fill(width, height, FilterType::Triangle)
            .to_rgb8();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&frame)?;
        frames.push(jpeg);
    }
    if frames.is_empty() {
        bail!("no photos in {}", dir.display());
    }
    Ok(frames)
}

fn env_number(name: &str) -> anyhow::Result<Option<usize>> {
    match std::env::var(name) {
        Ok(n) => Ok(Some(n.parse().with_context(|| format!("{name}={n}"))?)),
        Err(_) => Ok(None),
    }
}
