//! `enrol`: a folder of photos (or a zip of one) enrolled in one go from the command line, a line per photo as
//! it goes and a CSV of the outcomes (the rules are in [`rollcall_school::enrol::folder`]).

use std::io::Read as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use rollcall_runtime::{Clock, SystemClock};
use rollcall_school::enrol::folder::{self, Line, MAX_PHOTOS, Run};
use rollcall_school::enrol::zipped::Zipped;
use rollcall_school::enrol::{Enroller, photo_limits};
use rollcall_school::table;

use crate::cli::Target;

use super::target::config;

const ACTOR: &str = "rollcall-hub enrol (command line)";

pub fn run(
    dir: &Path,
    mapping: Option<&Path>,
    report: Option<&Path>,
    target: Target,
) -> anyhow::Result<()> {
    let source = match is_zip(dir) {
        true => Source::Zip(std::fs::read(dir).with_context(|| format!("{}", dir.display()))?),
        false => {
            let (photos, others) = photo_names(dir)?;
            Source::Folder { photos, others }
        }
    };
    let mapping = match mapping {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
            let read = folder::read_mapping(&bytes).map_err(|rows| {
                for r in &rows {
                    eprintln!("{}:{}: {}", path.display(), r.line, r.message);
                }
                anyhow::anyhow!(table::nothing_imported(&rows, "mapping file"))
            });
            Some(read?)
        }
        None => None,
    };
    let config = config(target)?;
    let db = crate::setup::open_store(&config)?;
    let faces = &config.faces;
    let limits = photo_limits(faces.max_photo_megapixels);
    if let Source::Zip(bytes) = &source {
        // Refused whole (a bomb, too many photos, not a zip) before the models load.
        Zipped::open(bytes, limits.max_bytes).with_context(|| format!("{}", dir.display()))?;
    }
    let enroller = Enroller::load_with(faces.models_dir.as_ref(), faces.gate, limits)?;
    let now = || SystemClock.now();
    let run = Run {
        db: &db,
        enroller: &enroller,
        mapping: mapping.as_ref(),
        actor: ACTOR,
        now: &now,
    };
    let started = Instant::now();
    let max_bytes = limits.max_bytes;
    let print = |line: &Line| {
        let (what, detail) = (line.outcome.as_str(), line.outcome.detail());
        println!(
            "{what:<18} {:<32} {:<14} {detail}",
            line.photo, line.reference
        );
    };
    let lines = match source {
        Source::Folder { photos, others } => {
            println!(
                "{} photos in {}{}",
                photos.len(),
                dir.display(),
                left_alone(others)
            );
            let read = photos.into_iter().map(|name| {
                let bytes = read_at_most(&dir.join(&name), max_bytes);
                (name, bytes)
            });
            run.enrol(read, print)?
        }
        Source::Zip(bytes) => {
            let zipped =
                Zipped::open(&bytes, max_bytes).with_context(|| format!("{}", dir.display()))?;
            let (n, others) = (zipped.len(), zipped.others);
            println!("{n} photos in {}{}", dir.display(), left_alone(others));
            run.enrol(zipped.photos(), print)?
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    summary(&lines, seconds);
    if let Some(path) = report {
        write_report(path, &lines)?;
        println!("outcomes written to {}", path.display());
    }
    Ok(())
}

/// Where the photos are: a folder's photo files, or a zip file's bytes.
enum Source {
    Folder { photos: Vec<String>, others: usize },
    Zip(Vec<u8>),
}

/// Whether `path` is a zip file (by its ending), not a folder.
fn is_zip(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn left_alone(others: usize) -> String {
    match others {
        0 => String::new(),
        n => format!(" ({n} other files left alone)"),
    }
}

/// The photos in `dir` by name, sorted, and how many other files it holds. A folder of more
/// than [`MAX_PHOTOS`] photos is refused before any is read.
fn photo_names(dir: &Path) -> anyhow::Result<(Vec<String>, usize)> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))?;
    let (mut photos, mut others) = (Vec::new(), 0);
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // A link to a photo is a photo (`is_file` follows it).
        match entry.path().is_file() && folder::is_photo(&name) {
            true => photos.push(name),
            false => others += 1,
        }
        if photos.len() > MAX_PHOTOS {
            bail!(
                "{} holds more than {MAX_PHOTOS} photos: enrol it a part at a time",
                dir.display()
            );
        }
    }
    photos.sort();
    Ok((photos, others))
}

/// The file's bytes, read no further than one past `max` (the enrolment gate refuses more).
fn read_at_most(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn summary(lines: &[Line], seconds: f64) {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for line in lines {
        let what = line.outcome.as_str();
        match counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => counts.push((what, 1)),
        }
    }
    let said: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
    let rate = lines.len() as f64 / seconds.max(1e-9);
    println!(
        "{}: {} photos in {seconds:.1} s ({rate:.1} photos/s)",
        said.join(", "),
        lines.len()
    );
}

/// The outcome table as CSV: photo, reference, whose (student or staff), name, outcome,
/// detail.
fn write_report(path: &Path, lines: &[Line]) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_path(path).with_context(|| format!("{}", path.display()))?;
    out.write_record(["photo", "reference", "whose", "name", "outcome", "detail"])?;
    for line in lines {
        let whose = line.whose.map_or("", |k| k.as_str());
        let name = line.name.as_deref().unwrap_or("");
        let (what, detail) = (line.outcome.as_str(), line.outcome.detail());
        out.write_record([&line.photo, &line.reference, whose, name, what, &detail])?;
    }
    out.flush()?;
    Ok(())
}
