//! One half of the face set as a school (as `door_sim` splits it), its classes photographed
//! (`scene.rs`, cached), and each photo judged as the hub judges one.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rollcall_models::eval::doorway::Subject;
use rollcall_models::image_io::{ImageLimits, load_image};
use rollcall_models::matching::{
    EMBEDDING_DIM, Embedding, Gallery, MatchMode, PhotoFace, Thresholds, name_jointly,
};
use rollcall_models::pipeline::{DOMINANCE, FacePipeline, PipelineOptions, dominant_face};
use rollcall_models::quality::{Grade, QualityGate};
use rollcall_models::weights::ModelsDir;
use serde::{Deserialize, Serialize};

use crate::faces_cache::{Error, Photo, SeenFace};
use crate::scene::{self, Placed};
use crate::tally::{Mistake, Tally};

pub const ENROLLED: usize = 3;
pub const CLASS_SIZE: usize = 30;
/// Strangers in each photo: people enrolled nowhere, students of other classes.
pub const STRANGERS: (usize, usize) = (3, 2);

/// A portrait's face: embedding and where it is.
#[derive(Clone)]
pub struct Portrait {
    pub path: PathBuf,
    pub embedding: Embedding,
    pub subject: Subject,
}

pub struct Student {
    pub name: String,
    pub enrolled: Vec<Embedding>,
    /// The photos they appear in class photos with.
    pub later: Vec<Portrait>,
}

pub struct School {
    pub half: usize,
    pub students: Vec<Student>,
    /// People of the half enrolled nowhere, with their photos.
    pub strangers: Vec<(String, Vec<Portrait>)>,
    pub plans: Vec<Plan>,
}

/// A class photo to take: who stands where.
pub struct Plan {
    pub key: String,
    pub class: usize,
    pub placed: Vec<Placed>,
    /// Per placed person: their student index when they are of the class, else `None`.
    pub members: Vec<Option<usize>>,
    pub size: (u32, u32),
    pub seed: u64,
}

/// A photo as read: the plan's key, and every face found.
#[derive(Clone, Serialize, Deserialize)]
pub struct Shot {
    pub key: String,
    pub placed: Vec<Placed>,
    pub faces: Vec<SeenFace>,
}

pub fn portrait(p: &Photo) -> Option<Portrait> {
    let boxes: Vec<[f32; 4]> = p.faces.iter().map(|f| f.bbox).collect();
    let i = dominant_face(&boxes, p.width, p.height, DOMINANCE).ok()?;
    let face = &p.faces[i];
    Some(Portrait {
        path: p.path.clone(),
        embedding: Embedding::try_from(face.embedding.get(..EMBEDDING_DIM)?).ok()?,
        subject: Subject {
            bbox: face.bbox,
            eye_px: face.quality.inter_ocular_px,
        },
    })
}

/// Every person's portraits, by name.
pub fn people(photos: &[Photo]) -> BTreeMap<&str, Vec<Portrait>> {
    let mut people: BTreeMap<&str, Vec<Portrait>> = BTreeMap::new();
    for p in photos {
        people.entry(&p.person).or_default().extend(portrait(p));
    }
    people
}

impl School {
    pub fn new(photos: &[Photo], half: usize, shots: usize, seed: u64) -> School {
        let mut school = School {
            half,
            students: Vec::new(),
            strangers: Vec::new(),
            plans: Vec::new(),
        };
        for (name, faces) in people(photos).into_iter().skip(half).step_by(2) {
            if faces.len() > ENROLLED {
                school.students.push(Student {
                    name: name.to_string(),
                    enrolled: faces[..ENROLLED].iter().map(|f| f.embedding).collect(),
                    later: faces[ENROLLED..].to_vec(),
                });
            } else if !faces.is_empty() {
                school.strangers.push((name.to_string(), faces));
            }
        }
        for class in 0..school.classes() {
            for shot in 0..shots {
                school.plans.push(school.plan(class, shot, seed));
            }
        }
        school
    }

    pub fn students(&self) -> usize {
        self.students.len()
    }

    pub fn classes(&self) -> usize {
        self.students.len().div_ceil(CLASS_SIZE)
    }

    fn class_of(&self, class: usize) -> std::ops::Range<usize> {
        class * CLASS_SIZE..((class + 1) * CLASS_SIZE).min(self.students.len())
    }

