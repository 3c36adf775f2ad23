//! 1:N matching of a 128-D dlib descriptor against a gallery of enrolled students, and the
//! accept / ask / reject decision on the result.
//!
//! Owns: the in-memory [`Gallery`] (a contiguous row-major matrix of embeddings, grouped per
//! student, plus one centroid per student), search by Euclidean distance returning the best
//! `k` **distinct** students, and [`decide`]. It must not load or persist galleries, nor pick
//! thresholds: those are calibrated on data and come from configuration.
//!
//! Cost: a search streams every candidate row once (512 bytes each) with a vectorised squared
//! distance, keeps a partial top-k, and takes square roots of the `k` winners only. Enrolment
//! changes (`add`, `remove`) are O(gallery size): they happen rarely, searches constantly.

mod assignment;
mod closed_set;
mod decision;
mod edit;
mod gallery;
mod hungarian;
mod kernel;

pub use assignment::{Named, PhotoFace, name_jointly};
pub use closed_set::{Card, name_among_unmarked, suggest};
pub use decision::{
    CALIBRATED_SEARCH, Decision, NARROWING_PER_DOUBLING, Thresholds, decide, decide_matches,
};
pub use gallery::{Gallery, Match, MatchError, MatchMode};

pub use rollcall_shared::{EMBEDDING_DIM, Embedding};

#[cfg(test)]
mod tests;
