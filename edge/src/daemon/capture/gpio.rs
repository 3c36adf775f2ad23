//! The GPIO trigger (a PIR sensor or a button) through rppal. The interrupt callback runs on
//! rppal's thread and only does a non-blocking `try_send` (see [`TriggerTx::fire`]); drops
//! are counted there.
//!
//! A sensor wired for one edge (`rising`: active high, a PIR; `falling`: active low) is
//! watched on both, so its level is known: a burst starts on the active edge, and the
//! pipeline follows the walk-in while the output stays active ([`Presence::Sensor`]). With
//! `edge = "both"` every change starts a burst and nothing says whether someone is still
//! there.

use rppal::gpio::{Event, Gpio, Level, Trigger as Edges};
use tokio::sync::watch;

use super::trigger::{Presence, Trigger, TriggerError, TriggerGuard, TriggerKind, TriggerTx};
use crate::config::{Edge, GpioConfig, Pull};
use crate::daemon::shutdown::Shutdown;

/// Listens for edges on one pin.
#[derive(Debug, Clone, Copy)]
pub struct GpioTrigger {
    pub config: GpioConfig,
}

impl Trigger for GpioTrigger {
    fn start(
        self: Box<Self>,
        tx: TriggerTx,
        _shutdown: Shutdown,
    ) -> Result<TriggerGuard, TriggerError> {
        let c = self.config;
        let err = |e: rppal::gpio::Error| TriggerError::Gpio(format!("pin {}: {e}", c.pin));
        let pin = Gpio::new().map_err(err)?.get(c.pin).map_err(err)?;
        let mut pin = match c.pull {
            Pull::None => pin.into_input(),
            Pull::Up => pin.into_input_pullup(),
            Pull::Down => pin.into_input_pulldown(),
        };
        let active = match c.edge {
            Edge::Rising => Some(Edges::RisingEdge),
            Edge::Falling => Some(Edges::FallingEdge),
            Edge::Both => None,
        };
        let held = match active {
            Some(Edges::FallingEdge) => Level::Low,
            _ => Level::High,
        };
        let (level, seen) = watch::channel(active.is_some() && pin.read() == held);
        let on_edge = move |event: Event| match active {
            None => {
                tx.fire(TriggerKind::Gpio);
            }
            Some(edge) => {
                let someone = event.trigger == edge;
                level.send_replace(someone);
                if someone {
                    tx.fire_with(TriggerKind::Gpio, Presence::Sensor(seen.clone()));
                }
            }
        };
        pin.set_async_interrupt(Edges::Both, Some(c.debounce), on_edge)
            .map_err(err)?;
        Ok(TriggerGuard::Held(Box::new(pin)))
    }
}
