//! The people of one half of the face set as a school, exactly as `door_sim` splits them:
//! sorted by name, every other person (even = calibration, odd = held out); whoever has more
//! than `ENROLLED` photos with a face is a student enrolled from their first `ENROLLED`
//! (clean, the enrolment rule's face) and walks in with the next one; everyone else is a
//! stranger who walks past with their first photo. Classes of `CLASS_SIZE` in name order.
//! On later days ([`School::later`]) everybody comes again with their next photo, if they
//! have one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rollcall_models::eval::doorway::Subject;
use rollcall_models::learning::surplus;
use rollcall_models::matching::{EMBEDDING_DIM, Embedding, Gallery, Match, MatchMode};
use rollcall_models::pipeline::{DOMINANCE, dominant_face};

use crate::faces_cache::Photo;

pub const ENROLLED: usize = 3;
pub const CLASS_SIZE: usize = 30;

/// Somebody walking in.
#[derive(Clone)]
pub struct Arrival {
    pub person: String,
    pub photo: PathBuf,
    /// Where their face is in the photo (the clean detection).
    pub subject: Subject,
    /// Their index among the students, if enrolled.
    pub student: Option<usize>,
    /// The class whose door they walk through.
    pub class: usize,
}

#[derive(Clone)]
pub struct School {
    pub names: Vec<String>,
    pub templates: Vec<Vec<Embedding>>,
    /// How many of each student's templates are enrolment faces (they always stay; the rest
    /// were learned).
    pub enrolment_faces: Vec<usize>,
    /// Each student's enrolment photos and where the face is in each.
    pub enrolment: Vec<Vec<(PathBuf, Subject)>>,
    pub gallery: Gallery<usize>,
    /// Day 1's arrivals.
    pub arrivals: Vec<Arrival>,
    /// Day 2's, day 3's, … arrivals, up to the `days` asked for.
    pub later: Vec<Vec<Arrival>>,
    /// How many students the door searches: the arrival's class, then the classes after it
    /// (wrapping round), up to this many; [`CLASS_SIZE`] unless a size is asked for.
    pub searched: usize,
}

/// One photo's face: embedding and where it is.
struct Clean<'a> {
    photo: &'a Photo,
    embedding: Embedding,
    subject: Subject,
}

fn clean(p: &Photo) -> Option<Clean<'_>> {
    let boxes: Vec<[f32; 4]> = p.faces.iter().map(|f| f.bbox).collect();
    let i = dominant_face(&boxes, p.width, p.height, DOMINANCE).ok()?;
    let face = &p.faces[i];
    Some(Clean {
        photo: p,
        embedding: Embedding::try_from(face.embedding.get(..EMBEDDING_DIM)?).ok()?,
        subject: Subject {
            bbox: face.bbox,
            eye_px: face.quality.inter_ocular_px,
        },
    })
}

impl School {
    /// Half `half` (0 or 1), at most `limit` people of it, over `days` days.
    pub fn new(photos: &[Photo], half: usize, limit: usize, days: usize) -> School {
        let mut people: BTreeMap<&str, Vec<Clean>> = BTreeMap::new();
        for p in photos {
            people.entry(&p.person).or_default().extend(clean(p));
        }
        let mut school = School {
            names: Vec::new(),
            templates: Vec::new(),
            enrolment_faces: Vec::new(),
            enrolment: Vec::new(),
            gallery: Gallery::default(),
            arrivals: Vec::new(),
            later: vec![Vec::new(); days.saturating_sub(1)],
            searched: CLASS_SIZE,
        };
        let mut strangers = Vec::new();
        for (name, faces) in people.into_iter().skip(half).step_by(2).take(limit) {
            if faces.len() > ENROLLED {
                school.enrol(name, &faces);
            } else if !faces.is_empty() {
                strangers.push((name, faces));
            }
        }
        let classes = school.names.len().div_ceil(CLASS_SIZE).max(1);
        for (i, (name, faces)) in strangers.iter().enumerate() {
            let class = i % classes;
            school.arrivals.push(arrival(name, &faces[0], None, class));
            for (day, face) in school.later.iter_mut().zip(&faces[1..]) {
                day.push(arrival(name, face, None, class));
            }
        }
        school.rebuild();
        school
    }

