//! Decide: one walk-in becomes attendance records. [`walk`] takes its frames (the burst, then
//! on while the trigger says someone is there) and keeps the best; [`people`] embeds their
//! faces with the [`recognizer`], matches them against the [`gallery`] (narrowed by the timetable), decides,
//! has the [`liveness`] judge look at each face it would mark, applies the [`cooldown`] and
//! builds each [`record`].
//!
//! Synchronous, on the pipeline thread. It must not write SQLite, talk to the network or
//! change the gallery: the worker hands its records to the outbox, and the gallery it reads
//! is swapped whole by the link.

pub mod cooldown;
pub mod gallery;
pub mod liveness;
pub mod people;
pub mod recognizer;
pub mod record;
pub mod tuning;
pub mod walk;
