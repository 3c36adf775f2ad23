//! Liveness on real portraits (issue 68, point 5): how often the door's liveness check
//! (`rollcall_models::liveness`, minivision's two MiniFASNets) flags a real person, on the real
//! photographs of the developer face set, and where its operating point must sit to flag at
//! most 1 % of them while minivision's spoof samples stay flagged.
//!
//! cargo run --release -p rollcall-models --example liveness_portraits -- \
//!     ../shared/faces/identities --cache /tmp/doorway-faces.jsonl \
//!     [--samples ../shared/models/minifasnet/samples] [--limit N]
//!
//! Every photo's dominant face (the door's rule for a portrait) is judged three times, as the
//! door would see it: the photo as it is, and scaled down so the eyes are 28 and 20 px apart
//! (about 2 and 2.9 m from a 70° camera; a scale that would enlarge the photo is skipped).
//! Each face is graded by the door's gate. Halves by name order, as `door_sim` splits them
//! (even = calibration, odd = held out). For each fusion of the two networks (their mean, as
//! shipped; V2 or V1SE alone; the lower or the higher of their real probabilities) and each
//! threshold on the fused probability that the face is real, the share of real faces flagged,
//! per half, with every face judged or with weak faces exempt (never judged); and whether
//! minivision's samples are judged as they should be (`image_F1.jpg` and `image_F2.jpg` fake,
//! `image_T1.jpg` real). "argmax" is the shipped rule: flagged unless the fused real
//! probability is the largest of the three classes.

#[path = "common/faces_cache.rs"]
mod faces_cache;

use std::path::PathBuf;

use candle_core::Device;
use faces_cache::{Error, Photo, faces_of};
use image::imageops::FilterType;
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::liveness::{CLASSES, Liveness, REAL_CLASS, softmax};
use rollcall_models::pipeline::{DOMINANCE, dominant_face};
use rollcall_models::quality::{Grade, QualityGate};

/// The eye distances a face is also judged at, px (the door's range).
const DOOR_EYES: [f32; 2] = [28.0, 20.0];
/// Thresholds on the fused real probability tried, besides the shipped argmax.
const THRESHOLDS: [f32; 10] = [0.02, 0.03, 0.04, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];

/// A spoof sample: its file, whether it is really a live face, both networks' softmax.
type Sample = (&'static str, bool, [[f32; CLASSES]; 2]);

/// Both networks' softmax for one face.
#[derive(Clone, Copy)]
struct Judged {
    half: usize,
    grade: Grade,
    /// "as photographed" or the eye distance it was scaled to.
    scale: usize,
    probs: [[f32; CLASSES]; 2],
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fusion {
    Mean,
    V2,
    V1Se,
    Lower,
    Higher,
}

impl Fusion {
    const ALL: [Fusion; 5] = [
        Fusion::Mean,
        Fusion::V2,
        Fusion::V1Se,
        Fusion::Lower,
        Fusion::Higher,
    ];

    fn name(self) -> &'static str {
        match self {
            Fusion::Mean => "mean (shipped)",
            Fusion::V2 => "V2 alone",
            Fusion::V1Se => "V1SE alone",
            Fusion::Lower => "lower of the two",
            Fusion::Higher => "higher of the two",
        }
    }

    /// The fused probabilities of the three classes.
    fn fuse(self, [v2, v1se]: [[f32; CLASSES]; 2]) -> [f32; CLASSES] {
        let each = |f: fn(f32, f32) -> f32| std::array::from_fn(|c| f(v2[c], v1se[c]));
        match self {
            Fusion::Mean => each(|a, b| (a + b) / 2.0),
            Fusion::V2 => v2,
            Fusion::V1Se => v1se,
            Fusion::Lower => each(f32::min),
            Fusion::Higher => each(f32::max),
        }
    }
}

/// A rule: flagged unless the fused real probability is the largest class (`None`) or at
/// least the threshold.
fn flagged(fusion: Fusion, threshold: Option<f32>, probs: [[f32; CLASSES]; 2]) -> bool {
    let p = fusion.fuse(probs);
    match threshold {
        None => (0..CLASSES).any(|c| c != REAL_CLASS && p[c] > p[REAL_CLASS]),
        Some(t) => p[REAL_CLASS] < t,
    }
}

struct Args {
    dir: PathBuf,
    cache: PathBuf,
    samples: PathBuf,
    limit: usize,
}

fn parse() -> Result<Args, Error> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: liveness_portraits DIR --cache FILE [--samples DIR] [--limit N]";
    let dir = all.first().filter(|a| !a.starts_with("--")).ok_or(usage)?;
    let value = |flag: &str| {
        all.iter()
            .position(|a| a == flag)
            .and_then(|i| all.get(i + 1))
    };
    Ok(Args {
        dir: PathBuf::from(dir),
        cache: value("--cache").map(PathBuf::from).ok_or(usage)?,
        samples: value("--samples").map_or_else(
            || PathBuf::from("../shared/models/minifasnet/samples"),
            PathBuf::from,
        ),
        limit: value("--limit")
            .map(|n| n.parse())
            .transpose()?
            .unwrap_or(usize::MAX),
    })
}

fn main() -> Result<(), Error> {
    let args = parse()?;
    let photos = faces_of(&args.dir, Some(&args.cache))?;
    let liveness = Liveness::load(&Device::Cpu)?;
    let gate = QualityGate::door();
    let mut people: Vec<&str> = photos.iter().map(|p| p.person.as_str()).collect();
    people.sort();
    people.dedup();
    let half_of = |person: &str| people.binary_search(&person).unwrap_or(0) % 2;
    let mut judged = Vec::new();
    let started = std::time::Instant::now();
    for (i, photo) in photos.iter().take(args.limit).enumerate() {
        judged.extend(judge_photo(
            &liveness,
            &gate,
            photo,
            half_of(&photo.person),
        )?);
        if i % 200 == 199 {
            eprintln!("{} photos, {:.0?}", i + 1, started.elapsed());
        }
    }
    let samples = judge_samples(&liveness, &args.samples)?;
    report(&judged, &samples);
    Ok(())
}

