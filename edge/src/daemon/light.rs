//! The status light and buzzer: [`indicator`]'s pure rules turn what happened into lamp and
//! buzzer levels, [`status_light`] runs the thread that applies them through the
//! [`Lamps`](status_light::Lamps) boundary, and `lamps_gpio` drives the Pi's pins.
//!
//! The pipeline thread and the link only `try_send` it events: it must never hold them up.

pub mod indicator;
#[cfg(feature = "gpio")]
pub mod lamps_gpio;
pub mod status_light;
