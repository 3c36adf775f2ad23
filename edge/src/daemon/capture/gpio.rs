//! The GPIO trigger (a PIR sensor or a button) through rppal. The interrupt callback runs on
//! rppal's thread and only does a non-blocking `try_send` (see [`TriggerTx::fire`]); drops
//! are counted there.

use rppal::gpio::{Gpio, Trigger as Level};

use super::trigger::{Trigger, TriggerError, TriggerGuard, TriggerKind, TriggerTx};
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
        let level = match c.edge {
            Edge::Rising => Level::RisingEdge,
            Edge::Falling => Level::FallingEdge,
            Edge::Both => Level::Both,
        };
        pin.set_async_interrupt(level, Some(c.debounce), move |_event| {
            tx.fire(TriggerKind::Gpio);
        })
        .map_err(err)?;
        Ok(TriggerGuard::Held(Box::new(pin)))
    }
}