/// The photo's dominant face, judged as photographed and at the door's sizes.
fn judge_photo(
    liveness: &Liveness,
    gate: &QualityGate,
    photo: &Photo,
    half: usize,
) -> Result<Vec<Judged>, Error> {
    let boxes: Vec<[f32; 4]> = photo.faces.iter().map(|f| f.bbox).collect();
    let Ok(i) = dominant_face(&boxes, photo.width, photo.height, DOMINANCE) else {
        return Ok(Vec::new());
    };
    let face = &photo.faces[i];
    let grade = gate.grade(&face.quality);
    if grade == Grade::Out {
        return Ok(Vec::new());
    }
    let image = load_image(&photo.path, ImageLimits::default())?;
    let eyes = face.quality.inter_ocular_px;
    let mut out = Vec::new();
    for (scale, factor) in [(0, 1.0)]
        .into_iter()
        .chain(DOOR_EYES.iter().map(|&e| (e as usize, e / eyes)))
    {
        if factor > 1.0 {
            continue;
        }
        let (w, h) = (
            ((image.width() as f32 * factor).round() as u32).max(1),
            ((image.height() as f32 * factor).round() as u32).max(1),
        );
        let frame = match factor < 1.0 {
            true => image::imageops::resize(&image, w, h, FilterType::Triangle),
            false => image.clone(),
        };
        let bbox = face.bbox.map(|v| v * factor);
        let mut probs = [[0.0; CLASSES]; 2];
        for (k, model) in liveness.models().iter().enumerate() {
            probs[k] = softmax(model.logits(&model.crop(&frame, bbox)?)?);
        }
        out.push(Judged {
            half,
            grade,
            scale,
            probs,
        });
    }
    Ok(out)
}

/// minivision's samples, each with its face box (`models/parity/liveness/make_fixture.py`'s).
fn judge_samples(liveness: &Liveness, dir: &std::path::Path) -> Result<Vec<Sample>, Error> {
    // (file, really a live face, face box).
    let samples: [(&'static str, bool, [f32; 4]); 3] = [
        ("image_T1.jpg", true, [90.0, 110.0, 290.0, 340.0]),
        ("image_F1.jpg", false, [190.0, 120.0, 420.0, 350.0]),
        ("image_F2.jpg", false, [140.0, 200.0, 350.0, 480.0]),
    ];
    let mut out = Vec::new();
    for (file, live, bbox) in samples {
        let image = load_image(&dir.join(file), ImageLimits::default())?;
        let mut probs = [[0.0; CLASSES]; 2];
        for (k, model) in liveness.models().iter().enumerate() {
            probs[k] = softmax(model.logits(&model.crop(&image, bbox)?)?);
        }
        out.push((file, live, probs));
    }
    Ok(out)
}

fn report(judged: &[Judged], samples: &[Sample]) {
    let scales = [
        (0, "as photographed"),
        (28, "eyes 28 px"),
        (20, "eyes 20 px"),
    ];
    println!("# Liveness on real portraits\n");
    for (scale, name) in scales {
        let n = |half: usize| {
            judged
                .iter()
                .filter(|j| j.scale == scale && j.half == half)
                .count()
        };
        println!("{name}: {} + {} faces (calibration + held out)", n(0), n(1));
    }
    println!(
        "\n| fusion | flagged below | samples right (T1 live, F1 F2 fake) | {} |",
        scales
            .iter()
            .flat_map(|(_, s)| {
                [
                    format!("{s}: cal. / held out"),
                    format!("{s}, weak exempt: cal. / held out"),
                ]
            })
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---|---|{}", "---|".repeat(2 * scales.len()));
    let thresholds = std::iter::once(None).chain(THRESHOLDS.iter().map(|&t| Some(t)));
    for fusion in Fusion::ALL {
        for threshold in thresholds.clone() {
            let rule = |p| flagged(fusion, threshold, p);
            let right = samples
                .iter()
                .filter(|(_, live, p)| rule(*p) != *live)
                .map(|(file, _, _)| file.trim_start_matches("image_").trim_end_matches(".jpg"))
                .collect::<Vec<_>>();
            let mut cells = Vec::new();
            for (scale, _) in scales {
                for exempt in [false, true] {
                    let share = |half: usize| {
                        let faces: Vec<&Judged> = judged
                            .iter()
                            .filter(|j| j.scale == scale && j.half == half)
                            .collect();
                        let flags = faces
                            .iter()
                            .filter(|j| !(exempt && j.grade != Grade::Good) && rule(j.probs))
                            .count();
                        100.0 * flags as f64 / faces.len().max(1) as f64
                    };
                    cells.push(format!("{:.1} % / {:.1} %", share(0), share(1)));
                }
            }
            let below = threshold.map_or("argmax".to_string(), |t| format!("{t}"));
            println!(
                "| {} | {below} | {} of 3 ({}) | {} |",
                fusion.name(),
                right.len(),
                right.join(" "),
                cells.join(" | ")
            );
        }
    }
    println!("\nThe samples' real probability per network (V2, V1SE):\n");
    for (file, live, [v2, v1se]) in samples {
        println!(
            "- {file} ({}): {:.3}, {:.3}",
            if *live { "live" } else { "fake" },
            v2[REAL_CLASS],
            v1se[REAL_CLASS]
        );
    }
}
