//! Deliver: records from the disk to the hub. The [`outbox`] keeps each record in SQLite
//! until the hub acknowledges it, within the disk [`policy`]; the [`link`] task publishes what
//! the [`delivery`] protocol says is due over [`mqtt`], and also receives what the hub sends
//! (acks, gallery updates, the time zone, commands) and hands each to its owner.
//!
//! It must not change what a record says: it stores, sends and deletes the records decide
//! made. Only the policy sheds: thumbnails first, then an Unknown record over the budget, and
//! any record once the disk itself is short.

pub mod delivery;
pub mod link;
pub mod mqtt;
pub mod outbox;
pub mod policy;
