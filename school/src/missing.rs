//! Where every child is, lesson by lesson (issue 70): the school's rules for a pupil missing
//! from a lesson and a register not taken. The hub's leader runs [`watch::pass`] every
//! minute and tells people what it raised; the Missing now page reads [`watch::board`].
//!
//! 1. A pupil is *in school* once something put them there today: a door (a gate, a
//!    classroom's) or a class photo saw them, or they were marked present or late in a lesson
//!    started by now; unless a door facing out saw them leave after the last of those.
//! 2. A pupil in school is *missing* from a lesson that started `missing_after_minutes` ago
//!    (10 by default) and has not ended, when its register does not have them there: not
//!    marked, or marked absent by hand. A pupil with a reason (an excused or not-required
//!    mark; a family's reason the office accepted becomes one) is not missing, nor is one
//!    marked there in another lesson at the same time (timetabled in two at once).
//! 3. Each pupil is alerted of once per lesson. The alert ends when they are marked there
//!    (*found*, with the time a door saw them, or of the teacher's mark), given a reason,
//!    seen leaving, when the lesson ends, or when it is taken off the timetable.
//! 4. A register is *not taken* while, `missing_after_minutes` after the lesson started and
//!    until it is written, it has cards to decide or (while the lesson runs) pupils unmarked.
//!    Its teacher is reminded once.
//!
//! The rule is pure in [`rule`]; [`watch`] reads the day and keeps what the rule says in
//! `rollcall_store::missing`.

pub mod rule;
pub mod watch;

#[cfg(test)]
mod tests;
