//! The rules a config must obey beyond its types. Every broken rule is reported at once.

use std::time::Duration;

use rollcall_models::pipeline::model_id;
use rollcall_runtime::{ConfigError, Settings};
use rollcall_shared::record::validate_room;

use super::schema::{BrokerConfig, CameraConfig, EdgeConfig, RpicamConfig};
use super::url::BrokerUrl;

/// The highest GPIO number on a Raspberry Pi's header (BCM numbering).
const MAX_GPIO: u8 = 27;

/// The longest interval, cooldown or offline delay taken.
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Most frames in one burst.
pub const MAX_BURST_FRAMES: u8 = 10;

impl Settings for EdgeConfig {
    const ENV_PREFIX: &'static str = "ROLLCALL_EDGE_";

    /// Checks every rule; lists all that are broken.
    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        self.check_device(&mut problems);
        check_broker(&self.broker, &mut problems);
        self.check_capture(&mut problems);
        self.check_indicator(&mut problems);
        self.check_timings(&mut problems);
        if let Err(e) = self.matching.thresholds().validate() {
            problems.push(format!("matching: {e}"));
        }
        self.check_same_person(&mut problems);
        let model = model_id();
        if self.matching.calibrated_for != model.as_str() {
            problems.push(format!(
                "matching: the thresholds were measured for face model {:?}, but this rollcall-edge \
                 makes {model} embeddings, whose distances are on another scale: run \
                 `rollcall-edge calibrate` on your enrolment photos and update confident, \
                 uncertain, min_margin and calibrated_for (docs/ACCURACY.md)",
                self.matching.calibrated_for
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}

impl EdgeConfig {
    fn check_device(&self, problems: &mut Vec<String>) {
        if self.device.id.0.is_nil() {
            problems.push("device.id must not be the nil UUID".into());
        }
        if !self.device.site.is_valid() {
            problems.push("device.site must be 1-48 characters of a-z, 0-9, '-', '_', '.'".into());
        }
        if let Err(e) = validate_room(&self.device.room) {
            problems.push(format!("device.room: {e}"));
        }
        if self.data_dir.as_os_str().is_empty() {
            problems.push("data_dir must not be empty".into());
        }
    }

    fn check_indicator(&self, problems: &mut Vec<String>) {
        let light = &self.indicator;
        let mut used: Vec<(&str, u8)> = self
            .trigger
            .gpio
            .map(|g| ("trigger.gpio", g.pin))
            .into_iter()
            .collect();
        for (name, pin) in light.pins() {
            if pin > MAX_GPIO {
                problems.push(format!(
                    "indicator.{name}: GPIO {pin} does not exist (0..={MAX_GPIO})"
                ));
            }
            if let Some((other, _)) = used.iter().find(|(_, p)| *p == pin) {
                problems.push(format!("indicator.{name}: GPIO {pin} is already {other}"));
            }
            used.push((name, pin));
        }
        let after = light.offline_after;
        if after < Duration::from_secs(10) || after > Duration::from_secs(86_400) {
            problems.push("indicator.offline_after must be 10s to 1day".into());
        }
    }

    fn check_capture(&self, problems: &mut Vec<String>) {
        let frames = self.burst.frames;
        if frames == 0 || frames > MAX_BURST_FRAMES {
            problems.push(format!("burst.frames must be 1..={MAX_BURST_FRAMES}"));
        }
        if self.burst.spacing > Duration::from_secs(2) {
            problems.push("burst.spacing must be at most 2s".into());
        }
        if self.burst.follow > Duration::from_secs(10) {
            problems.push("burst.follow must be at most 10s".into());
        }
        if let Some(keep) = self.burst.keep
            && (keep == 0 || keep > MAX_BURST_FRAMES)
        {
            problems.push(format!("burst.keep must be 1..={MAX_BURST_FRAMES}"));
        }
        match &self.camera {
            CameraConfig::Replay { fps, .. } if !(fps.is_finite() && *fps > 0.0) => {
                problems.push("camera.fps must be positive".into());
            }
            CameraConfig::Rpicam(rpicam) => check_rpicam(rpicam, problems),
            _ => {}
        }
        let t = &self.trigger;
        if t.gpio.is_none() && t.interval.is_none() && !t.manual {
            problems.push("trigger: enable at least one of gpio, interval, manual".into());
        }
        if t.interval
            .is_some_and(|i| i < Duration::from_millis(100) || i > DAY)
        {
            problems.push("trigger.interval must be from 100ms to 1 day".into());
        }
    }

    fn check_same_person(&self, problems: &mut Vec<String>) {
        let m = &self.matching;
        for (key, value) in [
            ("same_stranger", m.same_stranger),
            ("same_in_burst", m.same_in_burst),
        ] {
            if value.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                problems.push(format!(
                    "matching.{key} must be a finite, non-negative distance"
                ));
            }
        }
    }

    fn check_timings(&self, problems: &mut Vec<String>) {
        let o = &self.outbox;
        if o.retry_min.is_zero() || o.retry_min > o.retry_max {
            problems.push("outbox: need 0 < retry_min <= retry_max".into());
        }
        if o.max_bytes < 1024 * 1024 {
            problems.push("outbox.max_bytes must be at least 1 MiB".into());
        }
        if self.status.heartbeat < Duration::from_secs(1) {
            problems.push("status.heartbeat must be at least 1s".into());
        }
        // Durations the hub may set too: bounded, so no timer is ever set past the clock's end.
        if self.matching.cooldown > DAY {
            problems.push("matching.cooldown must be at most 1 day".into());
        }
        if self.indicator.offline_after > DAY {
            problems.push("indicator.offline_after must be at most 1 day".into());
        }
    }
}

fn check_broker(b: &BrokerConfig, problems: &mut Vec<String>) {
    let mut schemes = Vec::new();
    for node in b.nodes() {
        let url = match BrokerUrl::parse(node) {
            Ok(url) => url,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if !url.tls && !url.is_loopback() && !b.allow_plain_remote {
            problems.push(format!(
                "broker url {node} is plain MQTT to a remote host: use mqtts:// (or set allow_plain_remote for a lab)"
            ));
        }
        schemes.push(url.tls);
    }
    if schemes.contains(&true) && schemes.contains(&false) {
        problems
            .push("broker.url and broker.other_nodes must all be mqtts:// or all mqtt://".into());
    }
    if schemes.contains(&true) && b.ca_file.is_none() {
        problems.push("broker.ca_file is required with mqtts://".into());
    }
    if b.client_cert.is_some() != b.client_key.is_some() {
        problems.push("broker.client_cert and broker.client_key go together".into());
    }
    if b.username.is_some() && b.secrets_file.is_none() {
        problems.push("broker.username needs broker.secrets_file (holding the password)".into());
    }
    if b.reconnect_min.is_zero() || b.reconnect_min > b.reconnect_max {
        problems.push("broker: need 0 < reconnect_min <= reconnect_max".into());
    }
    if b.keep_alive < Duration::from_secs(5) {
        problems.push("broker.keep_alive must be at least 5s".into());
    }
}

fn check_rpicam(c: &RpicamConfig, problems: &mut Vec<String>) {
    if !(16..=4608).contains(&c.width) || !(16..=3456).contains(&c.height) {
        problems.push("camera.width and camera.height must be 16..=4608 and 16..=3456".into());
    }
    if !(c.fps.is_finite() && (1.0..=120.0).contains(&c.fps)) {
        problems.push("camera.fps must be 1 to 120".into());
    }
    if c.shutter
        .is_some_and(|s| s.is_zero() || s > Duration::from_secs(1))
    {
        problems.push("camera.shutter must be more than 0 and at most 1s".into());
    }
    if c.stall < Duration::from_millis(200) || c.stall > Duration::from_secs(60) {
        problems.push("camera.stall must be 200ms to 60s".into());
    }
    if c.program.as_os_str().is_empty() {
        problems.push("camera.program must name a program".into());
    }
}