    fn plan(&self, class: usize, shot: usize, seed: u64) -> Plan {
        let key = format!("h{}-c{class}-s{shot}-seed{seed}", self.half);
        let mut rng = Rng::new(seed ^ fnv(&key));
        let mut people: Vec<(String, PathBuf, Subject, Option<usize>)> = Vec::new();
        for s in self.class_of(class) {
            let st = &self.students[s];
            let p = &st.later[shot % st.later.len()];
            if rng.unit() >= 0.1 {
                people.push((st.name.clone(), p.path.clone(), p.subject, Some(s)));
            }
        }
        for j in 0..STRANGERS.0 {
            if self.strangers.is_empty() {
                break;
            }
            let k = (class * 7 + shot * STRANGERS.0 + j) % self.strangers.len();
            let (name, faces) = &self.strangers[k];
            let p = &faces[shot % faces.len()];
            people.push((name.clone(), p.path.clone(), p.subject, None));
        }
        for j in 1..=STRANGERS.1.min(self.classes().saturating_sub(1)) {
            let other = self.class_of((class + j) % self.classes());
            let s = other.start + (shot + j) % other.len();
            let st = &self.students[s];
            let p = &st.later[shot % st.later.len()];
            people.push((st.name.clone(), p.path.clone(), p.subject, None));
        }
        for i in (1..people.len()).rev() {
            people.swap(i, (rng.next() % (i as u64 + 1)) as usize);
        }
        let rows = 4 + (rng.next() % 3) as usize;
        let front_eye = 26.0 + 34.0 * rng.unit();
        let listed: Vec<_> = people
            .iter()
            .map(|(n, p, s, _)| (n.clone(), p.clone(), *s))
            .collect();
        let (placed, w, h) = scene::layout(&listed, rows, front_eye);
        Plan {
            key,
            class,
            placed,
            members: people.iter().map(|p| p.3).collect(),
            size: (w, h),
            seed: rng.next(),
        }
    }

    /// Class members and strangers placed in all photos.
    pub fn placed(&self, _shots: &[Shot]) -> (usize, usize) {
        let all = self.plans.iter().flat_map(|p| &p.members);
        let members = all.clone().filter(|m| m.is_some()).count();
        (members, all.count() - members)
    }

    pub fn gallery(&self, class: usize) -> Gallery<usize> {
        let pairs = self
            .class_of(class)
            .flat_map(|s| self.students[s].enrolled.iter().map(move |e| (s, *e)));
        Gallery::try_from_iter(pairs).unwrap_or_default()
    }

    /// Every photo judged at `t`; placed people counted when `keep` says so.
    pub fn judge(&self, shots: &[Shot], t: &Thresholds, keep: impl Fn(&Placed) -> bool) -> Tally {
        let mut tally = Tally::default();
        let by_key: HashMap<&str, &Shot> = shots.iter().map(|s| (s.key.as_str(), s)).collect();
        for plan in &self.plans {
            let Some(shot) = by_key.get(plan.key.as_str()) else {
                continue;
            };
            let verdicts = judge_faces(&shot.faces, &self.gallery(plan.class), t);
            let found = match_faces(&plan.placed, &shot.faces);
            for (i, p) in plan.placed.iter().enumerate() {
                if !keep(p) {
                    continue;
                }
                let verdict = found[i].and_then(|f| verdicts[f]);
                let named = verdict.and_then(|(d, s)| (d == Decision::Confident).then_some(s?));
                match plan.members[i] {
                    Some(student) => {
                        tally.members += 1;
                        match (found[i], verdict, named) {
                            (None, _, _) => tally.not_found += 1,
                            (Some(_), None, _) => tally.gated_out += 1,
                            (_, _, Some(s)) if s == student => tally.marked += 1,
                            (_, _, Some(s)) => {
                                tally.wrong += 1;
                                tally.mistakes.push(self.mistake(p, s, "wrong name"));
                            }
                            (_, _, None) => tally.review += 1,
                        }
                    }
                    None => {
                        tally.strangers += 1;
                        if let Some(s) = named {
                            tally.strangers_named += 1;
                            tally.mistakes.push(self.mistake(p, s, "stranger named"));
                        }
                    }
                }
            }
            tally.others_named += others_named(&found, &verdicts);
        }
        tally
    }

    /// Every photo judged against every other class of the half, where nobody in it is
    /// enrolled (but the students of that class placed as strangers): faces named wrongly,
    /// of faces judged.
    pub fn judge_elsewhere(&self, shots: &[Shot], t: &Thresholds) -> (usize, usize) {
        let by_key: HashMap<&str, &Shot> = shots.iter().map(|s| (s.key.as_str(), s)).collect();
        let (mut named, mut judged) = (0, 0);
        for plan in &self.plans {
            let Some(shot) = by_key.get(plan.key.as_str()) else {
                continue;
            };
            let found = match_faces(&plan.placed, &shot.faces);
            for other in (0..self.classes()).filter(|&c| c != plan.class) {
                let verdicts = judge_faces(&shot.faces, &self.gallery(other), t);
                for (f, v) in verdicts.iter().enumerate() {
                    let Some((decision, student)) = v else {
                        continue;
                    };
                    judged += 1;
                    let placed = found.iter().position(|&x| x == Some(f));
                    let who = placed.map(|i| plan.placed[i].person.as_str());
                    let name = student.map(|s| self.students[s].name.as_str());
                    if *decision == Decision::Confident && who != name {
                        named += 1;
                    }
                }
            }
        }
        (named, judged)
    }

    fn mistake(&self, p: &Placed, named: usize, what: &'static str) -> Mistake {
        Mistake {
            who: p.person.clone(),
            named: self.students[named].name.clone(),
            what,
            eye_px: p.eye_px,
        }
    }
}

use rollcall_models::matching::Decision;

