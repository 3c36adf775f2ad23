//! The gallery as the matcher uses it: the synced [`GalleryState`] plus a searchable matrix of
//! its embeddings, and narrowing to the students timetabled in this room now. A gate's gallery
//! also holds staff ([`Enrolled::Staff`]): one search looks among both, and staff are never
//! narrowed away by the timetable.
//!
//! Only embeddings of this device's model id and dimension ever enter the matrix. Built off
//! the executor and swapped whole (an `Arc` in a watch channel), so a burst always matches
//! against one consistent version.

use std::collections::HashSet;

use rollcall_models::matching::{Embedding, Gallery, Match, MatchError, MatchMode};
use rollcall_shared::{ClassId, GalleryState, GalleryVersion, ModelId, StaffId, StudentId};

/// A local wall-clock position in the week, for the timetable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekTime {
    /// ISO weekday, 1 = Monday.
    pub weekday: u8,
    /// Minutes after local midnight.
    pub minute: u16,
}

/// Whom a row of the search belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Enrolled {
    Student(StudentId),
    Staff(StaffId),
}

/// A gallery ready to search.
#[derive(Debug)]
pub struct MatchGallery {
    pub state: GalleryState,
    matrix: Gallery<Enrolled>,
}

impl MatchGallery {
    /// Builds the search matrix (every embedding has the one length: decoding saw to it).
    pub fn new(state: GalleryState) -> Self {
        let students = state.entries.values().flat_map(|entry| {
            let student = Enrolled::Student(entry.student);
            entry.embeddings.iter().map(move |e| (student, *e))
        });
        let staff = state.staff.values().flat_map(|entry| {
            let member = Enrolled::Staff(entry.member);
            entry.embeddings.iter().map(move |e| (member, *e))
        });
        let rows = students.chain(staff);
        let matrix = Gallery::try_from_iter(rows).unwrap_or_else(|e| {
            tracing::error!("gallery holds a non-finite embedding ({e}); matching against nobody");
            Gallery::new()
        });
        Self { state, matrix }
    }

    pub fn empty(model: ModelId) -> Self {
        Self::new(GalleryState::empty(model))
    }

    pub fn version(&self) -> GalleryVersion {
        self.state.version
    }

    /// The face model its embeddings are of: the one this door unit runs.
    pub fn model(&self) -> &ModelId {
        &self.state.model
    }

    pub fn len(&self) -> usize {
        self.matrix.len()
    }

    pub fn is_empty(&self) -> bool {
        self.matrix.is_empty()
    }

    /// The `k` nearest people: the students timetabled at `when` if the timetable says who
    /// (every student if not), and every member of staff.
    pub fn search(
        &self,
        query: &Embedding,
        k: usize,
        mode: MatchMode,
        when: WeekTime,
    ) -> Result<Vec<Match<Enrolled>>, MatchError> {
        match self.timetabled(when) {
            Some(allowed) => self.matrix.search_among(query, k, mode, |who| match who {
                Enrolled::Student(s) => allowed.contains(s),
                Enrolled::Staff(_) => true,
            }),
            None => self.matrix.search(query, k, mode),
        }
    }

    /// How many people a search at `when` looks among ([`Self::search`]): the door's
    /// confident bands narrow as it grows (`Thresholds::for_searched`).
    pub fn searched(&self, when: WeekTime) -> usize {
        let students = self
            .timetabled(when)
            .map_or(self.state.entries.len(), |students| students.len());
        students + self.state.staff.len()
    }

    /// Students of the classes meeting here at `when`; `None` (everyone) when the timetable
    /// has no class then, or the classes have no enrolled students.
    pub fn timetabled(&self, when: WeekTime) -> Option<HashSet<StudentId>> {
        let classes: HashSet<ClassId> = self
            .state
            .timetable
            .iter()
            .filter(|slot| slot.covers(when.weekday, when.minute))
            .map(|slot| slot.class)
            .collect();
        if classes.is_empty() {
            return None;
        }
        let students: HashSet<StudentId> = self
            .state
            .entries
            .values()
            .filter(|e| e.classes.iter().any(|c| classes.contains(c)))
            .map(|e| e.student)
            .collect();
        (!students.is_empty()).then_some(students)
    }
}

#[cfg(test)]
mod tests {
    use rollcall_shared::{EMBEDDING_DIM, GalleryEntry, TimetableSlot};

    use super::*;

    fn entry(class: ClassId, value: f32) -> GalleryEntry {
        GalleryEntry {
            student: StudentId::random(),
            classes: vec![class],
            embeddings: vec![Embedding([value; EMBEDDING_DIM])],
        }
    }

    #[test]
    fn narrows_to_the_class_timetabled_now_and_falls_back_to_everyone() {
        let (maths, art) = (ClassId::random(), ClassId::random());
        let mut state = GalleryState::empty(ModelId::new("m").unwrap());
        let (a, b) = (entry(maths, 0.0), entry(art, 0.01));
        state.entries.insert(a.student, a.clone());
        state.entries.insert(b.student, b.clone());
        state.timetable = vec![TimetableSlot {
            class: art,
            weekday: 1,
            start_minute: 540,
            end_minute: 600,
        }];
        let g = MatchGallery::new(state);
        let query = Embedding::ZERO;
        let monday_9 = WeekTime {
            weekday: 1,
            minute: 545,
        };
        let best = g.search(&query, 1, MatchMode::Nearest, monday_9).unwrap();
        assert_eq!(
            best[0].id,
            Enrolled::Student(b.student),
            "only the art class is in the room"
        );
        assert_eq!(g.searched(monday_9), 1);
        let tuesday = WeekTime {
            weekday: 2,
            minute: 545,
        };
        let best = g.search(&query, 1, MatchMode::Nearest, tuesday).unwrap();
        assert_eq!(
            best[0].id,
            Enrolled::Student(a.student),
            "no class now: everyone"
        );
        assert_eq!(g.searched(tuesday), 2);
    }
}