    fn enrol(&mut self, name: &str, faces: &[Clean]) {
        let student = self.names.len();
        self.names.push(name.to_string());
        self.templates
            .push(faces[..ENROLLED].iter().map(|f| f.embedding).collect());
        self.enrolment_faces.push(ENROLLED);
        self.enrolment.push(
            faces[..ENROLLED]
                .iter()
                .map(|f| (f.photo.path.clone(), f.subject))
                .collect(),
        );
        let class = student / CLASS_SIZE;
        self.arrivals
            .push(arrival(name, &faces[ENROLLED], Some(student), class));
        for (day, face) in self.later.iter_mut().zip(&faces[ENROLLED + 1..]) {
            day.push(arrival(name, face, Some(student), class));
        }
    }

    /// Adds `face` to `student`'s templates, dropping the oldest learned ones past the cap
    /// (`rollcall_models::learning::surplus`; the enrolment faces always stay).
    pub fn learn(&mut self, student: usize, face: Embedding) {
        let (Some(faces), Some(&kept)) = (
            self.templates.get_mut(student),
            self.enrolment_faces.get(student),
        ) else {
            return;
        };
        let drop = surplus(faces.len() - kept);
        faces.drain(kept..kept + drop);
        faces.push(face);
    }

    /// Adds `face` to `student`'s enrolment faces (a copy of an enrolment photo as the door
    /// sees it: `enrol_copies.rs`); call [`School::rebuild`] after.
    pub fn enrol_face(&mut self, student: usize, face: Embedding) {
        if let (Some(faces), Some(kept)) = (
            self.templates.get_mut(student),
            self.enrolment_faces.get_mut(student),
        ) {
            faces.insert(*kept, face);
            *kept += 1;
        }
    }

    /// Rebuilds the searchable gallery from the templates (after learning).
    pub fn rebuild(&mut self) {
        let pairs = self
            .templates
            .iter()
            .enumerate()
            .flat_map(|(i, faces)| faces.iter().map(move |f| (i, *f)));
        self.gallery = Gallery::try_from_iter(pairs).unwrap_or_default();
    }

    pub fn students(&self) -> usize {
        self.names.len()
    }

    /// The school with a door that searches `students` students for each arrival (every
    /// student when there are fewer).
    pub fn searching(&self, students: usize) -> School {
        School {
            searched: students.max(1),
            ..self.clone()
        }
    }

    /// How many students one search covers.
    pub fn searched(&self) -> usize {
        self.searched.min(self.students())
    }

    /// Whether the door at `class`'s room searches `student`: its class, and past
    /// [`CLASS_SIZE`] the students after the class's first, wrapping round, until
    /// [`School::searched`] students.
    pub fn is_searched(&self, student: usize, class: usize) -> bool {
        if student / CLASS_SIZE == class {
            return true;
        }
        let n = self.students().max(1);
        let from = (class * CLASS_SIZE) % n;
        self.searched > CLASS_SIZE && (student + n - from) % n < self.searched()
    }

    /// The two nearest students the door of `class` searches (the class the timetable
    /// expects, or more: [`School::searching`]), measured as `mode` says.
    pub fn search(&self, face: &Embedding, class: usize, mode: MatchMode) -> Vec<Match<usize>> {
        self.gallery
            .search_among(face, 2, mode, |&s| self.is_searched(s, class))
            .unwrap_or_default()
    }

    /// Distance from `face` to `student`, measured as `mode` says.
    pub fn distance_in(&self, face: &Embedding, student: usize, mode: MatchMode) -> Option<f32> {
        let found = self.gallery.search_among(face, 1, mode, |s| *s == student);
        found.ok()?.first().map(|m| m.distance)
    }

    /// Distance from `face` to `student`'s nearest template (what the hub's learning asks).
    pub fn distance_to(&self, face: &Embedding, student: usize) -> Option<f32> {
        let faces = self.templates.get(student)?;
        faces
            .iter()
            .map(|t| t.distance(face))
            .min_by(f32::total_cmp)
    }
}

fn arrival(name: &str, face: &Clean, student: Option<usize>, class: usize) -> Arrival {
    Arrival {
        person: name.to_string(),
        photo: face.photo.path.clone(),
        subject: face.subject,
        student,
        class,
    }
}
