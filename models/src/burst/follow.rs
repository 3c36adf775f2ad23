//! The whole walk-in (issue 68, point 3): how long the door follows a person, and which of
//! the frames it decides from.
//!
//! A burst of 5 frames 150 ms apart sees a child for 0.6 s, often 2–3 m away, where the face
//! is small. A child walking in is in view for 1–3 s and their face grows as they come
//! closer, so the best frames tend to come last. The door takes the burst's first frames,
//! then goes on while the trigger says someone is still there (a PIR sensor's output held),
//! up to a cap ([`Follow::another`]). Each frame is searched for faces as it comes
//! (detection, alignment, the quality gate: work the door does within the frames' spacing);
//! only the [`Follow::keep`] best frames are held ([`Best`]) and their faces embedded and
//! decided, so memory and the work left when the walk-in ends are bounded by `keep`, not by
//! how long somebody stood in the doorway.
//!
//! A frame is worth its best face ([`Worth`]): the better grade first (Good, Weak, Unclear),
//! then the larger weight (detector score × eye distance, as a person's faces are weighted);
//! a frame without a face is worth nothing. Ties keep the earlier frame.

use crate::quality::Grade;

/// How the door follows one walk-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Follow {
    /// Frames always taken: the burst.
    pub first: usize,
    /// Frames taken at most while the trigger says someone is there (at least `first`).
    pub most: usize,
    /// Frames decided from: the best of those taken.
    pub keep: usize,
}

impl Follow {
    /// Whether to take another frame after `taken` frames: always within the burst, then
    /// while `present` (whether the trigger still says someone is there; `None` from a
    /// trigger that cannot say, a button, the interval or a manual trigger) up to `most`.
    pub fn another(&self, taken: usize, present: Option<bool>) -> bool {
        taken < self.first || (taken < self.most && present == Some(true))
    }
}

/// What one frame is worth to the decision: its best face's grade and weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Worth {
    pub grade: Grade,
    pub weight: f32,
}

impl Worth {
    /// The worth of a frame whose faces have these grades and weights (`None`: no face the
    /// gate kept).
    pub fn of(faces: impl IntoIterator<Item = Worth>) -> Option<Worth> {
        faces
            .into_iter()
            .filter(|f| f.grade != Grade::Out)
            .reduce(|a, b| if b.beats(&a) { b } else { a })
    }

    /// Strictly better: a better grade, or the same grade and more weight.
    fn beats(&self, other: &Worth) -> bool {
        self.grade < other.grade || (self.grade == other.grade && self.weight > other.weight)
    }
}

/// `a` strictly better than `b`, a frame with no face being worth least.
fn better(a: Option<Worth>, b: Option<Worth>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.beats(&b),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The best frames of a walk-in so far, offered one at a time as they are taken; holds at
/// most `keep`.
#[derive(Debug)]
pub struct Best<T> {
    keep: usize,
    offered: usize,
    held: Vec<Held<T>>,
}

#[derive(Debug)]
struct Held<T> {
    index: usize,
    worth: Option<Worth>,
    frame: T,
}

impl<T> Best<T> {
    /// Holds up to `keep` frames (at least one).
    pub fn new(keep: usize) -> Self {
        let keep = keep.max(1);
        Best {
            keep,
            offered: 0,
            held: Vec::with_capacity(keep + 1),
        }
    }

    /// Offers the next frame taken; it is held if it is among the best `keep` so far, and
    /// the worst held (the latest of equals) is let go to make room. Returns the frame let
    /// go, if any.
    pub fn offer(&mut self, worth: Option<Worth>, frame: T) -> Option<T> {
        let index = self.offered;
        self.offered += 1;
        self.held.push(Held {
            index,
            worth,
            frame,
        });
        if self.held.len() <= self.keep {
            return None;
        }
        let worst = (0..self.held.len())
            .reduce(|w, i| {
                let (hw, hi) = (&self.held[w], &self.held[i]);
                // `i` is later than `w`: it goes unless it is strictly better.
                if better(hw.worth, hi.worth) || !better(hi.worth, hw.worth) {
                    i
                } else {
                    w
                }
            })
            .unwrap_or(0);
        Some(self.held.remove(worst).frame)
    }

    /// Frames offered so far.
    pub fn offered(&self) -> usize {
        self.offered
    }

    /// The frames kept, each with its index among those offered, in the order taken.
    pub fn kept(self) -> Vec<(usize, T)> {
        self.held.into_iter().map(|h| (h.index, h.frame)).collect()
    }
}

#[cfg(test)]
mod tests;
