//! `[register]`: when sessions are written into the register, and locked, and
//! `[register.statutory]`: how England's two sessions a day are marked. Only the settings and
//! their checks; closing sessions is `crate::register`, the sessions' marks `crate::statutory`.

use chrono::{NaiveTime, Timelike};
use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::invalid;
use crate::session_rosters::hhmm;
use crate::statutory::{Half, MarkFrom, SessionRule};

/// When sessions are written into the register, and locked.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterConfig {
    /// Minutes after a session ends before its register is written: records from a door unit
    /// that was briefly offline, and teachers' last marks, still count until then.
    pub close_after_minutes: u32,
    /// Seconds between looks for sessions to close.
    pub check_every_secs: u32,
    pub statutory: StatutoryConfig,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        Self {
            close_after_minutes: 30,
            check_every_secs: 60,
            statutory: StatutoryConfig::default(),
        }
    }
}

/// `[register.statutory]`: the morning and afternoon sessions, made from the lessons.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StatutoryConfig {
    /// `HH:MM`: lessons that start at or after it are the afternoon session's.
    pub afternoon_from: String,
    /// How the morning's mark is made: `first_lesson`, or `HH:MM`, the start of the lesson
    /// that is registration (form time).
    pub morning: String,
    /// The same for the afternoon.
    pub afternoon: String,
}

impl Default for StatutoryConfig {
    fn default() -> Self {
        Self {
            afternoon_from: "12:00".into(),
            morning: FIRST_LESSON.into(),
            afternoon: FIRST_LESSON.into(),
        }
    }
}

const FIRST_LESSON: &str = "first_lesson";

impl StatutoryConfig {
    /// The rule these settings say, or what is wrong with them.
    pub fn rule(&self) -> Result<SessionRule, ConfigError> {
        let minute = |key: &str, value: &str| {
            let time = NaiveTime::parse_from_str(value.trim(), "%H:%M").map_err(|_| {
                ConfigError::invalid(format!(
                    "register.statutory.{key} must be a time of day as HH:MM, not {value:?}"
                ))
            })?;
            // At most 23 * 60 + 59: it fits.
            Ok::<u16, ConfigError>((time.hour() * 60 + time.minute()) as u16)
        };
        let from = |key: &str, value: &str| match value.trim() {
            FIRST_LESSON => Ok(MarkFrom::FirstLesson),
            _ => minute(key, value).map(MarkFrom::Registration).map_err(|_| {
                ConfigError::invalid(format!(
                    "register.statutory.{key} must be \"first_lesson\" or the time registration \
                     starts as HH:MM, not {value:?}"
                ))
            }),
        };
        Ok(SessionRule {
            afternoon_from: minute("afternoon_from", &self.afternoon_from)?,
            morning: from("morning", &self.morning)?,
            afternoon: from("afternoon", &self.afternoon)?,
        })
    }
}

impl RegisterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.close_after_minutes > 24 * 60 {
            return invalid("register.close_after_minutes must be at most 1440 (a day)");
        }
        if !(1..=3600).contains(&self.check_every_secs) {
            return invalid("register.check_every_secs must be 1 to 3600");
        }
        let rule = self.statutory.rule()?;
        for (key, how) in [("morning", rule.morning), ("afternoon", rule.afternoon)] {
            let MarkFrom::Registration(at) = how else {
                continue;
            };
            let half = if key == "morning" { Half::Am } else { Half::Pm };
            if rule.half_of(at) != half {
                return invalid(format!(
                    "register.statutory.{key}: registration at {} is not in the {key} \
                     (the afternoon starts at {})",
                    hhmm(at),
                    hhmm(rule.afternoon_from)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(afternoon_from: &str, morning: &str, afternoon: &str) -> RegisterConfig {
        RegisterConfig {
            statutory: StatutoryConfig {
                afternoon_from: afternoon_from.into(),
                morning: morning.into(),
                afternoon: afternoon.into(),
            },
            ..RegisterConfig::default()
        }
    }

    fn refusal(c: &RegisterConfig) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn the_sessions_default_to_each_first_lesson_with_the_afternoon_at_noon() {
        let rule = RegisterConfig::default().statutory.rule().unwrap();
        assert_eq!(rule.afternoon_from, 12 * 60);
        assert_eq!(
            (rule.morning, rule.afternoon),
            (MarkFrom::FirstLesson, MarkFrom::FirstLesson)
        );
        let form = with("12:30", "08:45", "13:30").statutory.rule().unwrap();
        assert_eq!(form.morning, MarkFrom::Registration(8 * 60 + 45));
        assert!(with("12:30", "08:45", "13:30").validate().is_ok());
    }

    #[test]
    fn a_time_that_is_not_a_time_or_a_registration_in_the_wrong_half_is_refused_by_name() {
        assert!(refusal(&with("noon", FIRST_LESSON, FIRST_LESSON)).contains("afternoon_from"));
        assert!(refusal(&with("12:00", "9am", FIRST_LESSON)).contains("statutory.morning"));
        assert!(refusal(&with("12:00", "25:00", FIRST_LESSON)).contains("HH:MM"));
        let late = refusal(&with("12:00", "13:00", FIRST_LESSON));
        assert!(late.contains("not in the morning"), "{late}");
        let early = refusal(&with("12:00", FIRST_LESSON, "08:45"));
        assert!(early.contains("not in the afternoon"), "{early}");
    }
}
