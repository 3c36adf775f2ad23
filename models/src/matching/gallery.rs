//! The in-memory [`Gallery`] and its search: a contiguous row-major matrix of embeddings,
//! grouped per student, plus one centroid per student; the best `k` **distinct** students by
//! Euclidean distance. Editing it is `edit.rs`, the arithmetic `kernel.rs`.

use std::collections::HashMap;
use std::hash::Hash;

use rollcall_shared::Embedding;
use serde::{Deserialize, Serialize};

use super::kernel;

/// Errors from building or querying a gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// An embedding or query holds NaN or infinity: the embedder failed, discard the face.
    #[error("embedding contains NaN or infinite values")]
    NonFinite,
    /// Thresholds are inconsistent; fix the configuration.
    #[error("invalid thresholds: {0}")]
    InvalidThresholds(&'static str),
}

/// How a student's distance is derived from their enrolled embeddings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// Minimum distance over the student's embeddings: robust when enrolment photos differ
    /// (glasses on/off, lighting), costs one distance per embedding.
    #[default]
    Nearest,
    /// Distance to the mean of the student's embeddings: one distance per student and less
    /// sensitive to one bad enrolment photo. Averaging shrinks noise, so distances run lower
    /// than in `Nearest` mode: calibrate thresholds per mode.
    Centroid,
}

/// One candidate student and their Euclidean distance to the query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Match<Id> {
    /// The student.
    pub id: Id,
    /// Euclidean distance (not squared).
    pub distance: f32,
}

/// A student's block of rows in the matrix.
#[derive(Debug, Clone, Copy)]
pub(super) struct Student<Id> {
    pub(super) id: Id,
    pub(super) start: usize,
    pub(super) len: usize,
}

/// Enrolled embeddings of many students, searchable by distance.
#[derive(Debug, Clone)]
pub struct Gallery<Id> {
    /// All embeddings, row-major, each student's rows contiguous and in `students` order.
    pub(super) rows: Vec<Embedding>,
    pub(super) students: Vec<Student<Id>>,
    /// Mean embedding per student, same order as `students`.
    pub(super) centroids: Vec<Embedding>,
    pub(super) index: HashMap<Id, usize>,
}

impl<Id> Default for Gallery<Id> {
    fn default() -> Self {
        Gallery {
            rows: Vec::new(),
            students: Vec::new(),
            centroids: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<Id: Copy + Eq + Hash> Gallery<Id> {
    /// The `k` nearest distinct students, closest first.
    pub fn search(
        &self,
        query: &Embedding,
        k: usize,
        mode: MatchMode,
    ) -> Result<Vec<Match<Id>>, MatchError> {
        check_finite(query)?;
        Ok(self.scan(query, k, mode, |_| true))
    }

    /// Like [`Gallery::search`], but only over students for which `allowed` is true (for
    /// example those timetabled in the room). Skipped students cost no distance computation.
    pub fn search_among(
        &self,
        query: &Embedding,
        k: usize,
        mode: MatchMode,
        allowed: impl Fn(&Id) -> bool,
    ) -> Result<Vec<Match<Id>>, MatchError> {
        check_finite(query)?;
        Ok(self.scan(query, k, mode, |s| allowed(&s.id)))
    }

    fn scan(
        &self,
        query: &Embedding,
        k: usize,
        mode: MatchMode,
        keep: impl Fn(&Student<Id>) -> bool,
    ) -> Vec<Match<Id>> {
        let candidates = self
            .students
            .iter()
            .enumerate()
            .filter(|(_, s)| keep(s))
            .map(|(i, s)| (self.squared_distance(query, i, s, mode), i as u32));
        kernel::best_k(candidates, k)
            .into_iter()
            .map(|(d2, i)| Match {
                id: self.students[i as usize].id,
                distance: d2.sqrt(),
            })
            .collect()
    }

    #[inline]
    fn squared_distance(
        &self,
        query: &Embedding,
        i: usize,
        s: &Student<Id>,
        mode: MatchMode,
    ) -> f32 {
        match mode {
            MatchMode::Nearest => kernel::nearest(query, &self.rows[s.start..s.start + s.len]),
            MatchMode::Centroid => kernel::squared_distance(query, &self.centroids[i]),
        }
    }
}

pub(super) fn check_finite(embedding: &Embedding) -> Result<(), MatchError> {
    if embedding.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(MatchError::NonFinite)
    }
}
