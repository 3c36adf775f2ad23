//! Every frame of every walk-in, degraded (`rollcall_models::eval::doorway`) as the `--camera`
//! sees it and run through the door's pipeline (`PipelineOptions::door`: the frame searched
//! at 640 px with a second look at full resolution, alignment and embedding from the full
//! frame, quality, and the liveness networks' verdict on every face),
//! cached in JSON lines keyed by (photo, condition, frame, seed), and kept only for the same
//! degradation and camera. Walk-ins run in parallel
//! (rayon); each finished frame is appended to the cache at once, so an interrupted run keeps
//! what it did. A photo that fails to decode, or a frame the pipeline fails on, is a record
//! with an `error`, counted in the report, never a crash.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use rollcall_models::eval::doorway::{self, Camera, Conditions, Degradation, Subject};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::liveness::Liveness;
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::weights::ModelsDir;
use serde::{Deserialize, Serialize};

use crate::faces_cache::{Error, SeenFace};

/// One walk-in to film: a photo under a named condition.
pub struct Walk<'a> {
    pub photo: &'a Path,
    pub subject: Subject,
    pub condition: &'static str,
    pub conditions: Conditions,
}

/// One degraded frame and every face the pipeline found in it.
#[derive(Serialize, Deserialize, Clone)]
pub struct FrameRecord {
    pub photo: PathBuf,
    pub condition: String,
    pub frame: usize,
    pub seed: u64,
    pub degradation: Degradation,
    /// The camera that filmed it (frames cached before cameras were named are 720p).
    #[serde(default)]
    pub camera: Camera,
    /// Where the subject's face was put, frame pixels.
    pub face_box: [f32; 4],
    pub faces: Vec<SeenFace>,
    /// Why the frame could not be made or searched (the photo did not decode, …).
    pub error: Option<String>,
}

type Key = (PathBuf, String, usize, u64);

fn key_of(r: &FrameRecord) -> Key {
    (r.photo.clone(), r.condition.clone(), r.frame, r.seed)
}

/// The cached frames.
pub struct Frames(HashMap<Key, FrameRecord>);

impl Frames {
    pub fn get(
        &self,
        photo: &Path,
        condition: &str,
        frame: usize,
        seed: u64,
    ) -> Option<&FrameRecord> {
        self.0
            .get(&(photo.to_path_buf(), condition.to_string(), frame, seed))
    }
}

/// Every frame of `walks` (up to `frames` each, while the face is in view:
/// [`Degradation::in_view`]), from `cache` where it holds them with the same degradation, else
/// made and appended to it.
pub fn film(
    walks: &[Walk],
    frames: usize,
    seed: u64,
    camera: Camera,
    cache: Option<&Path>,
) -> Result<Frames, Error> {
    let mut known = match cache.filter(|f| f.exists()) {
        Some(file) => read(file)?,
        None => HashMap::new(),
    };
    let todo: Vec<&Walk> = walks
        .iter()
        .filter(|w| in_view(w, frames, seed).any(|f| !fresh(&known, w, f, seed, camera)))
        .collect();
    eprintln!(
        "{} walk-ins, {} to film ({} cached frames)",
        walks.len(),
        todo.len(),
        known.len()
    );
    if todo.is_empty() {
        return Ok(Frames(known));
    }
    let pipeline = FacePipeline::load(&ModelsDir::resolve(None)?, PipelineOptions::door())?;
    let liveness = Liveness::load(&candle_core::Device::Cpu)?;
    let door = Door {
        pipeline: &pipeline,
        liveness: &liveness,
    };
    let out = match cache {
        Some(file) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)?,
        )),
        None => None,
    };
    let (done, started) = (AtomicUsize::new(0), Instant::now());
    let made: Vec<FrameRecord> = todo
        .par_iter()
        .flat_map_iter(|w| {
            let missing = in_view(w, frames, seed).filter(|&f| !fresh(&known, w, f, seed, camera));
            let records = film_one(&door, w, missing, seed, camera);
            if let Some(out) = &out {
                append(out, &records);
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n % 50 == 0 || n == todo.len() {
                eprint!(
                    "\r{n} of {} walk-ins filmed, {:.0?}",
                    todo.len(),
                    started.elapsed()
                );
            }
            records
        })
        .collect();
    eprintln!();
    for r in made {
        known.insert(key_of(&r), r);
    }
    Ok(Frames(known))
}

