//! `rollcall-hub`: the school server. It owns the enrolled gallery, ingests attendance records
//! from door units over MQTT, keeps the timetable, review queue and marks, and serves the JSON
//! API teachers and admins use.
//!
//! [`run`] wires the parts together from injected pieces (configuration, HTTP listener, clock,
//! shutdown future); `main.rs` only parses the command line and calls it.
//!
//! Architecture invariants:
//! - SQL lives in `rollcall-store`; the hub decides, the store keeps (a rule reaches the store
//!   as a parameter, never the other way round).
//! - Every input from outside (request, MQTT record, file, config) is checked where it enters,
//!   with a clear error; nothing from outside reaches a panic.
//! - A record is acknowledged only once it is committed; the same record twice is stored once.

pub mod access;
pub mod accounts;
pub mod analytics;
mod at_risk;
pub mod attendance;
pub mod auth;
pub mod backup;
pub mod broker;
pub mod class_photo;
pub mod cli;
pub mod clip;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod consent;
pub mod csv;
pub mod demo;
pub mod device_ca;
mod digests;
pub mod district;
pub mod email;
pub mod enrol;
pub mod export;
pub mod face_keys;
pub mod gallery;
pub mod http;
pub mod http_state;
pub mod ingest;
pub mod learn;
pub mod marks;
pub mod notify;
pub mod on_site;
pub mod open_files;
pub mod privacy;
pub mod prometheus;
pub mod provisioning;
pub mod register;
pub mod reports;
pub mod retention;
pub mod review;
pub mod roll_call;
pub mod roster_import;
mod server;
pub mod session_rosters;
pub mod setup;
pub mod strangers;
pub mod subject_access;
pub mod timings;
pub mod unit_settings;
pub mod web;

pub use server::{Listeners, RunError, run, run_on};
