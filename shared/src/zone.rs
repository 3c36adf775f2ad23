//! The school's time zone, by its IANA name (`Europe/London`), with the tz database's daylight
//! saving rules. Instants travel in UTC ([`crate::UnixMillis`]); a timetable's times, a
//! register's dates and a door unit's "which lesson is on now" are local, and this is the one
//! place that turns one into the other.
//!
//! A timetable time is a wall-clock reading. On the day the clocks go forward a time inside
//! the skipped hour does not exist; it is read as the same distance past the change
//! (01:30 in London on the last Sunday of March is 02:30 BST). On the day they go back a time
//! inside the repeated hour happens twice; it is read as the first (01:30 BST, not 01:30 GMT).
//! Both are RFC 5545's and Temporal's "compatible" rule.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Longest zone name accepted (the longest in the tz database is 32 bytes).
pub const MAX_ZONE_NAME: usize = 64;

/// Why a zone cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error(
        "{0:?} is not a time zone in the tz database: write it as Area/City, e.g. \
         \"Europe/London\" or \"America/New_York\""
    )]
    Unknown(String),
    #[error(
        "cannot tell this machine's time zone by name ({0}): set timezone = \"Area/City\" \
         (e.g. \"Europe/London\") in the configuration"
    )]
    SystemUnnamed(String),
}

/// A time zone from the tz database, known by its IANA name.
#[derive(Clone)]
pub struct SiteZone {
    name: String,
    tz: TimeZone,
}

/// A local calendar date and wall-clock minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub date: Date,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Minutes after midnight on the wall clock, 0..1440.
    pub minute: u16,
}

impl SiteZone {
    /// The zone called `name` in the tz database. Fixed offsets (`+01:00`) and POSIX strings
    /// are refused: they know nothing of daylight saving.
    pub fn named(name: &str) -> Result<Self, ZoneError> {
        let unknown = || ZoneError::Unknown(name.chars().take(MAX_ZONE_NAME).collect());
        if !is_zone_name(name) {
            return Err(unknown());
        }
        let tz = TimeZone::get(name).map_err(|_| unknown())?;
        Ok(Self {
            name: name.to_owned(),
            tz,
        })
    }

    /// This machine's zone (`TZ`, else `/etc/localtime`), when it has an IANA name.
    pub fn system() -> Result<Self, ZoneError> {
        let tz = TimeZone::try_system().map_err(|e| ZoneError::SystemUnnamed(e.to_string()))?;
        let name = tz
            .iana_name()
            .filter(|n| *n != "Etc/Unknown")
            .ok_or_else(|| ZoneError::SystemUnnamed("it has no IANA name".into()))?;
        Self::named(name)
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local date, weekday and minute of the instant `at_ms` (Unix milliseconds). Instants
    /// beyond jiff's range (years -9999..=9999) are clamped to it.
    pub fn local(&self, at_ms: i64) -> LocalTime {
        let at = Timestamp::from_millisecond(at_ms).unwrap_or(if at_ms < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        });
        let dt = self.tz.to_datetime(at);
        LocalTime {
            date: dt.date(),
            weekday: dt.weekday().to_monday_one_offset() as u8,
            minute: (dt.hour() as u16) * 60 + dt.minute() as u16,
        }
    }

    /// The instant (Unix milliseconds) when the wall clock reads `minute` after midnight on
    /// `date`; 1440 is the next midnight. See the module docs for the skipped and repeated
    /// hours. `None` only at the ends of jiff's range.
    pub fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= 1440 {
            (date.tomorrow().ok()?, minute - 1440)
        } else {
            (date, minute)
        };
        let time = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?;
        let wall = DateTime::from_parts(date, time);
        let at = self.tz.to_ambiguous_timestamp(wall).compatible().ok()?;
        Some(at.as_millisecond())
    }
}

/// An IANA name's shape: `Area/City` parts of letters, digits, `_`, `-` and `+`, or `UTC`.
pub(crate) fn is_zone_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ZONE_NAME
        && name.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-+.".contains(&b))
        })
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

impl fmt::Debug for SiteZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SiteZone").field(&self.name).finish()
    }
}

impl fmt::Display for SiteZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for SiteZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SiteZone {}

impl TryFrom<String> for SiteZone {
    type Error = ZoneError;

    fn try_from(name: String) -> Result<Self, ZoneError> {
        Self::named(&name)
    }
}

impl<'de> Deserialize<'de> for SiteZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::named(&name).map_err(serde::de::Error::custom)
    }
}

