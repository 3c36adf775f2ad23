//! The hub's database: SQLite in the data directory (opened the way
//! [`rollcall_runtime::sqlite`] opens both daemons' files), or PostgreSQL for several hubs
//! (`[store] url`); migrating it, and running work on it off the async executor. Each
//! submodule owns the SQL of one part of the data model, written once against [`Sql`] for
//! both engines; none of them knows about HTTP or MQTT.
//!
//! From the ground up: `error` ([`StoreError`]) and `keyring` (the face keys each transaction
//! seals with); `sql` (the [`Sql`] face both back ends present) and `migrations` (SQLite's
//! schema); `columns` (ids, sealed faces and templates read and written) and `postgres` (the
//! PostgreSQL back end and its schema); `db` (the [`Db`] handle that opens an engine and runs
//! work on it); then one module per part of the data model, and the tests' `engines` and
//! `fixtures`. This file only declares them and hands the rest of the hub the names it uses;
//! inside the store each module imports a name from the file that defines it.

pub mod audit;
pub mod cluster;
mod columns;
pub mod consent;
mod db;
pub mod devices;
pub mod digests;
#[cfg(test)]
pub(crate) mod engines;
mod error;
pub mod faces;
#[cfg(test)]
mod fixtures;
pub mod gallery;
pub mod imports;
mod keyring;
pub mod keys;
pub mod marks;
mod migrations;
pub mod postgres;
pub mod provisioning;
pub mod quarantine;
pub mod records;
pub mod register;
pub mod roll_calls;
pub mod school;
pub mod sightings;
pub mod signins;
pub mod sql;
pub mod strangers;
pub mod timetable;
pub mod unit_settings;
pub mod users;

pub(crate) use columns::{open_embedding, seal_embedding, unseal};
pub use db::{DATABASE_FILE, Db};
pub use error::StoreError;
#[cfg(test)]
pub(crate) use fixtures::{memory, register_device, register_device_in, sample_record};
pub use migrations::schema_version;
pub use sql::{Dialect, Row, Rows, Sql};
