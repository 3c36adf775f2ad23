//! How well the strangers' grouping (`rollcall_school::strangers::rules`) puts one person's faces
//! on one card and two people's on two, on real embeddings: the JSON-lines face cache the
//! models' examples write (`enrolment_rule --cache FILE`, one line per photo of
//! `DIR/<person>/*.jpg`, each face with its embedding). Every photo's most central face stands
//! for a stranger seen once; the first [`MAX_FACES`] photos (people in name order) are grouped
//! at several join distances.
//!
//! ```sh
//! cargo run -p rollcall-school --example strangers_eval -- /tmp/faces.jsonl
//! ```

use std::io::BufRead;
use std::time::Instant;

use rollcall_school::strangers::rules::{JOIN, MAX_FACES, clusters_within};
use serde_json::Value;

type Error = Box<dyn std::error::Error>;

/// One photo's person and the embedding of its most central face.
fn faces(file: &str) -> Result<Vec<(String, Vec<f32>)>, Error> {
    let mut out = Vec::new();
    for line in std::io::BufReader::new(std::fs::File::open(file)?).lines() {
        let photo: Value = serde_json::from_str(&line?)?;
        let (w, h) = (photo["width"].as_f64(), photo["height"].as_f64());
        let centre = |f: &Value| {
            let b: Vec<f64> = f["bbox"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect();
            let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
            (cx - w.unwrap_or(0.0) / 2.0).powi(2) + (cy - h.unwrap_or(0.0) / 2.0).powi(2)
        };
        let Some(face) = photo["faces"].as_array().and_then(|fs| {
            fs.iter()
                .filter(|f| f["bbox"].as_array().is_some_and(|b| b.len() == 4))
                .min_by(|a, b| centre(a).total_cmp(&centre(b)))
        }) else {
            continue;
        };
        let embedding: Vec<f32> = face["embedding"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_f64().map(|v| v as f32))
            .collect();
        out.push((
            photo["person"].as_str().unwrap_or_default().to_owned(),
            embedding,
        ));
    }
    Ok(out)
}

fn main() -> Result<(), Error> {
    let file = std::env::args()
        .nth(1)
        .ok_or("usage: strangers_eval FACES.jsonl")?;
    let mut all = faces(&file)?;
    all.truncate(MAX_FACES);
    let people: std::collections::BTreeSet<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    println!(
        "{} faces of {} people (JOIN = {JOIN})",
        all.len(),
        people.len()
    );
    println!(
        "| join | cards | pairs on one card that are one person | one person's pairs on one card | cards mixing people | people on several cards | time |"
    );
    println!("|---|---|---|---|---|---|---|");
    let refs: Vec<&[f32]> = all.iter().map(|(_, e)| e.as_slice()).collect();
    for join in [0.30, 0.32, 0.34, 0.36, 0.38, 0.40, 0.45] {
        let started = Instant::now();
        let groups = clusters_within(&refs, join);
        let took = started.elapsed();
        let who = |i: usize| all[i].0.as_str();
        let (mut together, mut together_same) = (0u64, 0u64);
        for g in &groups {
            for (k, &a) in g.iter().enumerate() {
                for &b in &g[k + 1..] {
                    together += 1;
                    together_same += u64::from(who(a) == who(b));
                }
            }
        }
        let mut same = 0u64;
        for a in 0..all.len() {
            for b in a + 1..all.len() {
                same += u64::from(who(a) == who(b));
            }
        }
        let mixed = groups
            .iter()
            .filter(|g| g.iter().any(|&i| who(i) != who(g[0])))
            .count();
        let split = people
            .iter()
            .filter(|p| {
                groups
                    .iter()
                    .filter(|g| g.iter().any(|&i| who(i) == **p))
                    .count()
                    > 1
            })
            .count();
        println!(
            "| {join:.2} | {} | {:.1} % | {:.1} % | {mixed} | {split} | {:.2} s |",
            groups.len(),
            100.0 * together_same as f64 / together.max(1) as f64,
            100.0 * together_same as f64 / same.max(1) as f64,
            took.as_secs_f64()
        );
    }
    Ok(())
}
