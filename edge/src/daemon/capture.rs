//! Capture: what starts a burst and where its frames come from. The triggers ([`trigger`]'s
//! interval, the [`socket`] for `rollcall-edge trigger`, `gpio` for a sensor or button) feed
//! one small bounded channel; the frame sources ([`camera`]'s replay, [`camera_rpicam`] with
//! its [`mjpeg`] splitter, `camera_v4l`) hand the pipeline thread decoded frames.
//!
//! It must not recognise, decide, write SQLite or talk to the network, and it never writes an
//! image to disk: frames stay in memory.

pub mod camera;
pub mod camera_rpicam;
#[cfg(feature = "camera")]
pub mod camera_v4l;
#[cfg(feature = "gpio")]
pub mod gpio;
pub mod mjpeg;
pub mod socket;
pub mod trigger;
