//! `rollcall-edge bench --compare-face-recognition VENV`: Rollcall against the
//! `face_recognition` library on the same photos, the same cores, in one run.
//!
//! Python runs the library in a child process (`face_recognition_timer.py`, kept beside this
//! file) that answers one photo at a time. Two figures:
//!
//! * **per photo**: the photos alternate which of the two goes first, so load from elsewhere
//!   on the machine falls on both alike; both leave decoding out and count detection,
//!   alignment and embedding of every face found. This is the latency of one photo.
//! * **the whole set**: every photo, decoding included, as `rollcall-edge faces --embed` runs
//!   them (several at once over the cores) against the library one photo after another (as
//!   its users call it), Rollcall before and after the library so drift falls on both.
//!
//! Owns the photo selection, the protocol with the child and the summaries; no pipeline
//! logic.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::pipeline::FacePipeline;
use serde::{Deserialize, Serialize};

const TIMER_SCRIPT: &str = include_str!("face_recognition_timer.py");

/// One system's figures for one photo.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct PhotoTime {
    pub detect_ms: f64,
    pub embed_ms: f64,
    pub faces: usize,
}

impl PhotoTime {
    fn total_ms(&self) -> f64 {
        self.detect_ms + self.embed_ms
    }
}

/// One system's figures over all photos.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub mean_ms: f64,
    pub median_detect_ms: f64,
    pub median_embed_ms: f64,
    pub faces: usize,
}

/// The whole set, decoding included: wall-clock seconds.
#[derive(Debug, Serialize)]
pub struct WholeSet {
    /// Rollcall before and after the library.
    pub rollcall_s: [f64; 2],
    pub face_recognition_s: f64,
    /// `face_recognition`'s time over the mean of Rollcall's two.
    pub ratio: f64,
}

/// The comparison's result.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub photos: usize,
    pub load_before: String,
    pub load_after: String,
    pub dlib: String,
    pub rollcall: Summary,
    pub face_recognition: Summary,
    /// `face_recognition`'s mean per image over Rollcall's.
    pub ratio: f64,
    pub whole_set: WholeSet,
}

/// `count` photos spread evenly over the sorted files under `dir` (every `total / count`-th),
/// the same selection as `models/parity/reference/compare.sh` for the developer set.
pub fn pick_photos(dir: &Path, count: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut all = Vec::new();
    collect_files(dir, &mut all)?;
    all.sort();
    Ok(every_nth(all, count))
}

/// `count` items of `all`, every `len / count`-th from the first.
fn every_nth<T>(all: Vec<T>, count: usize) -> Vec<T> {
    let step = (all.len() / count.max(1)).max(1);
    all.into_iter().step_by(step).take(count).collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The Python side: a child process answering one photo per line.
struct Timer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    dlib: String,
}

