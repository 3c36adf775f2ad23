//! Hub → door unit: what the school decides for all its door units, sent beside each gallery
//! update ([`crate::Message::Site`]) and kept by the unit across restarts.

use serde::{Deserialize, Serialize};

use crate::invalid::Invalid;
use crate::zone::{SiteZone, ZoneError, is_zone_name};

/// The school's settings a door unit needs beside its gallery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SiteSettings {
    /// The school's time zone by IANA name: the timetable's times are wall-clock times there.
    pub timezone: String,
    /// What becomes of a face that matches nobody in the gallery (protocol 4).
    pub unknown_faces: UnknownFaces,
}

impl SiteSettings {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !is_zone_name(&self.timezone) {
            return Err(Invalid::new("time zone name is malformed"));
        }
        Ok(())
    }

    /// The zone, when this device's tz database knows it.
    pub fn zone(&self) -> Result<SiteZone, ZoneError> {
        SiteZone::named(&self.timezone)
    }
}

/// What a door unit does with a face that matches nobody: the face of a visitor, a parent, a
/// contractor — someone the school holds no consent from — or of a student the door did not
/// recognise. Variants only ever grow at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum UnknownFaces {
    /// Dropped on the door unit as soon as it is decided; only a count leaves the unit (in its
    /// heartbeat). The default: nobody's face is kept without a reason the school chose.
    #[default]
    Discard,
    /// Sent to the hub as an Unknown record with its crop, for a teacher to name or dismiss,
    /// and grouped with the same stranger's other visits.
    Keep,
}

impl UnknownFaces {
    /// The name the configuration and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            UnknownFaces::Discard => "discard",
            UnknownFaces::Keep => "keep",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_carry_a_zone_name() {
        let ok = SiteSettings {
            timezone: "America/New_York".into(),
            unknown_faces: UnknownFaces::Keep,
        };
        assert!(ok.validate().is_ok());
        assert_eq!(ok.zone().unwrap().name(), "America/New_York");
        let bad = SiteSettings {
            timezone: "x".repeat(65),
            ..ok
        };
        assert!(bad.validate().is_err());
    }
}
