//! `rollcall-edge`: the daemon that runs on a Raspberry Pi at a classroom door, and the tools
//! an admin uses on it (model fetching, checking faces in photos).
//!
//! `main.rs` only parses the command line; everything worth testing lives here.
//!
//! Architecture invariants:
//! - A record is written to SQLite before it is published, and deleted only when the hub
//!   acknowledges it: the unit works offline and a power cut loses nothing.
//! - Hardware sits behind traits (`Trigger`, the frame source), with fakes that feed real
//!   images, so the whole pipeline runs in tests.
//! - No raw frame is kept: only the crop of a face a teacher must look at, sealed.

pub mod cli;
pub mod commands;
pub mod config;
pub mod daemon;
