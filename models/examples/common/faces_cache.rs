//! Every face of every photo under a directory of people (`DIR/<person>/*.jpg`), detected,
//! aligned, measured and embedded once by the real pipeline, optionally cached in JSON lines.
//! Shared by the development examples that replay enrolment and door decisions.

#![allow(dead_code)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::quality::FaceQuality;
use rollcall_models::weights::ModelsDir;
use serde::{Deserialize, Serialize};

pub type Error = Box<dyn std::error::Error>;

#[derive(Serialize, Deserialize, Clone)]
pub struct SeenFace {
    pub bbox: [f32; 4],
    pub quality: FaceQuality,
    pub embedding: Vec<f32>,
    /// Whether the liveness networks call the face real, where they were run (the doorway's
    /// frames; not the clean photos).
    #[serde(default)]
    pub live: Option<bool>,
}

#[derive(Serialize, Deserialize)]
pub struct Photo {
    pub person: String,
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub faces: Vec<SeenFace>,
}

/// The photos under `dir`, read from `cache` when it exists, else extracted (and written to
/// `cache` when given).
pub fn faces_of(dir: &Path, cache: Option<&Path>) -> Result<Vec<Photo>, Error> {
    if let Some(file) = cache.filter(|f| f.exists()) {
        return read_cache(file);
    }
    let photos = extract(dir)?;
    if let Some(file) = cache {
        write_cache(file, &photos)?;
    }
    Ok(photos)
}

fn extract(dir: &Path) -> Result<Vec<Photo>, Error> {
    let models = ModelsDir::resolve(None)?;
    let pipeline = FacePipeline::load(&models, PipelineOptions::default())?;
    let started = Instant::now();
    let mut photos = Vec::new();
    let mut people: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    people.sort();
    for person in people.iter().filter(|p| p.is_dir()) {
        let name = person.file_name().unwrap_or_default().to_string_lossy();
        let mut files: Vec<PathBuf> = std::fs::read_dir(person)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.sort();
        for path in files {
            let image = load_image(&path, ImageLimits::default())?;
            let faces = pipeline.faces(&image)?;
            let embeddings = pipeline.embed(&faces)?;
            let faces = faces
                .iter()
                .zip(embeddings)
                .map(|(f, e)| SeenFace {
                    live: None,
                    bbox: f.detection.bbox,
                    quality: f.quality,
                    embedding: e.to_vec(),
                })
                .collect();
            photos.push(Photo {
                person: name.to_string(),
                path,
                width: image.width(),
                height: image.height(),
                faces,
            });
        }
        if photos.len() % 200 < 5 {
            eprint!("\r{} photos, {:.0?}", photos.len(), started.elapsed());
        }
    }
    eprintln!("\r{} photos in {:.0?}", photos.len(), started.elapsed());
    Ok(photos)
}

fn read_cache(file: &Path) -> Result<Vec<Photo>, Error> {
    let reader = std::io::BufReader::new(std::fs::File::open(file)?);
    reader
        .lines()
        .map(|l| Ok(serde_json::from_str(&l?)?))
        .collect()
}

fn write_cache(file: &Path, photos: &[Photo]) -> Result<(), Error> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    for p in photos {
        writeln!(out, "{}", serde_json::to_string(p)?)?;
    }
    Ok(())
}
