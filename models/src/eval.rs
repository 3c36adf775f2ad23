//! Measuring a face pipeline on labelled photos: the figures `rollcall-edge calibrate` prints.
//!
//! Owns the protocol, as pure functions over embeddings already computed (one [`Sample`] per
//! image, `None` where no face could be extracted). It must not read images or run networks.
//!
//! The protocol, for persons and their images in a fixed (sorted) order:
//! * **failure to extract**: images without a usable face / all images.
//! * **verification**, over every pair of extracted images: genuine pairs (same person) and
//!   impostor pairs (different persons). Accuracy at the best single threshold (all pairs, and
//!   balanced: the mean of the genuine and impostor rates); true-accept rate at false-accept
//!   rates 1e-3 and 1e-4 (threshold: the k-th smallest impostor distance, k = far · impostors).
//! * **closed-set rank-1**: each person is enrolled from their first `g` extracted images
//!   (averaged; at most all but one, so a probe remains), every other image of theirs is a
//!   probe, matched against every enrolled person. `g` = 1 and 3.
//! * **open-set identification**: every other person (even positions) is enrolled from up to
//!   three images; their other images are mated probes, every image of the others a non-mated
//!   probe. At the threshold where a fraction `fpir` of non-mated probes would be accepted, the
//!   rate of mated probes that are both accepted and named correctly.
//! * **recommended thresholds**: Confident at open-set FPIR 1e-3, Uncertain at FPIR 1e-2, each
//!   with the false-accept rate of one comparison it implies.
//! * **per grade** (the door's [`Grade`] of each probe's face): the open-set figures with the
//!   probes of one grade only (every enrolled person as above), and the grade's confident
//!   band at FPIR 1e-3: `confident` for good faces, `confident_weak` for weak ones.

pub mod doorway;

use serde::Serialize;

use crate::matching::{EMBEDDING_DIM, Embedding};
use crate::quality::Grade;

/// One photo: whose it is, its embedding if a face was extracted, and that face's grade.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub person: usize,
    pub embedding: Option<Embedding>,
    pub grade: Grade,
}

/// Everything `calibrate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub images: usize,
    pub persons: usize,
    pub failures: usize,
    pub failure_rate: f64,
    pub verification: Verification,
    pub rank1_one_photo: f64,
    pub rank1_three_photos: f64,
    pub open_set: OpenSet,
    pub recommended: Recommended,
    /// The open-set figures with the probes of each grade (good, weak) alone.
    pub by_grade: Vec<GradeOpenSet>,
}

/// [`OpenSet`] over the probes of one grade.
#[derive(Debug, Clone, Serialize)]
pub struct GradeOpenSet {
    pub grade: Grade,
    #[serde(flatten)]
    pub open_set: OpenSet,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    pub best_accuracy: f64,
    pub best_accuracy_threshold: f32,
    pub best_balanced_accuracy: f64,
    pub best_balanced_threshold: f32,
    pub tar_at_far_1e3: OperatingPoint,
    pub tar_at_far_1e4: OperatingPoint,
}

