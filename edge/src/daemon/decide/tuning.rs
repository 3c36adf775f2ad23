//! How the pipeline decides, as one value: the burst's [`Settings`] (origin, quality gate,
//! thresholds, mode), how a walk-in's frames are taken and kept, and the cooldown. Built from
//! `edge.toml` with the hub's settings laid over it; the worker reads it afresh at each burst,
//! so settings from the hub take effect from the next one.

use std::time::Duration;

use rollcall_models::burst::follow::Follow;
use rollcall_shared::ModelId;

use super::people::Settings;
use super::record::RecordOrigin;
use crate::config::EdgeConfig;

/// How the pipeline works: from `edge.toml`, with the hub's settings laid over it.
#[derive(Clone, Debug)]
pub struct Tuning {
    pub settings: Settings,
    /// How a walk-in is followed and which of its frames are kept (`[burst]`).
    pub walk: Follow,
    pub spacing: Duration,
    /// The cooldown's period, and its bound for "the same stranger".
    pub cooldown: (Duration, f32),
    /// Whether the faces the door would mark are judged for liveness (`[liveness] enabled`).
    pub liveness: bool,
}

impl Tuning {
    pub fn of(config: &EdgeConfig, model: ModelId) -> Tuning {
        Tuning {
            settings: Settings {
                origin: RecordOrigin {
                    device: config.device.id,
                    room: config.device.room.clone(),
                    direction: config.device.direction,
                    model,
                },
                gate: config.quality,
                thresholds: config.matching.thresholds(),
                same_in_burst: config.matching.same_in_burst(),
                mode: config.matching.mode,
                thumbnails: config.matching.thumbnails,
            },
            walk: config.burst.walk(),
            spacing: config.burst.spacing,
            cooldown: (config.matching.cooldown, config.matching.same_stranger()),
            liveness: config.liveness.enabled,
        }
    }
}
