//! The door-unit daemon behind `rollcall-edge run`.
//!
//! [`run`] wires the parts and owns shutdown; each part lives in its own module:
//! triggers ([`trigger`], [`socket`], `gpio`) → the pipeline thread ([`worker`]: camera,
//! [`burst`] recognition, [`cooldown`]) → the SQLite [`outbox`] → the [`link`] task
//! ([`delivery`] protocol, [`mqtt`]) → the hub; gallery updates flow back through
//! [`gallery_store`] into the matcher ([`gallery`]). Hardware and network sit behind traits
//! ([`Trigger`], [`FrameSource`], [`Recognizer`], [`Publisher`], the status light's
//! [`status_light::Lamps`]) with in-tree fakes; [`indicator`] says what the light shows.

pub mod burst;
pub mod camera;
pub mod camera_rpicam;
#[cfg(feature = "camera")]
pub mod camera_v4l;
pub mod clock;
pub mod commands;
pub mod cooldown;
pub mod db;
pub mod delivery;
#[cfg(test)]
mod fixtures;
pub mod gallery;
pub mod gallery_store;
#[cfg(feature = "gpio")]
pub mod gpio;
mod hardware;
pub mod indicator;
#[cfg(feature = "gpio")]
pub mod lamps_gpio;
pub mod link;
pub mod mjpeg;
pub mod mqtt;
pub mod outbox;
pub mod policy;
pub mod recognizer;
pub mod record;
mod run;
pub mod shutdown;
pub mod socket;
pub mod status_light;
pub mod trigger;
pub mod worker;

pub use camera::{FrameSource, ReplaySource};
pub use hardware::{Hardware, PublisherLayer};
pub use mqtt::Publisher;
pub use recognizer::Recognizer;
pub use run::{DaemonError, run};
pub use trigger::Trigger;

/// File name of the daemon's SQLite database inside the data directory.
pub const DB_FILE: &str = "edge.db";
