//! The hub's e-mail: the daily digest (each teacher with an address hears of the reviews
//! waiting in their classes and the students at risk in them; admins hear of the whole
//! school), and invitations to choose one's password ([`invitation`]).
//!
//! The rules are pure and tested here: [`compose`] (what a digest says, and whether it says
//! anything) and [`schedule`] (which day's digest is due, and how a failure is retried). The
//! only I/O is [`smtp`], the relay. Gathering the figures (`http::families::digest`) reuses the review
//! queue's and the at-risk report's own functions; the task that sends is `crate::digests`.

pub mod compose;
pub mod invitation;
pub mod schedule;
pub mod smtp;
