//! One burst at the door, decided: the faces of its frames → people → a decision each. Pure:
//! the caller detects, embeds and searches; the door daemon (`rollcall-edge`) and the doorway
//! benchmark (`examples/doorway`) both decide with this, so what is measured is what runs.
//!
//! 1. **Grade** each face ([`QualityGate::grade`](crate::quality::QualityGate::grade)): `Good`,
//!    `Weak` (blurred, a doubtful detection), `Unclear` (turned or blurred past the gate:
//!    somebody is there), `Out` (left out before this module).
//! 2. **Combine** ([`combine`]): the same person appears in several frames; two people may
//!    stand side by side. Faces are taken best grade first, then by weight; each joins the
//!    closest person (by embedding distance to that person's weighted mean) that has no face
//!    from the same frame yet, if within `join`, or `join · 1.25` when the boxes overlap (IoU
//!    ≥ 0.3: a face that barely moved is almost surely the same person); else it starts a new
//!    person. A frame never gives one person two faces, so two people standing together are
//!    never merged.
//! 3. **A person's evidence** is their faces of the best grade they have: their embedding is
//!    the weighted mean of those faces (weight: detector score × eye distance), their grade
//!    that grade. Worse faces only say the person was there.
//! 4. **Decide** ([`decide`]): the distances of the person's embedding to the gallery against
//!    the band of their grade ([`Thresholds::at`]: `confident`, `confident_weak`, none for
//!    `Unclear`); a Confident person is still asked (Uncertain) unless every face of their
//!    grade, alone, has the same nearest student: one frame naming someone else is doubt
//!    enough for a teacher to look (a lookalike, two people merged).

use rollcall_shared::{EMBEDDING_DIM, Embedding};

use crate::detect::iou;
use crate::matching::{Decision, Match, Thresholds, decide_matches};
use crate::quality::Grade;

pub mod follow;

/// Boxes overlapping at least this much (IoU) count as the same place.
const SAME_PLACE_IOU: f32 = 0.3;
/// How much looser the distance bound is for faces in the same place.
const SAME_PLACE_SLACK: f32 = 1.25;

/// One face of the burst, embedded.
#[derive(Debug, Clone)]
pub struct Observation {
    /// What the face's evidence is worth (never [`Grade::Out`]: those are left out).
    pub grade: Grade,
    /// Index of the frame within the burst.
    pub frame: usize,
    /// `[x1, y1, x2, y2]` in frame pixels.
    pub bbox: [f32; 4],
    /// Evidence weight (positive): better faces count more ([`weight`]).
    pub weight: f32,
    pub embedding: Embedding,
}

/// Evidence weight of a face: detector confidence times eye distance (more pixels, more
/// detail for the embedder).
pub fn weight(detector_score: f32, inter_ocular_px: f32) -> f32 {
    (detector_score.clamp(0.0, 1.0) * inter_ocular_px).max(1e-3)
}

/// One person seen in the burst.
#[derive(Debug, Clone)]
pub struct Person {
    /// Indices into the observations, best grade first, then best weight first.
    pub members: Vec<usize>,
    /// Weighted mean embedding of the faces of [`Person::grade`] (not unit length).
    pub embedding: Embedding,
    sum: [f32; EMBEDDING_DIM],
    total_weight: f32,
    grade: Grade,
}

impl Person {
    fn new(i: usize, o: &Observation) -> Self {
        let mut p = Self {
            members: Vec::new(),
            embedding: o.embedding,
            sum: [0.0; EMBEDDING_DIM],
            total_weight: 0.0,
            grade: o.grade,
        };
        p.add(i, o);
        p
    }

    fn add(&mut self, i: usize, o: &Observation) {
        self.members.push(i);
        if o.grade != self.grade {
            return;
        }
        let w = o.weight.max(1e-6);
        for (s, v) in self.sum.iter_mut().zip(o.embedding) {
            *s += w * v;
        }
        self.total_weight += w;
        let t = self.total_weight;
        self.embedding = Embedding(self.sum.map(|s| s / t));
    }

    /// The best observation (best grade, highest weight).
    pub fn best(&self) -> usize {
        self.members[0]
    }

    /// The grade of the person's best face: what their evidence is worth.
    pub fn grade(&self) -> Grade {
        self.grade
    }

    /// Whether any of the person's faces passed the quality gate.
    pub fn seen_clearly(&self) -> bool {
        self.grade <= Grade::Weak
    }

    /// The person's faces their embedding is made of.
    pub fn evidence<'a>(&'a self, faces: &'a [Observation]) -> impl Iterator<Item = usize> + 'a {
        let grade = self.grade;
        self.members
            .iter()
            .copied()
            .filter(move |&m| faces[m].grade == grade)
    }
}

/// Groups `faces` into people (step 2 of the module docs).
pub fn combine(faces: &[Observation], join: f32) -> Vec<Person> {
    let mut order: Vec<usize> = (0..faces.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&faces[a], &faces[b]);
        fa.grade
            .cmp(&fb.grade)
            .then(fb.weight.total_cmp(&fa.weight))
    });
    let mut people: Vec<Person> = Vec::new();
    for i in order {
        match closest(&people, faces, &faces[i], join) {
            Some(p) => people[p].add(i, &faces[i]),
            None => people.push(Person::new(i, &faces[i])),
        }
    }
    people
}

fn closest(people: &[Person], faces: &[Observation], o: &Observation, join: f32) -> Option<usize> {
    let acceptable = |p: &Person| {
        if p.members.iter().any(|&m| faces[m].frame == o.frame) {
            return None;
        }
        let d = p.embedding.distance(&o.embedding);
        let same_place = p
            .members
            .iter()
            .any(|&m| iou(&faces[m].bbox, &o.bbox) >= SAME_PLACE_IOU);
        let bound = if same_place {
            join * SAME_PLACE_SLACK
        } else {
            join
        };
        (d <= bound).then_some(d)
    };
    let candidates = people
        .iter()
        .enumerate()
        .filter_map(|(i, p)| acceptable(p).map(|d| (i, d)));
    candidates
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The decision on one person, and why it is not higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    pub decision: Decision,
    /// The person's embedding was within their band, but a face of theirs, alone, had
    /// another nearest student: asked instead.
    pub disagreed: bool,
}

/// Decides on `person` (step 4 of the module docs): `matches` are the gallery's nearest
/// distinct students to the person's embedding (scaled to unit length), closest first;
/// `nearest` gives the nearest student to one face's own embedding (asked only of a person
/// who would be Confident).
pub fn decide<Id: Copy + Eq>(
    person: &Person,
    faces: &[Observation],
    matches: &[Match<Id>],
    thresholds: &Thresholds,
    nearest: impl Fn(&Embedding) -> Option<Id>,
) -> Judgement {
    let decision = decide_matches(matches, &thresholds.at(person.grade));
    let disagreed = decision == Decision::Confident
        && !person
            .evidence(faces)
            .all(|m| nearest(&faces[m].embedding) == Some(matches[0].id));
    Judgement {
        decision: if disagreed {
            Decision::Uncertain
        } else {
            decision
        },
        disagreed,
    }
}

#[cfg(test)]
mod tests;