/// A rate measured at a threshold.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct OperatingPoint {
    pub threshold: f32,
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenSet {
    pub enrolled: usize,
    pub mated_probes: usize,
    pub non_mated_probes: usize,
    pub dir_at_fpir_1e2: OperatingPoint,
    pub dir_at_fpir_1e3: OperatingPoint,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommended {
    pub confident: f32,
    pub confident_far: f64,
    pub uncertain: f32,
    pub uncertain_far: f64,
    /// The weak grade's band at FPIR 1e-3, at most `confident` (`confident` when there were no
    /// weak strangers to measure it on).
    pub confident_weak: f32,
}

/// Computes the whole report. `samples` must be grouped by person in a fixed order.
pub fn evaluate(samples: &[Sample]) -> Report {
    let persons = group(samples);
    let grades = group_grades(samples);
    let failures = samples.iter().filter(|s| s.embedding.is_none()).count();
    let pairs = PairDistances::all_pairs(&persons);
    let verification = pairs.verification();
    let open_set = open_set(&persons, |_, _| true);
    let by_grade: Vec<GradeOpenSet> = [Grade::Good, Grade::Weak]
        .into_iter()
        .map(|grade| GradeOpenSet {
            grade,
            open_set: self::open_set(&persons, |p, i| grades[p][i] == grade),
        })
        .collect();
    let confident = open_set.dir_at_fpir_1e3.threshold;
    let weak = &by_grade[1].open_set;
    let confident_weak = if weak.non_mated_probes > 0 {
        weak.dir_at_fpir_1e3.threshold.min(confident)
    } else {
        confident
    };
    let recommended = Recommended {
        confident,
        confident_far: pairs.false_accept_rate(confident),
        uncertain: open_set.dir_at_fpir_1e2.threshold,
        uncertain_far: pairs.false_accept_rate(open_set.dir_at_fpir_1e2.threshold),
        confident_weak,
    };
    Report {
        images: samples.len(),
        persons: persons.len(),
        failures,
        failure_rate: ratio(failures, samples.len()),
        verification,
        rank1_one_photo: closed_set_rank1(&persons, 1),
        rank1_three_photos: closed_set_rank1(&persons, 3),
        open_set,
        recommended,
        by_grade,
    }
}

/// Extracted embeddings per person, persons in order of first appearance.
fn group(samples: &[Sample]) -> Vec<Vec<Embedding>> {
    let count = samples.iter().map(|s| s.person + 1).max().unwrap_or(0);
    let mut persons = vec![Vec::new(); count];
    for s in samples {
        if let Some(e) = s.embedding {
            persons[s.person].push(e);
        }
    }
    persons
}

/// The grades of the extracted faces, in [`group`]'s order.
fn group_grades(samples: &[Sample]) -> Vec<Vec<Grade>> {
    let count = samples.iter().map(|s| s.person + 1).max().unwrap_or(0);
    let mut persons = vec![Vec::new(); count];
    for s in samples.iter().filter(|s| s.embedding.is_some()) {
        persons[s.person].push(s.grade);
    }
    persons
}

pub use rollcall_shared::embedding::distance;

fn centroid(embeddings: &[Embedding]) -> Embedding {
    let mut c = [0.0; EMBEDDING_DIM];
    for e in embeddings {
        c.iter_mut().zip(e).for_each(|(c, v)| *c += v);
    }
    Embedding(c.map(|v| v / embeddings.len() as f32))
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Sorted genuine and impostor distances over all pairs.
struct PairDistances {
    genuine: Vec<f32>,
    impostor: Vec<f32>,
}

impl PairDistances {
    fn all_pairs(persons: &[Vec<Embedding>]) -> Self {
        let flat: Vec<(usize, &Embedding)> = persons
            .iter()
            .enumerate()
            .flat_map(|(p, es)| es.iter().map(move |e| (p, e)))
            .collect();
        let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
        for (i, (pa, a)) in flat.iter().enumerate() {
            for (pb, b) in &flat[i + 1..] {
                let d = distance(a, b);
                if pa == pb {
                    genuine.push(d)
                } else {
                    impostor.push(d)
                }
            }
        }
        genuine.sort_by(f32::total_cmp);
        impostor.sort_by(f32::total_cmp);
        Self { genuine, impostor }
    }

    fn verification(&self) -> Verification {
        let (best_accuracy, best_accuracy_threshold) = self.best_threshold(|g, i| (g + i) as f64);
        let (ng, ni) = (
            self.genuine.len().max(1) as f64,
            self.impostor.len().max(1) as f64,
        );
        let (balanced, balanced_threshold) =
            self.best_threshold(|g, i| (g as f64 / ng + i as f64 / ni) / 2.0);
        Verification {
            genuine_pairs: self.genuine.len(),
            impostor_pairs: self.impostor.len(),
            best_accuracy: best_accuracy / (ng + ni).max(1.0),
            best_accuracy_threshold,
            best_balanced_accuracy: balanced,
            best_balanced_threshold: balanced_threshold,
            tar_at_far_1e3: self.tar_at_far(1e-3),
            tar_at_far_1e4: self.tar_at_far(1e-4),
        }
    }

    /// Sweeps every threshold between distinct distances; `score(genuine accepted, impostors
    /// rejected)` is maximised. Accept means distance ≤ threshold.
    fn best_threshold(&self, score: impl Fn(usize, usize) -> f64) -> (f64, f32) {
        let mut best = (score(0, self.impostor.len()), 0.0);
        for &t in self.genuine.iter().chain(&self.impostor) {
            let g = self.genuine.partition_point(|&d| d <= t);
            let i = self.impostor.len() - self.impostor.partition_point(|&d| d <= t);
            let s = score(g, i);
            if s > best.0 {
                best = (s, t);
            }
        }
        best
    }

    fn tar_at_far(&self, far: f64) -> OperatingPoint {
        let threshold = threshold_at_rate(&self.impostor, far);
        OperatingPoint {
            threshold,
            rate: ratio(
                self.genuine.partition_point(|&d| d <= threshold),
                self.genuine.len(),
            ),
        }
    }

    fn false_accept_rate(&self, threshold: f32) -> f64 {
        ratio(
            self.impostor.partition_point(|&d| d <= threshold),
            self.impostor.len(),
        )
    }
}

/// The largest threshold accepting at most `rate` of the sorted `negatives` (accept: d ≤ t).
fn threshold_at_rate(negatives: &[f32], rate: f64) -> f32 {
    let k = (rate * negatives.len() as f64).floor() as usize;
    match (k, negatives.first()) {
        (_, None) => f32::INFINITY,
        (0, Some(&first)) => f32::from_bits(first.to_bits().saturating_sub(1)).min(first),
        (k, _) => {
            let t = negatives[k - 1];
            // Ties at t would push the rate over: step below them.
            if negatives.get(k) == Some(&t) {
                f32::from_bits(t.to_bits() - 1)
            } else {
                t
            }
        }
    }
}

/// Enrolment templates (centroid of the first `g` images, leaving at least one probe when the
/// person has two or more) and the remaining probes.
/// Probes are `(person, index among the person's embeddings, embedding)`.
fn split(persons: &[Vec<Embedding>], g: usize) -> (Vec<Embedding>, Vec<Probe>) {
    let mut templates = Vec::with_capacity(persons.len());
    let mut probes = Vec::new();
    for (p, es) in persons.iter().enumerate() {
        let n = g.min(es.len().saturating_sub(1)).max(1).min(es.len());
        templates.push(if n == 0 {
            Embedding([f32::INFINITY; EMBEDDING_DIM])
        } else {
            centroid(&es[..n])
        });
        probes.extend(es.iter().enumerate().skip(n).map(|(i, e)| (p, i, *e)));
    }
    (templates, probes)
}

fn nearest(templates: &[(usize, Embedding)], probe: &Embedding) -> (usize, f32) {
    templates
        .iter()
        .map(|(p, t)| (*p, distance(t, probe)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((usize::MAX, f32::INFINITY))
}

fn closed_set_rank1(persons: &[Vec<Embedding>], g: usize) -> f64 {
    let (templates, probes) = split(persons, g);
    let templates: Vec<(usize, Embedding)> = templates.into_iter().enumerate().collect();
    let correct = probes
        .iter()
        .filter(|(p, _, e)| nearest(&templates, e).0 == *p)
        .count();
    ratio(correct, probes.len())
}

/// One probe of [`split`]: person, index among their embeddings, embedding.
type Probe = (usize, usize, Embedding);

/// Open-set figures over the probes for which `probe(person, index)` holds.
fn open_set(persons: &[Vec<Embedding>], probe: impl Fn(usize, usize) -> bool) -> OpenSet {
    let probe = &probe;
    let (templates, mated) = split(persons, 3);
    let enrolled = |p: &usize| p.is_multiple_of(2);
    let templates: Vec<(usize, Embedding)> = templates
        .into_iter()
        .enumerate()
        .filter(|(p, _)| enrolled(p) && !persons[*p].is_empty())
        .collect();
    let mated: Vec<(usize, f32, bool)> = mated
        .iter()
        .filter(|(p, i, _)| enrolled(p) && probe(*p, *i))
        .map(|(p, _, e)| {
            let (who, d) = nearest(&templates, e);
            (*p, d, who == *p)
        })
        .collect();
    let mut non_mated: Vec<f32> = persons
        .iter()
        .enumerate()
        .filter(|(p, _)| !enrolled(p))
        .flat_map(|(p, es)| {
            let mine = es.iter().enumerate().filter(move |(i, _)| probe(p, *i));
            mine.map(|(_, e)| nearest(&templates, e).1)
        })
        .collect();
    non_mated.sort_by(f32::total_cmp);
    let dir_at = |fpir| {
        let threshold = threshold_at_rate(&non_mated, fpir);
        let hits = mated
            .iter()
            .filter(|(_, d, right)| *right && *d <= threshold)
            .count();
        OperatingPoint {
            threshold,
            rate: ratio(hits, mated.len()),
        }
    };
    OpenSet {
        enrolled: templates.len(),
        mated_probes: mated.len(),
        non_mated_probes: non_mated.len(),
        dir_at_fpir_1e2: dir_at(1e-2),
        dir_at_fpir_1e3: dir_at(1e-3),
    }
}

#[cfg(test)]
mod tests;