/// Faces named Confident that are nobody placed (a bystander of a portrait).
fn others_named(found: &[Option<usize>], verdicts: &[Option<(Decision, Option<usize>)>]) -> usize {
    verdicts
        .iter()
        .enumerate()
        .filter(|(f, v)| {
            v.is_some_and(|(d, _)| d == Decision::Confident) && !found.contains(&Some(*f))
        })
        .count()
}

/// The hub's judgement of each face: `None` for an `Out` face, else the decision and the
/// student the assignment names.
pub fn judge_faces(
    faces: &[SeenFace],
    gallery: &Gallery<usize>,
    t: &Thresholds,
) -> Vec<Option<(Decision, Option<usize>)>> {
    let gate = QualityGate::door();
    let searched: Vec<Option<(Grade, Vec<_>)>> = faces
        .iter()
        .map(|f| {
            let grade = gate.grade(&f.quality);
            let e = Embedding::try_from(f.embedding.get(..EMBEDDING_DIM)?).ok()?;
            let m = gallery
                .search(&e, gallery.len(), MatchMode::Centroid)
                .ok()?;
            (grade != Grade::Out).then_some((grade, m))
        })
        .collect();
    let judged: Vec<PhotoFace<usize>> = searched
        .iter()
        .flatten()
        .map(|(grade, matches)| PhotoFace {
            grade: *grade,
            matches,
        })
        .collect();
    let mut named = name_jointly(&judged, t).into_iter();
    searched
        .iter()
        .map(|s| {
            s.as_ref()?;
            named.next().map(|n| (n.decision, n.student))
        })
        .collect()
}

/// For each placed face, the detected face nearest its centre within half its width.
pub fn match_faces(placed: &[Placed], faces: &[SeenFace]) -> Vec<Option<usize>> {
    let centre = |b: &[f32; 4]| ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    placed
        .iter()
        .map(|p| {
            let (x, y) = centre(&p.face_box);
            let reach = (p.face_box[2] - p.face_box[0]) / 2.0;
            faces
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let (fx, fy) = centre(&f.bbox);
                    (i, (fx - x).hypot(fy - y))
                })
                .filter(|(_, d)| *d <= reach)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        })
        .collect()
}

/// Every planned photo of both halves, from `cache` when it holds it with the same people in
/// the same places, else rendered, read and appended to it.
pub fn photograph(
    halves: &[School; 2],
    cache: Option<&Path>,
    _seed: u64,
) -> Result<[Vec<Shot>; 2], Error> {
    let mut known: HashMap<String, Shot> = HashMap::new();
    if let Some(file) = cache.filter(|f| f.exists()) {
        for line in std::io::BufReader::new(std::fs::File::open(file)?).lines() {
            if let Ok(s) = serde_json::from_str::<Shot>(&line?) {
                known.insert(s.key.clone(), s);
            }
        }
    }
    let todo: Vec<&Plan> = halves
        .iter()
        .flat_map(|h| &h.plans)
        .filter(|p| known.get(&p.key).is_none_or(|s| s.placed != p.placed))
        .collect();
    eprintln!("{} class photos to make and read", todo.len());
    if !todo.is_empty() {
        let pipeline = FacePipeline::load(&ModelsDir::resolve(None)?, PipelineOptions::default())?;
        let mut out = match cache {
            Some(file) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(file)?,
            ),
            None => None,
        };
        let (started, mut portraits) = (Instant::now(), HashMap::new());
        for (n, plan) in todo.iter().enumerate() {
            let mut subjects = Vec::new();
            for p in &plan.placed {
                if !portraits.contains_key(&p.photo) {
                    portraits.insert(
                        p.photo.clone(),
                        load_image(&p.photo, ImageLimits::default())?,
                    );
                }
                subjects.push((portraits[&p.photo].clone(), subject_of(halves, p)));
            }
            let image = scene::render(&plan.placed, &subjects, plan.size, plan.seed);
            let shot = Shot {
                key: plan.key.clone(),
                placed: plan.placed.clone(),
                faces: scene::read(&pipeline, &image)?,
            };
            if let Some(out) = &mut out {
                writeln!(out, "{}", serde_json::to_string(&shot)?)?;
            }
            eprint!(
                "\r{} of {} photos, {:.0?}",
                n + 1,
                todo.len(),
                started.elapsed()
            );
            known.insert(shot.key.clone(), shot);
        }
        eprintln!();
    }
    Ok([0, 1].map(|h| {
        halves[h]
            .plans
            .iter()
            .filter_map(|p| known.get(&p.key).cloned())
            .collect()
    }))
}

/// The subject of a placed person's portrait (as the plan found it).
fn subject_of(halves: &[School; 2], p: &Placed) -> Subject {
    halves
        .iter()
        .flat_map(|h| {
            h.students
                .iter()
                .flat_map(|s| &s.later)
                .chain(h.strangers.iter().flat_map(|s| &s.1))
        })
        .find(|q| q.path == p.photo)
        .map(|q| q.subject)
        .unwrap_or(Subject {
            bbox: [0.0; 4],
            eye_px: 1.0,
        })
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// xorshift64*, seeded: the same photos on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}
