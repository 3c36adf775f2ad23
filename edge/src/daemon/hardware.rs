//! What the daemon is given from outside: camera, recognizer, trigger sources (the interval
//! trigger, which the hub's settings may change, is the daemon's own), clock, the
//! status light and the clock's synchronisation state, and an optional layer around the MQTT
//! publisher (fault injection in tests and drills).

use std::sync::Arc;

use rollcall_runtime::{Clock, SystemClock};

use super::capture::camera::{CameraError, FrameSource, ReplaySource};
use super::capture::camera_rpicam::RpicamSource;
use super::capture::socket::{ManualTrigger, socket_path};
use super::capture::trigger::{Trigger, TriggerError};
use super::decide::recognizer::Recognizer;
use super::deliver::mqtt::Publisher;
use super::light::status_light::{ClockStatus, Lamps, NoLamps, SystemClockStatus};
use crate::config::{CameraConfig, EdgeConfig, IndicatorConfig};

/// Wraps the real publisher (for example to make some publishes fail).
pub type PublisherLayer = Box<dyn FnOnce(Arc<dyn Publisher>) -> Arc<dyn Publisher> + Send>;

/// The daemon's boundaries with the world.
pub struct Hardware {
    pub camera: Box<dyn FrameSource>,
    pub recognizer: Box<dyn Recognizer>,
    pub triggers: Vec<Box<dyn Trigger>>,
    pub clock: Arc<dyn Clock>,
    pub lamps: Box<dyn Lamps>,
    pub clock_status: Box<dyn ClockStatus>,
    pub publisher_layer: Option<PublisherLayer>,
}

impl std::fmt::Debug for Hardware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hardware")
            .field("model", &self.recognizer.model_id())
            .field("triggers", &self.triggers.len())
            .finish_non_exhaustive()
    }
}

/// Why the configured hardware could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum HardwareError {
    #[error(transparent)]
    Camera(#[from] CameraError),
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    #[error("status light: {0}")]
    Light(String),
}

impl Hardware {
    /// The camera and triggers `config` asks for, around `recognizer`.
    pub fn from_config(
        config: &EdgeConfig,
        recognizer: Box<dyn Recognizer>,
    ) -> Result<Self, HardwareError> {
        Ok(Self {
            camera: camera(&config.camera)?,
            recognizer,
            triggers: triggers(config)?,
            clock: Arc::new(SystemClock),
            lamps: lamps(&config.indicator)?,
            clock_status: Box::new(SystemClockStatus),
            publisher_layer: None,
        })
    }
}

fn camera(config: &CameraConfig) -> Result<Box<dyn FrameSource>, CameraError> {
    match config {
        CameraConfig::Replay { dir, fps } => Ok(Box::new(ReplaySource::open(dir, *fps)?)),
        CameraConfig::Rpicam(rpicam) => Ok(Box::new(RpicamSource::open(rpicam)?)),
        #[cfg(feature = "camera")]
        CameraConfig::V4l {
            index,
            width,
            height,
        } => Ok(Box::new(super::capture::camera_v4l::V4lSource::open(
            *index, *width, *height,
        )?)),
        #[cfg(not(feature = "camera"))]
        CameraConfig::V4l { .. } => Err(CameraError::NotBuilt("camera")),
    }
}

fn lamps(config: &IndicatorConfig) -> Result<Box<dyn Lamps>, HardwareError> {
    if config.pins().next().is_none() {
        return Ok(Box::new(NoLamps));
    }
    #[cfg(feature = "gpio")]
    return Ok(Box::new(
        super::light::lamps_gpio::GpioLamps::open(config).map_err(HardwareError::Light)?,
    ));
    #[cfg(not(feature = "gpio"))]
    Err(HardwareError::Light(
        "this build has no gpio support (rebuild with --features gpio)".into(),
    ))
}

fn triggers(config: &EdgeConfig) -> Result<Vec<Box<dyn Trigger>>, TriggerError> {
    let t = &config.trigger;
    let mut out: Vec<Box<dyn Trigger>> = Vec::new();
    if t.manual {
        out.push(Box::new(ManualTrigger {
            path: socket_path(&config.data_dir),
        }));
    }
    if let Some(gpio) = t.gpio {
        out.push(gpio_trigger(gpio)?);
    }
    Ok(out)
}

#[cfg(feature = "gpio")]
fn gpio_trigger(gpio: crate::config::GpioConfig) -> Result<Box<dyn Trigger>, TriggerError> {
    Ok(Box::new(super::capture::gpio::GpioTrigger { config: gpio }))
}

#[cfg(not(feature = "gpio"))]
fn gpio_trigger(_: crate::config::GpioConfig) -> Result<Box<dyn Trigger>, TriggerError> {
    Err(TriggerError::NotBuilt("gpio"))
}
