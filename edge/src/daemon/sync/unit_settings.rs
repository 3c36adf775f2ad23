//! The settings an admin chose on the hub for this unit ([`UnitSettings`]): checked with
//! `edge.toml`'s own rules over the unit's `edge.toml` ([`with_hub_settings`]), kept in the
//! `unit_settings` table, put in force from the next burst (the pipeline's [`Tuning`], the
//! interval trigger, the status light) and reported to the hub ([`SettingsReport`]). Refused
//! settings leave the ones in force as they were; the report says why.

use std::time::Duration;

use rollcall_shared::unit_settings::clipped_reason;
use rollcall_shared::{DeviceId, ModelId, Refusal, SettingsReport, UnitSettings};
use tokio::sync::watch;

use super::gallery_store::GalleryStore;
use crate::config::{EdgeConfig, with_hub_settings};
use crate::daemon::db::DbError;
use crate::daemon::decide::tuning::Tuning;
use crate::daemon::light::indicator::Event;
use crate::daemon::light::status_light::LightTx;

/// The unit's settings: where they come from and where they go.
#[derive(Debug)]
pub struct Tuner {
    /// The unit's `edge.toml`, which the hub's settings lie over.
    base: EdgeConfig,
    model: ModelId,
    in_force: u64,
    refused: Option<Refusal>,
    tuning: watch::Sender<Tuning>,
    interval: watch::Sender<Option<Duration>>,
    light: LightTx,
}

/// What the unit starts with: `edge.toml` and the hub's settings it last took, when the rules
/// still take them (an `edge.toml` changed since may make them wrong: they are then refused
/// and the file alone is in force).
#[derive(Debug)]
pub struct Restored {
    pub config: EdgeConfig,
    in_force: u64,
    refused: Option<Refusal>,
}

impl Restored {
    pub fn from(base: &EdgeConfig, store: &GalleryStore) -> Result<Restored, DbError> {
        let Some(kept) = store.unit_settings()? else {
            return Ok(Restored {
                config: base.clone(),
                in_force: 0,
                refused: None,
            });
        };
        Ok(match with_hub_settings(base, &kept.toml) {
            Ok(config) => {
                tracing::info!(version = kept.version, "settings from the hub restored");
                Restored {
                    config,
                    in_force: kept.version,
                    refused: None,
                }
            }
            Err(reason) => {
                tracing::warn!(
                    version = kept.version,
                    "the hub's settings no longer apply over edge.toml: {reason}"
                );
                Restored {
                    config: base.clone(),
                    in_force: 0,
                    refused: Some(Refusal {
                        version: kept.version,
                        reason: clipped_reason(&reason),
                    }),
                }
            }
        })
    }
}

impl Tuner {
    /// The tuner of a unit that restored `restored`, and the watches it keeps: the pipeline's
    /// [`Tuning`] and the interval trigger's period, both as `restored` has them.
    pub fn new(
        base: EdgeConfig,
        model: ModelId,
        restored: &Restored,
        light: LightTx,
    ) -> (
        Tuner,
        watch::Receiver<Tuning>,
        watch::Receiver<Option<Duration>>,
    ) {
        let (tuning, tuning_rx) = watch::channel(Tuning::of(&restored.config, model.clone()));
        let (interval, interval_rx) = watch::channel(restored.config.trigger.interval);
        let tuner = Tuner {
            base,
            model,
            in_force: restored.in_force,
            refused: restored.refused.clone(),
            tuning,
            interval,
            light,
        };
        (tuner, tuning_rx, interval_rx)
    }

    /// Takes `settings` if the rules allow (kept on disk first), else notes why not.
    pub async fn take(&mut self, settings: UnitSettings, store: &GalleryStore) {
        if settings.version == self.in_force {
            self.refused = None;
            return;
        }
        let config = match with_hub_settings(&self.base, &settings.toml) {
            Ok(config) => config,
            Err(reason) => {
                tracing::warn!(
                    version = settings.version,
                    "settings from the hub refused: {reason}"
                );
                self.refused = Some(Refusal {
                    version: settings.version,
                    reason: clipped_reason(&reason),
                });
                return;
            }
        };
        let (store, kept) = (store.clone(), settings.clone());
        let saved = tokio::task::spawn_blocking(move || store.save_unit_settings(&kept)).await;
        if let Err(e) = saved
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
        {
            tracing::error!(
                version = settings.version,
                "keeping the hub's settings: {e}"
            );
            self.refused = Some(Refusal {
                version: settings.version,
                reason: clipped_reason(&format!("the unit could not keep them: {e}")),
            });
            return;
        }
        self.apply(&config);
        tracing::info!(version = settings.version, "settings from the hub in force");
        self.in_force = settings.version;
        self.refused = None;
    }

    fn apply(&self, config: &EdgeConfig) {
        self.tuning
            .send_replace(Tuning::of(config, self.model.clone()));
        self.interval.send_replace(config.trigger.interval);
        self.light.send(Event::Tune {
            lamps: config.indicator.lamps,
            offline_after: config.indicator.offline_after,
        });
    }

    /// What to tell the hub.
    pub fn report(&self, device: DeviceId) -> SettingsReport {
        SettingsReport {
            device,
            in_force: self.in_force,
            refused: self.refused.clone(),
        }
    }
}
