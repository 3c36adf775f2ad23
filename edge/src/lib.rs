//! `rollcall-edge`: the daemon that runs on a Raspberry Pi at a classroom door, and the tools
//! an admin uses on it (model fetching, checking faces in photos).
//!
//! `main.rs` only parses the command line; everything worth testing lives here.

pub mod cli;
pub mod commands;
pub mod config;
pub mod daemon;
