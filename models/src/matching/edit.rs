//! Building, editing and reading a [`Gallery`]: enrolment is rare, so every edit may move the
//! whole matrix (O(gallery size)) to keep each student's rows contiguous for the search loop.

use std::collections::HashMap;
use std::hash::Hash;

use rollcall_shared::Embedding;

use super::gallery::{Gallery, MatchError, Student, check_finite};
use super::kernel;

impl<Id: Copy + Eq + Hash> Gallery<Id> {
    /// An empty gallery.
    pub fn new() -> Self {
        Gallery::default()
    }

    /// Builds a gallery from `(student, embedding)` pairs in any order; students keep the order
    /// of their first appearance.
    pub fn try_from_iter(
        pairs: impl IntoIterator<Item = (Id, Embedding)>,
    ) -> Result<Self, MatchError> {
        let mut order: Vec<Id> = Vec::new();
        let mut grouped: HashMap<Id, Vec<Embedding>> = HashMap::new();
        for (id, embedding) in pairs {
            check_finite(&embedding)?;
            let rows = grouped.entry(id).or_insert_with(|| {
                order.push(id);
                Vec::new()
            });
            rows.push(embedding);
        }
        let mut gallery = Gallery::new();
        for id in order {
            let rows = grouped.remove(&id).unwrap_or_default();
            gallery.push_student(id, rows);
        }
        Ok(gallery)
    }

    fn push_student(&mut self, id: Id, rows: Vec<Embedding>) {
        self.index.insert(id, self.students.len());
        self.centroids.push(kernel::mean(&rows));
        let student = Student {
            id,
            start: self.rows.len(),
            len: rows.len(),
        };
        self.students.push(student);
        self.rows.extend(rows);
    }

    /// Enrols one more embedding for `id` (a new student if `id` is unknown).
    pub fn add(&mut self, id: Id, embedding: &Embedding) -> Result<(), MatchError> {
        check_finite(embedding)?;
        let Some(&i) = self.index.get(&id) else {
            self.push_student(id, vec![*embedding]);
            return Ok(());
        };
        let end = self.students[i].start + self.students[i].len;
        self.rows.insert(end, *embedding);
        self.students[i].len += 1;
        for later in &mut self.students[i + 1..] {
            later.start += 1;
        }
        self.centroids[i] = kernel::mean(self.rows_of(i));
        Ok(())
    }

    /// Removes a student and all their embeddings; returns how many embeddings went.
    pub fn remove(&mut self, id: Id) -> Option<usize> {
        let i = self.index.remove(&id)?;
        let Student { start, len, .. } = self.students.remove(i);
        self.centroids.remove(i);
        self.rows.drain(start..start + len);
        for later in &mut self.students[i..] {
            later.start -= len;
            if let Some(position) = self.index.get_mut(&later.id) {
                *position -= 1;
            }
        }
        Some(len)
    }

    fn rows_of(&self, i: usize) -> &[Embedding] {
        let s = &self.students[i];
        &self.rows[s.start..s.start + s.len]
    }

    /// Number of students.
    pub fn len(&self) -> usize {
        self.students.len()
    }

    /// True when nobody is enrolled.
    pub fn is_empty(&self) -> bool {
        self.students.is_empty()
    }

    /// Number of embeddings over all students.
    pub fn embedding_count(&self) -> usize {
        self.rows.len()
    }

    /// True when `id` is enrolled.
    pub fn contains(&self, id: &Id) -> bool {
        self.index.contains_key(id)
    }

    /// The students, in gallery order.
    pub fn ids(&self) -> impl Iterator<Item = Id> + '_ {
        self.students.iter().map(|s| s.id)
    }

    /// The enrolled embeddings of one student.
    pub fn embeddings(&self, id: &Id) -> Option<&[Embedding]> {
        self.index.get(id).map(|&i| self.rows_of(i))
    }

    /// The mean embedding of one student (used by [`super::MatchMode::Centroid`]).
    pub fn centroid(&self, id: &Id) -> Option<&Embedding> {
        self.index.get(id).map(|&i| &self.centroids[i])
    }

    /// The whole embedding matrix, row-major (`embedding_count()` rows of 128).
    pub fn matrix(&self) -> &[Embedding] {
        &self.rows
    }
}