impl Serialize for SiteZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i16, m: i8, d: i8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    fn hm(zone: &SiteZone, at: i64) -> (Date, u16) {
        let l = zone.local(at);
        (l.date, l.minute)
    }

    /// Unix milliseconds of a UTC wall time.
    fn utc(y: i16, m: i8, d: i8, h: i8, mi: i8) -> i64 {
        SiteZone::utc()
            .instant(date(y, m, d), h as u16 * 60 + mi as u16)
            .unwrap()
    }

    #[test]
    fn names_must_be_in_the_tz_database() {
        assert!(SiteZone::named("Europe/London").is_ok());
        assert!(SiteZone::named("UTC").is_ok());
        for bad in [
            "",
            "+01:00",
            "GMT+1 ",
            "Europe/Atlantis",
            "../etc/passwd",
            "/etc/localtime",
            "Europe//London",
            "Europe/London\n",
        ] {
            assert!(SiteZone::named(bad).is_err(), "{bad:?} accepted");
        }
        let e = SiteZone::named("Mars/Olympus").unwrap_err().to_string();
        assert!(e.contains("Area/City"), "{e}");
    }

    #[test]
    fn london_spring_forward_skips_an_hour() {
        let london = SiteZone::named("Europe/London").unwrap();
        let day = date(2026, 3, 29); // 01:00 GMT -> 02:00 BST
        // 00:30 is still GMT; 09:00 is BST (08:00 UTC).
        assert_eq!(london.instant(day, 30), Some(utc(2026, 3, 29, 0, 30)));
        assert_eq!(london.instant(day, 9 * 60), Some(utc(2026, 3, 29, 8, 0)));
        // 01:30 does not exist on the wall clock: it is read as 02:30 BST (01:30 UTC).
        let skipped = london.instant(day, 90).unwrap();
        assert_eq!(skipped, utc(2026, 3, 29, 1, 30));
        assert_eq!(hm(&london, skipped), (day, 150));
        // The day is 23 hours long.
        let next = london.instant(day, 1440).unwrap();
        assert_eq!(next - london.instant(day, 0).unwrap(), 23 * 3_600_000);
    }

    #[test]
    fn london_fall_back_repeats_an_hour() {
        let london = SiteZone::named("Europe/London").unwrap();
        let day = date(2026, 10, 25); // 02:00 BST -> 01:00 GMT
        // 01:30 happens twice; the first (BST, 00:30 UTC) is the one meant.
        assert_eq!(london.instant(day, 90), Some(utc(2026, 10, 25, 0, 30)));
        // Both 00:30 and 01:30 UTC read as 01:30 on the wall.
        assert_eq!(hm(&london, utc(2026, 10, 25, 0, 30)), (day, 90));
        assert_eq!(hm(&london, utc(2026, 10, 25, 1, 30)), (day, 90));
        let next = london.instant(day, 1440).unwrap();
        assert_eq!(next - london.instant(day, 0).unwrap(), 25 * 3_600_000);
    }

    #[test]
    fn new_york_changes_at_two_in_the_morning() {
        let ny = SiteZone::named("America/New_York").unwrap();
        let spring = date(2026, 3, 8); // 02:00 EST -> 03:00 EDT
        assert_eq!(ny.instant(spring, 150), Some(utc(2026, 3, 8, 7, 30)));
        assert_eq!(ny.instant(spring, 9 * 60), Some(utc(2026, 3, 8, 13, 0)));
        let fall = date(2026, 11, 1); // 02:00 EDT -> 01:00 EST
        assert_eq!(ny.instant(fall, 90), Some(utc(2026, 11, 1, 5, 30)));
        assert_eq!(ny.instant(fall, 9 * 60), Some(utc(2026, 11, 1, 14, 0)));
    }

    #[test]
    fn a_record_just_after_local_midnight_is_on_the_local_date() {
        // 00:30 BST on 1 June is 23:30 UTC on 31 May.
        let london = SiteZone::named("Europe/London").unwrap();
        let at = utc(2026, 5, 31, 23, 30);
        let local = london.local(at);
        assert_eq!(
            (local.date, local.minute, local.weekday),
            (date(2026, 6, 1), 30, 1)
        );
        // 00:30 EST on 2 November is 05:30 UTC the same day; 23:30 EST on 1 November is
        // 04:30 UTC on 2 November.
        let ny = SiteZone::named("America/New_York").unwrap();
        assert_eq!(hm(&ny, utc(2026, 11, 2, 5, 30)), (date(2026, 11, 2), 30));
        assert_eq!(
            hm(&ny, utc(2026, 11, 2, 4, 30)),
            (date(2026, 11, 1), 23 * 60 + 30)
        );
    }

    #[test]
    fn instants_beyond_the_calendar_are_clamped_not_panicked_on() {
        let london = SiteZone::named("Europe/London").unwrap();
        let _ = london.local(i64::MAX);
        let _ = london.local(i64::MIN);
        assert!(london.instant(Date::MAX, 1440).is_none());
    }
}
