//! Hub → door unit: how one unit works, as an admin sets it on the hub for the unit or for its
//! room ([`crate::Message::UnitSettings`]), and what the unit made of it
//! ([`crate::Message::SettingsReport`]).
//!
//! Settings are `edge.toml` keys, sent as a TOML document (`[matching]` `confident = 0.29`):
//! one language for the file an installer writes and for what the hub pushes, and the unit
//! checks the pushed document with the very rules it checks its file with. `edge.toml` stays
//! the unit's bootstrap (its identity, broker, camera, pins); only the keys of [`SETTABLE`]
//! come from the hub. A unit refuses a document with a key it does not know or may not take
//! from the hub, or a value its rules refuse, says why, and keeps the settings it had.

use serde::{Deserialize, Serialize};

use crate::ids::DeviceId;
use crate::invalid::Invalid;

/// Most bytes of TOML one [`UnitSettings`] carries.
pub const MAX_SETTINGS_BYTES: usize = 8 * 1024;
/// Longest reason a unit gives for refusing settings.
pub const MAX_REASON_LEN: usize = 512;

/// The settings the hub wants one unit to run with, on top of its `edge.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct UnitSettings {
    /// Grows with every change the hub makes to this unit's settings (1 the first); the unit
    /// reports the one in force.
    pub version: u64,
    /// A TOML document of [`SETTABLE`] keys by section; empty: `edge.toml` alone.
    pub toml: String,
}

impl UnitSettings {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.version == 0 {
            return Err(Invalid::new(
                "settings version 0 is the unit's own edge.toml",
            ));
        }
        if self.toml.len() > MAX_SETTINGS_BYTES {
            return Err(Invalid::new(format!(
                "settings are {} bytes, at most {MAX_SETTINGS_BYTES}",
                self.toml.len()
            )));
        }
        Ok(())
    }
}

/// What a unit runs with and what it last refused, sent on every connect and after every
/// [`UnitSettings`] it is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SettingsReport {
    pub device: DeviceId,
    /// The version in force; 0: none from the hub yet (its `edge.toml` alone).
    pub in_force: u64,
    /// The last version it was sent, when it refused it: the reason, and the version in force
    /// stays.
    pub refused: Option<Refusal>,
}

/// Settings a unit would not run with, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Refusal {
    pub version: u64,
    pub reason: String,
}

impl SettingsReport {
    pub fn validate(&self) -> Result<(), Invalid> {
        match &self.refused {
            Some(r) if r.reason.len() > MAX_REASON_LEN => Err(Invalid::new(format!(
                "refusal reason is {} bytes, at most {MAX_REASON_LEN}",
                r.reason.len()
            ))),
            _ => Ok(()),
        }
    }
}

/// `reason` cut to at most [`MAX_REASON_LEN`] bytes, on a character boundary.
pub fn clipped_reason(reason: &str) -> String {
    let mut end = reason.len().min(MAX_REASON_LEN);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

/// What kind of value a setting takes, as `edge.toml` writes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A number from `min` to `max`.
    Number { min: f64, max: f64 },
    /// A whole number from `min` to `max`.
    Count { min: i64, max: i64 },
    /// A duration as text: `"150ms"`, `"30s"`, `"10m"`.
    Duration,
    /// `true` or `false`.
    Flag,
    /// One of these words.
    Choice(&'static [&'static str]),
}

/// One key a unit takes from the hub.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settable {
    /// `section.key`, as in `edge.toml`.
    pub key: &'static str,
    pub kind: Kind,
    /// What it changes, for the page that sets it.
    pub about: &'static str,
}

const DISTANCE: Kind = Kind::Number { min: 0.0, max: 2.0 };
const SCORE: Kind = Kind::Number { min: 0.0, max: 1.0 };
const PIXELS: Kind = Kind::Number {
    min: 0.0,
    max: 4096.0,
};
const DEGREES: Kind = Kind::Number {
    min: 0.0,
    max: 90.0,
};

