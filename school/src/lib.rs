//! `rollcall-school`: the school's rules. Who counts as present, late or absent (`attendance`,
//! `session_rosters`), closing the register (`register`), England's morning and afternoon
//! sessions made from the lessons (`statutory`), a teacher's marks (`marks`), what a
//! record from a door unit becomes when it arrives (`arrival`), review (`review`), a lesson's
//! cards named together
//! (`closed_set`), consent (`consent`), who may see what
//! (`principal`, `access`), accounts and the password rule (`accounts`), learning and
//! strangers (`learn`, `strangers`), enrolment and class photos (`enrol`, `class_photo`), each
//! door unit's gallery and settings (`gallery`, `unit_settings`), the roll call and who is on
//! site (`roll_call`, `on_site`), reports (`reports`, `analytics`), rosters from the school's
//! information system (`roster_import`), what the office keeps beyond names (`office`), the
//! privacy schedule and retention (`privacy`, `retention`), the school's data handed out
//! (`export`, `subject_access`, `csv`), and the sections of `hub.toml` these rules read
//! (`settings`), and visitors signed in at reception (`visitors`). `clip` makes outside text
//! safe to show.
//!
//! Must never import: the hub, HTTP (warp, hyper), MQTT (rumqttc) or the broker, the server's
//! tasks, the e-mail and webhook senders, or a database engine (rusqlite only in its tests).
//! The hub calls these rules from its handlers, ingest and scheduled work, and hands them what
//! they need.
//!
//! Architecture invariants:
//! - A rule decides; the store keeps. SQL is `rollcall_store`'s, and a rule reaches it through
//!   one transaction's `&dyn Sql` that its caller opened.
//! - Where a concept also has SQL or a route, the name is the same at each floor and each
//!   module's doc says which floor it is (`register` here, `rollcall_store::register`,
//!   `rollcall_hub::http::register`).
//! - What is computed from records (marks, reports, rosters) is computed in one place, so
//!   routes, the digest and webhooks count alike.
//! - Settings keep the file format: the sections here are `hub.toml`'s, with their serde
//!   names, defaults and messages.

pub mod access;
pub mod accounts;
pub mod activities;
pub mod analytics;
pub mod arrival;
pub mod attendance;
pub mod class_photo;
pub mod clip;
pub mod closed_set;
pub mod consent;
pub mod csv;
pub mod enrol;
pub mod export;
pub mod family;
pub mod family_messages;
pub mod gallery;
pub mod guardians;
pub mod learn;
pub mod marks;
pub mod mis;
pub mod missing;
pub mod notices;
pub mod office;
pub mod on_site;
pub mod principal;
pub mod privacy;
pub mod register;
pub mod reports;
pub mod retention;
pub mod review;
pub mod roll_call;
pub mod roster_import;
pub mod session_rosters;
pub mod settings;
pub mod sign_outs;
pub mod staff;
pub mod staff_faces;
pub mod statutory;
pub mod strangers;
pub mod subject_access;
pub mod table;
pub mod unit_settings;
pub mod visitors;
