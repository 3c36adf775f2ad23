//! `rollcall-hub`: the school server. It takes attendance records from door units over MQTT
//! (`ingest`, `broker`), pushes each unit its gallery, serves the JSON API and the pages
//! teachers and admins use (`http`), runs the leader's scheduled work across several hubs on
//! one database (`cluster`, `server`), and has a command line for the school's admins
//! (`cli`, `commands`). What the school decides (marks, the register, review, consent,
//! reports) is `rollcall-school`'s; what it keeps is `rollcall-store`'s. The hub calls them.
//!
//! [`run`] wires the parts together from injected pieces (configuration, HTTP listener, clock,
//! shutdown future); `main.rs` only parses the command line and calls it.
//!
//! Must never hold: a rule of the school (it goes in `rollcall-school`, which the HTTP
//! handlers, ingest and scheduled work call), or SQL (it goes in `rollcall-store`).
//!
//! Architecture invariants:
//! - The hub serves; the school decides; the store keeps. A rule reaches the store as a
//!   parameter, never the other way round.
//! - Every input from outside (request, MQTT record, file, config) is checked where it enters,
//!   with a clear error; nothing from outside reaches a panic.
//! - A record is acknowledged only once it is committed; the same record twice is stored once.

pub mod auth;
pub mod backup;
pub mod broker;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod demo;
pub mod device_ca;
mod digests;
pub mod district;
pub mod email;
pub mod face_keys;
pub mod http;
pub mod http_state;
pub mod ingest;
pub mod mis;
pub mod missing;
pub mod notices;
pub mod notify;
pub mod open_files;
pub mod prometheus;
pub mod provisioning;
mod server;
pub mod setup;
pub mod timings;

pub use server::{Listeners, RunError, run, run_on};
