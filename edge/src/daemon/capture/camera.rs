//! Frame sources: the camera boundary. [`ReplaySource`] plays real image files from a
//! directory (tests, demos, debugging); a Raspberry Pi camera is `camera_rpicam` and a USB one
//! `camera_v4l` (behind the `camera` feature). Frames stay in memory: nothing here writes an
//! image to disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::RgbImage;
use rollcall_models::image_io::{ImageLimits, load_image};

/// Why no frame could be had.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("replay directory {dir}: {message}")]
    Replay { dir: PathBuf, message: String },
    #[error("camera: {0}")]
    Device(String),
    #[error("this build has no {0} support (rebuild with --features {0})")]
    NotBuilt(&'static str),
}

/// Something that hands out frames. Blocking: called on the pipeline thread.
pub trait FrameSource: Send + 'static {
    fn grab(&mut self) -> Result<RgbImage, CameraError>;
}

/// Image files of a directory in name order, looping, at most `fps` frames a second.
#[derive(Debug)]
pub struct ReplaySource {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    period: Duration,
    last: Option<Instant>,
}

const EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "bmp", "webp"];

impl ReplaySource {
    pub fn open(dir: &Path, fps: f32) -> Result<Self, CameraError> {
        let err = |message: String| CameraError::Replay {
            dir: dir.to_owned(),
            message,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| err(e.to_string()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(err("holds no images".into()));
        }
        Ok(Self {
            dir: dir.to_owned(),
            files,
            next: 0,
            period: Duration::from_secs_f32(1.0 / fps.max(0.001)),
            last: None,
        })
    }

    fn pace(&mut self) {
        if let Some(last) = self.last {
            let wait = self.period.saturating_sub(last.elapsed());
            std::thread::sleep(wait);
        }
        self.last = Some(Instant::now());
    }
}

impl FrameSource for ReplaySource {
    fn grab(&mut self) -> Result<RgbImage, CameraError> {
        self.pace();
        let path = &self.files[self.next];
        self.next = (self.next + 1) % self.files.len();
        load_image(path, ImageLimits::default()).map_err(|e| CameraError::Replay {
            dir: self.dir.clone(),
            message: format!("{}: {e}", path.display()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_images_in_name_order_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        for (name, shade) in [("b.png", 20u8), ("a.png", 10), ("c.txt", 0)] {
            let img = RgbImage::from_pixel(4, 4, image::Rgb([shade; 3]));
            if name.ends_with("png") {
                img.save(dir.path().join(name)).unwrap();
            } else {
                std::fs::write(dir.path().join(name), "not an image").unwrap();
            }
        }
        let mut source = ReplaySource::open(dir.path(), 1000.0).unwrap();
        let shades: Vec<u8> = (0..3)
            .map(|_| source.grab().unwrap().get_pixel(0, 0).0[0])
            .collect();
        assert_eq!(shades, [10, 20, 10]);
        assert!(ReplaySource::open(&dir.path().join("missing"), 1.0).is_err());
    }
}
