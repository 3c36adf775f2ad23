//! Settings an admin chose on the hub for this unit ([`rollcall_shared::UnitSettings`]): a
//! TOML document of the `edge.toml` keys a unit takes from the hub
//! ([`rollcall_shared::unit_settings::SETTABLE`]), laid over the unit's own configuration and
//! checked with the same rules as the file. A key the unit does not take from the hub (its
//! broker, camera or pins), one it does not know, or a value the rules refuse makes the whole
//! document refused with the reason; the unit keeps what it ran with.

use std::time::Duration;

use rollcall_runtime::Settings as _;
use rollcall_shared::Direction;
use serde::Deserialize;

use super::schema::EdgeConfig;

/// What the hub may say, section by section; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FromHub {
    #[serde(default)]
    matching: Matching,
    #[serde(default)]
    burst: Burst,
    #[serde(default)]
    quality: Quality,
    #[serde(default)]
    trigger: Trigger,
    #[serde(default)]
    indicator: Indicator,
    #[serde(default)]
    device: Device,
    #[serde(default)]
    liveness: Liveness,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Matching {
    confident: Option<f32>,
    confident_weak: Option<f32>,
    uncertain: Option<f32>,
    min_margin: Option<f32>,
    #[serde(default, with = "humantime_serde")]
    cooldown: Option<Duration>,
    thumbnails: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Burst {
    frames: Option<u8>,
    #[serde(default, with = "humantime_serde")]
    spacing: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    follow: Option<Duration>,
    keep: Option<u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Quality {
    min_detector_score: Option<f32>,
    min_box_px: Option<f32>,
    min_inter_ocular_px: Option<f32>,
    min_sharpness: Option<f32>,
    max_yaw_deg: Option<f32>,
    max_pitch_deg: Option<f32>,
    max_roll_deg: Option<f32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trigger {
    #[serde(default, with = "humantime_serde")]
    interval: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Indicator {
    lamps: Option<bool>,
    #[serde(default, with = "humantime_serde")]
    offline_after: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Liveness {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Device {
    direction: Option<Direction>,
}

/// `base` (the unit's `edge.toml`) with the hub's `toml` laid over it, if the rules take the
/// result; else why not, in words an admin can act on.
pub fn with_hub_settings(base: &EdgeConfig, toml: &str) -> Result<EdgeConfig, String> {
    let hub: FromHub = toml::from_str(toml).map_err(|e| {
        let message = e.message().trim_end().to_owned();
        match e.span() {
            Some(span) => format!("{message} (at {:?})", clip(&toml[span])),
            None => message,
        }
    })?;
    let mut c = base.clone();
    let m = hub.matching;
    set(&mut c.matching.confident, m.confident);
    if m.confident_weak.is_some() {
        c.matching.confident_weak = m.confident_weak;
    }
    set(&mut c.matching.uncertain, m.uncertain);
    set(&mut c.matching.min_margin, m.min_margin);
    set(&mut c.matching.cooldown, m.cooldown);
    set(&mut c.matching.thumbnails, m.thumbnails);
    set(&mut c.burst.frames, hub.burst.frames);
    set(&mut c.burst.spacing, hub.burst.spacing);
    set(&mut c.burst.follow, hub.burst.follow);
    if hub.burst.keep.is_some() {
        c.burst.keep = hub.burst.keep;
    }
    let (q, gate) = (hub.quality, &mut c.quality);
    set(&mut gate.min_detector_score, q.min_detector_score);
    set(&mut gate.min_box_px, q.min_box_px);
    set(&mut gate.min_inter_ocular_px, q.min_inter_ocular_px);
    set(&mut gate.min_sharpness, q.min_sharpness);
    set(&mut gate.max_yaw_deg, q.max_yaw_deg);
    set(&mut gate.max_pitch_deg, q.max_pitch_deg);
    set(&mut gate.max_roll_deg, q.max_roll_deg);
    if hub.trigger.interval.is_some() {
        c.trigger.interval = hub.trigger.interval;
    }
    set(&mut c.indicator.lamps, hub.indicator.lamps);
    set(&mut c.indicator.offline_after, hub.indicator.offline_after);
    set(&mut c.device.direction, hub.device.direction);
    set(&mut c.liveness.enabled, hub.liveness.enabled);
    c.validate().map_err(|e| match e {
        rollcall_runtime::ConfigError::Invalid(problems) => problems.join("; "),
        other => other.to_string(),
    })?;
    Ok(c)
}

fn set<T>(held: &mut T, from_hub: Option<T>) {
    if let Some(value) = from_hub {
        *held = value;
    }
}

fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use rollcall_shared::unit_settings::{Kind, SETTABLE};

    use super::*;

    fn base() -> EdgeConfig {
        super::super::load_str(super::super::DEFAULT_CONFIG, "default", []).unwrap()
    }

    /// A value of `kind` as TOML writes it.
    fn sample(kind: Kind) -> String {
        match kind {
            Kind::Number { min, max } => format!("{:?}", (min + max) / 2.0),
            Kind::Count { min, .. } => min.to_string(),
            Kind::Duration => "\"2s\"".into(),
            Kind::Flag => "false".into(),
            Kind::Choice(words) => format!("{:?}", words[0]),
        }
    }

    #[test]
    fn every_key_the_hub_may_set_is_taken_and_no_other() {
        for s in SETTABLE {
            let (section, key) = s.key.split_once('.').unwrap();
            let toml = format!("[{section}]\n{key} = {}\n", sample(s.kind));
            let parsed: Result<FromHub, _> = toml::from_str(&toml);
            assert!(parsed.is_ok(), "{}: {parsed:?}", s.key);
        }
        for own in [
            "[broker]\nurl = \"mqtt://evil\"",
            "[trigger]\nmanual = false",
            "data_dir = \"/\"",
        ] {
            let refused = with_hub_settings(&base(), own).unwrap_err();
            assert!(refused.contains("unknown field"), "{own}: {refused}");
        }
    }

    #[test]
    fn settings_lie_over_the_file_and_the_files_rules_refuse_bad_ones() {
        let base = base();
        let tuned = "[matching]\nconfident = 0.29\ncooldown = \"5m\"\n\
            [burst]\nframes = 7\n[indicator]\nlamps = false\n[device]\ndirection = \"in\"\n";
        let c = with_hub_settings(&base, tuned).unwrap();
        assert_eq!(c.matching.confident, 0.29);
        assert_eq!(c.matching.cooldown, Duration::from_secs(300));
        assert_eq!(
            c.matching.uncertain, base.matching.uncertain,
            "not named: the file's"
        );
        assert_eq!((c.burst.frames, c.indicator.lamps), (7, false));
        assert_eq!(c.device.direction, Direction::In);
        let flipped = format!("[liveness]\nenabled = {}\n", !base.liveness.enabled);
        let c = with_hub_settings(&base, &flipped).unwrap();
        assert_eq!(c.liveness.enabled, !base.liveness.enabled);
        assert_eq!(c.broker.url, base.broker.url);

        let looser = with_hub_settings(&base, "[matching]\nconfident = 0.5\n").unwrap_err();
        assert!(looser.starts_with("matching: "), "one line: {looser}");
        assert!(looser.contains("uncertain"), "{looser}");
        let typo = with_hub_settings(&base, "[burst]\nframez = 7\n").unwrap_err();
        assert!(typo.contains("unknown field `framez`"), "{typo}");
        let not_toml = with_hub_settings(&base, "[burst\n").unwrap_err();
        assert!(!not_toml.is_empty());
        assert!(
            with_hub_settings(&base, "").is_ok(),
            "nothing from the hub: the file"
        );
        for endless in [
            "[trigger]\ninterval = \"400years\"",
            "[matching]\ncooldown = \"9days\"",
        ] {
            let refused = with_hub_settings(&base, endless).unwrap_err();
            assert!(refused.contains("1 day"), "{endless}: {refused}");
        }
    }
}
