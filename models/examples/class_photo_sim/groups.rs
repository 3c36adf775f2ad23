//! The real group photos (`../shared/faces/groups`): each judged against a class of 30 that
//! holds the people MANIFEST.tsv says are in it ("contains: …"), enrolled from their first 3
//! portraits, and the first students of the calibration half; nobody else in the photo is
//! enrolled. A name for anybody not in the photo is wrong; which face is whose is not
//! labelled, so a name for a contained person is counted as theirs.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

use rollcall_models::image_io::{ImageLimits, decode_image};
use rollcall_models::matching::{Decision, Gallery, Thresholds};
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::weights::ModelsDir;

use crate::faces_cache::Error;
use crate::school::{CLASS_SIZE, ENROLLED, School, Shot, judge_faces};

/// The hub's `class_photo::MAX_FACES`: a photo with more faces is refused.
const MAX_FACES: usize = 100;

pub fn report(
    dir: &Path,
    halves: &[School; 2],
    cache: Option<&Path>,
    t: &Thresholds,
) -> Result<(), Error> {
    let manifest = std::fs::read_to_string(dir.join("../MANIFEST.tsv"))?;
    let mut contains: HashMap<String, Vec<String>> = HashMap::new();
    for line in manifest.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.get(1) == Some(&"group") {
            let notes = cols.get(7).copied().unwrap_or("");
            let names = notes
                .strip_prefix("contains: ")
                .map(|r| r.split(';').next().unwrap_or(""))
                .map(|r| r.split(", ").map(str::to_string).collect())
                .unwrap_or_default();
            let file = cols[0].rsplit('/').next().unwrap_or("").to_string();
            contains.insert(file, names);
        }
    }
    let shots = read_all(dir, cache)?;
    println!("\n## Real group photos, at {t:?}\n");
    println!(
        "| photo | faces found | judged | labelled in it (enrolled) | named: labelled | named: not in the photo (wrong) | asked | unknown |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for shot in &shots {
        let file = shot.key.trim_start_matches("group:");
        let labelled = contains.get(file).cloned().unwrap_or_default();
        if shot.faces.len() > MAX_FACES {
            println!(
                "| {file} | {} | refused (more than {MAX_FACES}) | | | | | |",
                shot.faces.len()
            );
            continue;
        }
        let (gallery, names) = class_with(halves, &labelled);
        let enrolled = labelled.iter().filter(|n| names.contains(n)).count();
        let verdicts = judge_faces(&shot.faces, &gallery, t);
        let (mut right, mut wrong, mut asked, mut unknown) = (0, 0, 0, 0);
        for (d, s) in verdicts.iter().flatten() {
            match d {
                Decision::Confident => {
                    let name = s.map(|s| names[s].as_str()).unwrap_or("");
                    if labelled.iter().any(|l| l == name) {
                        right += 1;
                    } else {
                        wrong += 1;
                    }
                }
                Decision::Uncertain => asked += 1,
                Decision::Unknown => unknown += 1,
            }
        }
        println!(
            "| {file} | {} | {} | {} ({enrolled}) | {right} | {wrong} | {asked} | {unknown} |",
            shot.faces.len(),
            verdicts.iter().flatten().count(),
            labelled.len(),
        );
    }
    Ok(())
}

/// A class of [`CLASS_SIZE`]: the labelled people who have at least `ENROLLED` portraits,
/// then the calibration half's first students. Student ids index the returned names.
fn class_with(halves: &[School; 2], labelled: &[String]) -> (Gallery<usize>, Vec<String>) {
    let all = halves.iter().flat_map(|h| &h.students);
    let mut members: Vec<(&String, &Vec<_>)> = all
        .clone()
        .filter(|s| labelled.contains(&s.name))
        .map(|s| (&s.name, &s.enrolled))
        .collect();
    let fill = halves[0]
        .students
        .iter()
        .filter(|s| !labelled.contains(&s.name));
    members.extend(
        fill.map(|s| (&s.name, &s.enrolled))
            .take(CLASS_SIZE - members.len()),
    );
    let pairs = members
        .iter()
        .enumerate()
        .flat_map(|(i, (_, e))| e.iter().take(ENROLLED).map(move |x| (i, *x)));
    let gallery = Gallery::try_from_iter(pairs).unwrap_or_default();
    (
        gallery,
        members.into_iter().map(|(n, _)| n.clone()).collect(),
    )
}

/// Every group photo read as the hub reads one (cached under `group:FILE`).
fn read_all(dir: &Path, cache: Option<&Path>) -> Result<Vec<Shot>, Error> {
    let mut known: HashMap<String, Shot> = HashMap::new();
    if let Some(file) = cache.filter(|f| f.exists()) {
        for line in std::io::BufReader::new(std::fs::File::open(file)?).lines() {
            if let Ok(s) = serde_json::from_str::<Shot>(&line?) {
                known.insert(s.key.clone(), s);
            }
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut pipeline = None;
    let mut shots = Vec::new();
    for path in files {
        let key = format!(
            "group:{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        if let Some(s) = known.remove(&key) {
            shots.push(s);
            continue;
        }
        if pipeline.is_none() {
            let dir = ModelsDir::resolve(None)?;
            pipeline = Some(FacePipeline::load(&dir, PipelineOptions::default())?);
        }
        let Some(p) = &pipeline else { continue };
        let image = decode_image(&std::fs::read(&path)?, ImageLimits::default())?;
        eprintln!("reading {key}");
        let shot = Shot {
            key,
            placed: Vec::new(),
            faces: crate::scene::read(p, &image)?,
        };
        if let Some(file) = cache {
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)?;
            writeln!(out, "{}", serde_json::to_string(&shot)?)?;
        }
        shots.push(shot);
    }
    Ok(shots)
}