fn fresh(
    known: &HashMap<Key, FrameRecord>,
    w: &Walk,
    frame: usize,
    seed: u64,
    camera: Camera,
) -> bool {
    let walk = doorway::walk_seed(seed, &w.photo.to_string_lossy(), w.condition);
    let key = (w.photo.to_path_buf(), w.condition.to_string(), frame, seed);
    known
        .get(&key)
        .is_some_and(|r| r.degradation == w.conditions.draw(walk, frame) && r.camera == camera)
}

/// The frames of `w`, up to `frames`, that see the face: a walk-in ends when the person
/// leaves the camera's view.
fn in_view(w: &Walk, frames: usize, seed: u64) -> impl Iterator<Item = usize> + use<> {
    let walk = doorway::walk_seed(seed, &w.photo.to_string_lossy(), w.condition);
    let conditions = w.conditions;
    (0..frames).take_while(move |&i| conditions.draw(walk, i).in_view())
}

/// The door's networks: the face pipeline, and liveness on every face it finds.
struct Door<'a> {
    pipeline: &'a FacePipeline,
    liveness: &'a Liveness,
}

/// The frames `todo` of one walk-in.
fn film_one(
    door: &Door,
    w: &Walk,
    todo: impl Iterator<Item = usize>,
    seed: u64,
    camera: Camera,
) -> Vec<FrameRecord> {
    let walk = doorway::walk_seed(seed, &w.photo.to_string_lossy(), w.condition);
    let photo = load_image(w.photo, ImageLimits::default());
    todo.map(|i| {
        let d = w.conditions.draw(walk, i);
        let mut record = FrameRecord {
            photo: w.photo.to_path_buf(),
            condition: w.condition.to_string(),
            frame: i,
            seed,
            degradation: d,
            camera,
            face_box: [0.0; 4],
            faces: Vec::new(),
            error: None,
        };
        match &photo {
            Ok(photo) => {
                let f = doorway::frame(photo, &w.subject, &d, walk, i, camera);
                record.face_box = f.face_box;
                match faces_in(door, &f.image) {
                    Ok(faces) => record.faces = faces,
                    Err(e) => record.error = Some(format!("pipeline: {e}")),
                }
            }
            Err(e) => record.error = Some(format!("photo: {e}")),
        }
        record
    })
    .collect()
}

fn faces_in(door: &Door, image: &image::RgbImage) -> Result<Vec<SeenFace>, Error> {
    let faces = door.pipeline.faces(image)?;
    let embeddings = door.pipeline.embed(&faces)?;
    faces
        .iter()
        .zip(embeddings)
        .map(|(f, e)| {
            Ok(SeenFace {
                bbox: f.detection.bbox,
                quality: f.quality,
                embedding: e.to_vec(),
                live: Some(door.liveness.judge(image, f.detection.bbox)?.real),
            })
        })
        .collect()
}

fn append(out: &Mutex<std::fs::File>, records: &[FrameRecord]) {
    let mut text = String::new();
    for r in records {
        if let Ok(line) = serde_json::to_string(r) {
            text += &line;
            text.push('\n');
        }
    }
    if let Ok(mut file) = out.lock()
        && let Err(e) = file.write_all(text.as_bytes())
    {
        eprintln!("cannot append to the frame cache: {e}");
    }
}

/// The cache's records; a line that does not parse (a run cut off mid-line) is skipped.
fn read(file: &Path) -> Result<HashMap<Key, FrameRecord>, Error> {
    let reader = std::io::BufReader::new(std::fs::File::open(file)?);
    let mut known = HashMap::new();
    for line in reader.lines() {
        if let Ok(r) = serde_json::from_str::<FrameRecord>(&line?) {
            known.insert(key_of(&r), r);
        }
    }
    Ok(known)
}
