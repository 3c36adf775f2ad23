//! `rollcall-store`: the school's database. SQLite in the hub's data directory (opened the
//! way [`rollcall_runtime::sqlite`] opens both daemons' files), or PostgreSQL for a district
//! of hubs (`[store] url`): both engines, their migrations, and the SQL of every part of the
//! data model, written once against [`Sql`].
//!
//! From the ground up: `error` ([`StoreError`]) and `keyring` (the face keys each transaction
//! seals with); `sql` (the [`Sql`] face both engines present, and its vocabulary of values
//! and parameters) and `migrations` (SQLite's schema); `columns` (ids, sealed faces and
//! templates read and written) and `postgres` (the PostgreSQL engine and its schema); `db`
//! (the [`Db`] handle that opens an engine and runs work on it); then one module per part of
//! the data model, and the tests' `engines` and `fixtures`. This file only declares them and
//! names what the hub uses; inside the store each module imports a name from the file that
//! defines it.
//!
//! Architecture invariants:
//! - The store knows SQL, not the school: it never imports the school's rules
//!   (`rollcall-school`), the hub, HTTP, MQTT or the face models. A rule (who counts as
//!   present, when a record is accepted) is a parameter its caller passes, never decided here.
//! - Every function takes a `&dyn Sql`, one transaction's view: the caller opens the
//!   transaction ([`Db::read`], [`Db::write`]), so a request's work commits or fails whole.
//! - SQL is written once for both engines; where they differ a function asks
//!   [`Sql::dialect`]. Both migration lists end in the same tables, columns and constraints
//!   (tested).
//! - Faces (embeddings, crops, templates, galleries) are sealed before they are written and
//!   unsealed only through `columns`, with the key of the transaction's school.

pub mod activities;
pub mod audit;
pub mod backup_file;
pub mod cluster;
mod columns;
pub mod consent;
mod db;
pub mod devices;
pub mod digests;
#[cfg(any(test, feature = "fixtures"))]
pub mod engines;
mod error;
pub mod export;
pub mod faces;
pub mod family_messages;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod gallery;
pub mod guardians;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod invitations;
mod keyring;
pub mod keys;
pub mod marks;
mod migrations;
pub mod mis;
pub mod missing;
pub mod notices;
pub mod postgres;
pub mod provisioning;
pub mod quarantine;
pub mod records;
pub mod register;
pub mod roll_calls;
pub mod school;
pub mod sightings;
pub mod sign_outs;
pub mod signins;
pub mod sql;
pub mod staff;
pub mod staff_faces;
pub mod strangers;
pub mod subject_access;
pub mod timetable;
pub mod unit_settings;
pub mod users;
pub mod visitors;
pub mod webhooks;

pub use columns::{open_embedding, seal_embedding, unseal};
pub use db::{DATABASE_FILE, Db};
pub use error::StoreError;
#[cfg(any(test, feature = "fixtures"))]
pub use fixtures::{memory, register_device, register_device_in, sample_record};
pub use migrations::schema_version;
pub use sql::{Dialect, Row, Rows, Sql};
