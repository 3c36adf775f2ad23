//! Sync: what the hub sends back and the door unit keeps across restarts, the gallery and
//! the school's time zone ([`gallery_store`]), and the settings an admin chose for the unit
//! ([`unit_settings`]). The link receives the messages; the matcher's
//! view of the gallery is [`decide::gallery`](super::decide::gallery).
//!
//! It must not touch the outbox's table or publish anything itself.

pub mod gallery_store;
pub mod unit_settings;
