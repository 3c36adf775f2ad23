//! The status light and buzzer on GPIO output pins through rppal (BCM numbering). A pin left
//! out of the config is simply not driven.

use rppal::gpio::{Gpio, OutputPin};

use super::indicator::Levels;
use super::status_light::Lamps;
use crate::config::IndicatorConfig;

/// One output pin per wired part.
#[derive(Debug)]
pub struct GpioLamps {
    green: Option<OutputPin>,
    amber: Option<OutputPin>,
    red: Option<OutputPin>,
    buzzer: Option<OutputPin>,
}

impl GpioLamps {
    /// Claims the configured pins as outputs, all low.
    pub fn open(config: &IndicatorConfig) -> Result<Self, String> {
        let gpio = Gpio::new().map_err(|e| format!("GPIO: {e}"))?;
        let pin = |number: Option<u8>| -> Result<Option<OutputPin>, String> {
            number
                .map(|n| {
                    let pin = gpio.get(n).map_err(|e| format!("pin {n}: {e}"))?;
                    Ok(pin.into_output_low())
                })
                .transpose()
        };
        Ok(Self {
            green: pin(config.green)?,
            amber: pin(config.amber)?,
            red: pin(config.red)?,
            buzzer: pin(config.buzzer)?,
        })
    }
}

impl Lamps for GpioLamps {
    fn show(&mut self, levels: Levels) -> Result<(), String> {
        for (pin, on) in [
            (&mut self.green, levels.green),
            (&mut self.amber, levels.amber),
            (&mut self.red, levels.red),
            (&mut self.buzzer, levels.buzzer),
        ] {
            if let Some(pin) = pin {
                pin.write(on.into());
            }
        }
        Ok(())
    }
}