/// Every key a unit takes from the hub; the rest of `edge.toml` is the unit's own.
pub const SETTABLE: &[Settable] = &[
    Settable {
        key: "matching.confident",
        kind: DISTANCE,
        about: "a face this close to its student, and clear of the others, is marked",
    },
    Settable {
        key: "matching.confident_weak",
        kind: DISTANCE,
        about: "the same for a weak face (blurred, or a doubtful detection)",
    },
    Settable {
        key: "matching.uncertain",
        kind: DISTANCE,
        about: "a face this close is sent to a teacher for review",
    },
    Settable {
        key: "matching.min_margin",
        kind: DISTANCE,
        about: "how much farther every other student must be for a mark",
    },
    Settable {
        key: "matching.cooldown",
        kind: Kind::Duration,
        about: "no second record of a student within this long",
    },
    Settable {
        key: "matching.thumbnails",
        kind: Kind::Flag,
        about: "send a face picture with the records a teacher must check",
    },
    Settable {
        key: "burst.frames",
        kind: Kind::Count { min: 1, max: 10 },
        about: "frames captured per trigger",
    },
    Settable {
        key: "burst.spacing",
        kind: Kind::Duration,
        about: "the gap between the frames of a burst",
    },
    Settable {
        key: "burst.follow",
        kind: Kind::Duration,
        about: "past the burst, how long a walk-in is followed while the sensor still sees someone (0s: the burst only; at most 10s)",
    },
    Settable {
        key: "burst.keep",
        kind: Kind::Count { min: 1, max: 10 },
        about: "how many of a walk-in's best frames it is decided from",
    },
    Settable {
        key: "quality.min_detector_score",
        kind: SCORE,
        about: "faces the detector is less sure of are not used",
    },
    Settable {
        key: "quality.min_box_px",
        kind: PIXELS,
        about: "smallest face box used, in camera pixels",
    },
    Settable {
        key: "quality.min_inter_ocular_px",
        kind: PIXELS,
        about: "smallest distance between the eyes used, in camera pixels",
    },
    Settable {
        key: "quality.min_sharpness",
        kind: Kind::Number {
            min: 0.0,
            max: 100_000.0,
        },
        about: "blurrier faces are not used",
    },
    Settable {
        key: "quality.max_yaw_deg",
        kind: DEGREES,
        about: "faces turned farther sideways are not used",
    },
    Settable {
        key: "quality.max_pitch_deg",
        kind: DEGREES,
        about: "faces tilted farther up or down are not used",
    },
    Settable {
        key: "quality.max_roll_deg",
        kind: DEGREES,
        about: "faces leaning farther are not used",
    },
    Settable {
        key: "trigger.interval",
        kind: Kind::Duration,
        about: "a burst at this fixed interval as well as on the sensor (demos; not at a door)",
    },
    Settable {
        key: "indicator.lamps",
        kind: Kind::Flag,
        about: "the status lamps and buzzer on or off (off in an exam hall)",
    },
    Settable {
        key: "indicator.offline_after",
        kind: Kind::Duration,
        about: "the red lamp blinks after the hub is out of reach this long",
    },
    Settable {
        key: "liveness.enabled",
        kind: Kind::Flag,
        about: "check each face about to be marked for a photo or a phone screen; one judged \
                not live goes to a teacher, flagged",
    },
    Settable {
        key: "device.direction",
        kind: Kind::Choice(&["in", "out", "both"]),
        about: "which way the camera faces: set with the unit on the Devices page",
    },
];

/// The settable key named `key` (`section.key`).
pub fn settable(key: &str) -> Option<&'static Settable> {
    SETTABLE.iter().find(|s| s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_reports_keep_to_their_limits() {
        let ok = UnitSettings {
            version: 3,
            toml: "[burst]\nframes = 7\n".into(),
        };
        assert!(ok.validate().is_ok());
        let zero = UnitSettings {
            version: 0,
            ..ok.clone()
        };
        assert!(zero.validate().is_err());
        let huge = UnitSettings {
            toml: "#".repeat(MAX_SETTINGS_BYTES + 1),
            ..ok
        };
        assert!(huge.validate().is_err());
        let long = "é".repeat(MAX_REASON_LEN);
        let report = SettingsReport {
            device: DeviceId::random(),
            in_force: 2,
            refused: Some(Refusal {
                version: 3,
                reason: clipped_reason(&long),
            }),
        };
        assert!(report.validate().is_ok());
        assert!(clipped_reason(&long).len() <= MAX_REASON_LEN);
    }

    #[test]
    fn each_settable_key_is_named_once_as_section_dot_key() {
        for (i, s) in SETTABLE.iter().enumerate() {
            assert_eq!(s.key.matches('.').count(), 1, "{}", s.key);
            assert_eq!(settable(s.key), Some(&SETTABLE[i]), "{} twice", s.key);
        }
        assert_eq!(settable("broker.url"), None, "the unit's own");
    }
}
