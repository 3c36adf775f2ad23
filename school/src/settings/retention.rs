//! `[retention]`: how long records, faces and the register are kept. Only the settings and
//! their checks; deleting is `crate::retention`.

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::invalid;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days a decided record keeps its face crop and embedding.
    pub thumbnail_days: u32,
    /// Days before the rest of a record (who, where, when, the decision) goes.
    pub record_days: u32,
    /// Days a face nobody decided about waits before it is set aside, crop and embedding gone.
    pub undecided_days: u32,
    /// Days after a student left their last class before their enrolment faces are deleted.
    pub leaver_days: u32,
    /// Years the register (closed sessions and amendments) is kept.
    pub register_years: u32,
    /// Days a visit signed in at reception is kept after it began (once the visitor left).
    pub visitor_days: u32,
    /// Days an entry of the staff log (a coming or going) is kept.
    pub staff_log_days: u32,
    /// Days a notice to a family (its messages, their addresses, the reply) is kept after
    /// the absence it was about.
    pub notice_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            thumbnail_days: 30,
            record_days: 400,
            undecided_days: 14,
            leaver_days: 30,
            register_years: 6,
            visitor_days: 365,
            staff_log_days: 365,
            notice_days: 90,
        }
    }
}

impl RetentionConfig {
    /// The register is kept a whole number of years within range. (How the other periods
    /// fit `[ingest]` is checked by `Config`.)
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=100).contains(&self.register_years) {
            return invalid("retention.register_years must be 1 to 100");
        }
        if !(1..=3660).contains(&self.visitor_days) {
            return invalid("retention.visitor_days must be 1 to 3660");
        }
        if !(1..=3660).contains(&self.staff_log_days) {
            return invalid("retention.staff_log_days must be 1 to 3660");
        }
        if !(1..=3660).contains(&self.notice_days) {
            return invalid("retention.notice_days must be 1 to 3660");
        }
        Ok(())
    }
}