impl Timer {
    fn spawn(venv: &Path) -> anyhow::Result<Self> {
        let python = venv.join("bin").join("python");
        let mut child = Command::new(&python)
            .args(["-c", TIMER_SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", python.display()))?;
        let stdin = child.stdin.take().context("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let ready: serde_json::Value = serde_json::from_str(&read_line(&mut stdout)?)?;
        let dlib = ready["dlib"].as_str().unwrap_or("?").to_owned();
        Ok(Self {
            child,
            stdin,
            stdout,
            dlib,
        })
    }

    fn time(&mut self, photo: &Path) -> anyhow::Result<PhotoTime> {
        let path = photo.to_str().context("photo path is not UTF-8")?;
        writeln!(self.stdin, "{path}")?;
        self.stdin.flush()?;
        let line = read_line(&mut self.stdout)?;
        serde_json::from_str(&line).with_context(|| format!("face_recognition said {line:?}"))
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_line(r: &mut impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        bail!(
            "the face_recognition process ended (is it installed? scripts/face_recognition_env.sh)"
        );
    }
    Ok(line)
}

/// Rollcall on one photo, as `rollcall-edge faces --embed` runs it.
fn time_rollcall(pipeline: &FacePipeline, photo: &Path) -> anyhow::Result<PhotoTime> {
    let image = load_image(photo, ImageLimits::default())?;
    let started = Instant::now();
    let faces = pipeline.faces(&image)?;
    let detect_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    pipeline.embed(&faces)?;
    Ok(PhotoTime {
        detect_ms,
        embed_ms: started.elapsed().as_secs_f64() * 1e3,
        faces: faces.len(),
    })
}

/// Rollcall on every photo, decoding included, as `faces --embed` runs them: seconds.
fn rollcall_whole_set(pipeline: &FacePipeline, photos: &[PathBuf]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let analyse = |photo: &PathBuf| -> anyhow::Result<()> {
        let image = load_image(photo, ImageLimits::default())?;
        pipeline.embed(&pipeline.faces(&image)?)?;
        Ok(())
    };
    crate::commands::pipeline::for_each_in_order(photos, analyse, |_, done| done)?;
    Ok(started.elapsed().as_secs_f64())
}

/// The library on every photo, one after another, decoding included: seconds.
fn face_recognition_whole_set(timer: &mut Timer, photos: &[PathBuf]) -> anyhow::Result<f64> {
    let started = Instant::now();
    for photo in photos {
        timer.time(photo)?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Times both on every photo, alternating which goes first, then on the whole set.
pub fn compare(
    pipeline: &FacePipeline,
    venv: &Path,
    photos: &[PathBuf],
) -> anyhow::Result<Comparison> {
    let first = photos.first().context("no photos to compare on")?;
    let mut timer = Timer::spawn(venv)?;
    time_rollcall(pipeline, first)?; // warm-up, both sides
    timer.time(first)?;
    let load_before = load_average();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for (i, photo) in photos.iter().enumerate() {
        if i % 2 == 0 {
            ours.push(time_rollcall(pipeline, photo)?);
            theirs.push(timer.time(photo)?);
        } else {
            theirs.push(timer.time(photo)?);
            ours.push(time_rollcall(pipeline, photo)?);
        }
    }
    let (rollcall, face_recognition) = (summarise(&ours), summarise(&theirs));
    let before = rollcall_whole_set(pipeline, photos)?;
    let face_recognition_s = face_recognition_whole_set(&mut timer, photos)?;
    let after = rollcall_whole_set(pipeline, photos)?;
    let whole_set = WholeSet {
        rollcall_s: [before, after],
        face_recognition_s,
        ratio: face_recognition_s / ((before + after) / 2.0),
    };
    Ok(Comparison {
        whole_set,
        photos: photos.len(),
        load_before,
        load_after: load_average(),
        dlib: timer.dlib.clone(),
        ratio: face_recognition.mean_ms / rollcall.mean_ms,
        rollcall,
        face_recognition,
    })
}

fn summarise(times: &[PhotoTime]) -> Summary {
    let n = times.len().max(1) as f64;
    Summary {
        mean_ms: times.iter().map(PhotoTime::total_ms).sum::<f64>() / n,
        median_detect_ms: median(times.iter().map(|t| t.detect_ms)),
        median_embed_ms: median(times.iter().map(|t| t.embed_ms)),
        faces: times.iter().map(|t| t.faces).sum(),
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `/proc/loadavg`'s three averages, or "?" off Linux.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The comparison as text.
pub fn print(out: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
    writeln!(
        out,
        "{} photos, load average {} before, {} after; face_recognition with dlib {}",
        c.photos, c.load_before, c.load_after, c.dlib
    )?;
    for (name, s) in [
        ("rollcall", &c.rollcall),
        ("face_recognition", &c.face_recognition),
    ] {
        writeln!(
            out,
            "{name:<17} mean {:>7.1} ms per image (median detect {:.1}, embed {:.1}; {} faces)",
            s.mean_ms, s.median_detect_ms, s.median_embed_ms, s.faces
        )?;
    }
    writeln!(
        out,
        "ratio {:.2}× per photo (face_recognition / rollcall)",
        c.ratio
    )?;
    let w = &c.whole_set;
    writeln!(
        out,
        "whole set, decoding included: rollcall {:.2} s and {:.2} s (photos over the cores), \
         face_recognition {:.2} s (one after another): {:.2}×",
        w.rollcall_s[0], w.rollcall_s[1], w.face_recognition_s, w.ratio
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_spreads_the_pick() {
        let all: Vec<usize> = (0..2926).collect();
        let picked = every_nth(all, 200);
        assert_eq!(picked.len(), 200);
        assert_eq!(&picked[..3], &[0, 14, 28]);
        assert_eq!(every_nth(vec![1, 2, 3], 10), vec![1, 2, 3]);
    }

    #[test]
    fn summary_means_totals_and_takes_medians() {
        let t = |d, e| PhotoTime {
            detect_ms: d,
            embed_ms: e,
            faces: 1,
        };
        let s = summarise(&[t(10.0, 20.0), t(30.0, 40.0), t(20.0, 0.0)]);
        assert_eq!(s.mean_ms, 40.0);
        assert_eq!((s.median_detect_ms, s.median_embed_ms), (20.0, 20.0));
        assert_eq!(s.faces, 3);
    }
}
