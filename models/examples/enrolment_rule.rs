//! Measures the enrolment rules on labelled single-person photos: which face of a photo with
//! several is the student's (the dominance rule of `pipeline::dominant_face`), and which
//! quality checks refuse faces whose embeddings would still have served.
//!
//! cargo run --release -p rollcall-models --example enrolment_rule -- \
//!     ../shared/faces/identities [--cache faces.jsonl]
//!
//! Every face of every photo is detected, aligned, measured and embedded once (cached in
//! JSON lines when `--cache` is given). A photo's true face is the one closest to the mean of
//! the same person's *other* photos (their primary faces); photos of people with one photo
//! have no truth and are counted apart. People are split in two by name order: even = the
//! calibration half the defaults are chosen on, odd = held out; both are reported.
//!
//! A development tool: the chosen defaults live in `pipeline::DOMINANCE` and `QualityGate`,
//! documented in docs/ACCURACY.md.

#[path = "common/faces_cache.rs"]
mod faces_cache;

use std::path::{Path, PathBuf};

use faces_cache::{Error, Photo, faces_of};
use rollcall_models::pipeline::{dominant_face, primary_face_of_boxes};
use rollcall_models::quality::{QualityGate, QualityIssue};
use rollcall_shared::embedding::distance;

/// Distance under which a face is taken to be of its person (the Uncertain band, `align-3`).
const SAME: f32 = 0.30;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: enrolment_rule DIR [--cache FILE]")?,
    );
    let cache = match (args.next().as_deref(), args.next()) {
        (Some("--cache"), Some(file)) => Some(PathBuf::from(file)),
        _ => None,
    };
    let photos = faces_of(&dir, cache.as_deref())?;
    let people = sorted_people(&photos);
    for (half, name) in [
        (0, "calibration (even people)"),
        (1, "held out (odd people)"),
    ] {
        let mine: Vec<&Photo> = photos
            .iter()
            .filter(|p| people.binary_search(&p.person).unwrap_or(0) % 2 == half)
            .collect();
        println!("\n## {name}: {} photos", mine.len());
        report_dominance(&mine, &photos);
        report_gate(&mine, &photos);
    }
    Ok(())
}

fn sorted_people(photos: &[Photo]) -> Vec<String> {
    let mut people: Vec<String> = photos.iter().map(|p| p.person.clone()).collect();
    people.sort();
    people.dedup();
    people
}

fn boxes(p: &Photo) -> Vec<[f32; 4]> {
    p.faces.iter().map(|f| f.bbox).collect()
}

/// The mean embedding of the primary faces of `person`'s photos other than `except`.
fn reference(all: &[Photo], person: &str, except: &Path) -> Option<Vec<f32>> {
    let others: Vec<&[f32]> = all
        .iter()
        .filter(|p| p.person == person && p.path != except)
        .filter_map(|p| {
            let i = primary_face_of_boxes(&boxes(p), p.width, p.height)?;
            Some(p.faces[i].embedding.as_slice())
        })
        .collect();
    let first = others.first()?;
    let mut mean = vec![0.0; first.len()];
    for e in &others {
        for (m, v) in mean.iter_mut().zip(*e) {
            *m += v / others.len() as f32;
        }
    }
    Some(mean)
}

/// The face of `p` that is its person, when the rest of their photos say so clearly.
fn truth(p: &Photo, all: &[Photo]) -> Option<usize> {
    let mean = reference(all, &p.person, &p.path)?;
    let (i, d) = p
        .faces
        .iter()
        .enumerate()
        .map(|(i, f)| (i, distance(&f.embedding, &mean)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (d <= SAME * 1.5).then_some(i)
}

fn report_dominance(mine: &[&Photo], all: &[Photo]) {
    let several: Vec<&&Photo> = mine.iter().filter(|p| p.faces.len() > 1).collect();
    let none = mine.iter().filter(|p| p.faces.is_empty()).count();
    println!(
        "no face: {none}; one face: {}; several faces: {}",
        mine.len() - none - several.len(),
        several.len()
    );
    let truths: Vec<Option<usize>> = several.iter().map(|p| truth(p, all)).collect();
    let known = truths.iter().filter(|t| t.is_some()).count();
    println!(
        "several faces with a known true face: {known} (others: person has no other usable photo)"
    );
    println!("| dominance ratio | accepted | refused | wrong face taken (of known) |");
    println!("|---|---|---|---|");
    for ratio in [1.0, 1.25, 1.5, 2.0, 3.0, f32::INFINITY] {
        let (mut accepted, mut refused, mut wrong) = (0, 0, 0);
        for (p, t) in several.iter().zip(&truths) {
            match dominant_face(&boxes(p), p.width, p.height, ratio) {
                Ok(i) => {
                    accepted += 1;
                    wrong += usize::from(t.is_some_and(|t| t != i));
                }
                Err(_) => refused += 1,
            }
        }
        println!("| {ratio} | {accepted} | {refused} | {wrong} |");
    }
}

fn report_gate(mine: &[&Photo], all: &[Photo]) {
    let gate = QualityGate::default();
    let mut by_issue: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let mut checked = 0;
    for p in mine {
        let Some(i) = primary_face_of_boxes(&boxes(p), p.width, p.height) else {
            continue;
        };
        let face = &p.faces[i];
        let Some(first) = gate.issues(&face.quality).first().copied() else {
            continue;
        };
        checked += 1;
        let usable = reference(all, &p.person, &p.path)
            .is_some_and(|mean| distance(&face.embedding, &mean) <= SAME);
        let entry = by_issue.entry(kind(&first)).or_default();
        entry.0 += 1;
        entry.1 += usize::from(usable);
    }
    println!("\nprimary faces the default gate refuses: {checked}");
    println!("| first issue | refused | embedding still within {SAME} of the person's mean |");
    println!("|---|---|---|");
    for (issue, (n, usable)) in by_issue {
        println!("| {issue} | {n} | {usable} |");
    }
}

fn kind(issue: &QualityIssue) -> String {
    match issue {
        QualityIssue::TurnedAway { axis, .. } => format!("turned_away ({axis:?})"),
        QualityIssue::TooSmall { measure, .. } => format!("too_small ({measure:?})"),
        QualityIssue::LowScore { .. } => "low_score".into(),
        QualityIssue::BadLandmarks => "bad_landmarks".into(),
        QualityIssue::Blurry { .. } => "blurry".into(),
    }
}
