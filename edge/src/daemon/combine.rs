//! Combining the faces of one burst into people. Pure.
//!
//! The same person appears in several frames of a burst; two people may stand side by side.
//! Faces are taken clear ones first (those the quality gate passed), best quality first; each
//! joins the closest person (by embedding distance
//! to that person's quality-weighted mean) that has no face from the same frame yet, if the
//! distance is within `join` — or within `join · 1.25` when the boxes overlap (IoU ≥ 0.3),
//! since a face that barely moved is almost surely the same person. Otherwise it starts a
//! new person. A frame never contributes two faces to one person, so two people are never
//! merged because they stood together, and one person yields one combined embedding: the mean
//! of their clear faces, or of every face when none was clear.

use rollcall_shared::{EMBEDDING_DIM, Embedding};

/// Boxes overlapping at least this much (IoU) count as the same place.
const SAME_PLACE_IOU: f32 = 0.3;
/// How much looser the distance bound is for faces in the same place.
const SAME_PLACE_SLACK: f32 = 1.25;

/// One face of the burst, embedded.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Whether the quality gate passed it; a face it turned away (turned, blurred) still says
    /// who was there.
    pub clear: bool,
    /// Index of the frame within the burst.
    pub frame: usize,
    /// `[x1, y1, x2, y2]` in frame pixels.
    pub bbox: [f32; 4],
    /// Evidence weight (positive): better faces count more.
    pub weight: f32,
    pub embedding: Embedding,
}

/// One person seen in the burst.
#[derive(Debug, Clone)]
pub struct Person {
    /// Indices into the observations, clear ones first, best first.
    pub members: Vec<usize>,
    /// Quality-weighted mean embedding of the clear faces, or of all when none is clear.
    pub embedding: Embedding,
    sum: [f32; EMBEDDING_DIM],
    total_weight: f32,
    /// Whether the embedding is the clear faces' (a clear face came first).
    clear: bool,
}

impl Person {
    fn new(i: usize, o: &Observation) -> Self {
        let mut p = Self {
            members: Vec::new(),
            embedding: o.embedding,
            sum: [0.0; EMBEDDING_DIM],
            total_weight: 0.0,
            clear: o.clear,
        };
        p.add(i, o);
        p
    }

    fn add(&mut self, i: usize, o: &Observation) {
        self.members.push(i);
        if self.clear && !o.clear {
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

    /// The best observation (the clearest, highest weight).
    pub fn best(&self) -> usize {
        self.members[0]
    }

    /// Whether any of the person's faces passed the quality gate.
    pub fn seen_clearly(&self) -> bool {
        self.clear
    }
}

/// Groups `faces` into people; see the module docs.
pub fn combine(faces: &[Observation], join: f32) -> Vec<Person> {
    let mut order: Vec<usize> = (0..faces.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |o: &Observation| (o.clear, o.weight);
        let ((ca, wa), (cb, wb)) = (key(&faces[a]), key(&faces[b]));
        cb.cmp(&ca).then(wb.total_cmp(&wa))
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

/// Intersection over union of two boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(frame: usize, x: f32, value: f32, weight: f32) -> Observation {
        let mut embedding = Embedding::ZERO;
        embedding[0] = value;
        Observation {
            clear: true,
            frame,
            bbox: [x, 0.0, x + 100.0, 100.0],
            weight,
            embedding,
        }
    }

    #[test]
    fn one_person_over_three_frames_is_one_person() {
        let faces = [
            face(0, 0.0, 0.0, 1.0),
            face(1, 5.0, 0.1, 3.0),
            face(2, 10.0, 0.05, 2.0),
        ];
        let people = combine(&faces, 0.5);
        assert_eq!(people.len(), 1);
        assert_eq!(people[0].members, [1, 2, 0], "best first");
        let expected = (0.0 * 1.0 + 0.1 * 3.0 + 0.05 * 2.0) / 6.0;
        assert!((people[0].embedding[0] - expected).abs() < 1e-6);
    }

    #[test]
    fn a_person_is_their_clear_faces_and_a_blurred_one_only_joins_them() {
        let blurred = Observation {
            clear: false,
            ..face(1, 5.0, 0.3, 9.0)
        };
        let faces = [
            face(0, 0.0, 0.0, 1.0),
            blurred.clone(),
            face(2, 10.0, 0.1, 1.0),
        ];
        let people = combine(&faces, 0.5);
        assert_eq!(people.len(), 1);
        assert_eq!(people[0].members, [0, 2, 1], "clear faces first");
        assert!(people[0].seen_clearly());
        assert!(
            (people[0].embedding[0] - 0.05).abs() < 1e-6,
            "the clear faces' mean"
        );

        let alone = combine(std::slice::from_ref(&blurred), 0.5);
        assert!(!alone[0].seen_clearly());
        assert!((alone[0].embedding[0] - 0.3).abs() < 1e-6);
    }

    #[test]
    fn two_people_side_by_side_stay_two_even_if_alike() {
        let faces = [
            face(0, 0.0, 0.0, 1.0),
            face(0, 300.0, 0.2, 1.0),
            face(1, 2.0, 0.01, 1.0),
            face(1, 302.0, 0.21, 1.0),
        ];
        let people = combine(&faces, 0.5);
        assert_eq!(people.len(), 2);
        for p in &people {
            let frames: Vec<usize> = p.members.iter().map(|&m| faces[m].frame).collect();
            assert!(frames.contains(&0) && frames.contains(&1), "{frames:?}");
            let xs: Vec<f32> = p.members.iter().map(|&m| faces[m].bbox[0]).collect();
            assert!(
                (xs[0] - xs[1]).abs() < 10.0,
                "faces joined by place: {xs:?}"
            );
        }
    }

    #[test]
    fn strangers_far_apart_are_separate_and_overlap_loosens_the_bound() {
        let faces = [face(0, 0.0, 0.0, 1.0), face(1, 500.0, 0.9, 1.0)];
        assert_eq!(combine(&faces, 0.5).len(), 2);
        let faces = [face(0, 0.0, 0.0, 1.0), face(1, 3.0, 0.6, 1.0)];
        assert_eq!(
            combine(&faces, 0.5).len(),
            1,
            "same place, within 1.25 × join"
        );
        assert!((iou(&faces[0].bbox, &faces[1].bbox) - 0.942).abs() < 0.01);
    }
}
