//! `[backup]`: scheduled copies of the SQLite database. Only the settings and their checks;
//! copying is `crate::backup`.

use std::path::PathBuf;

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::invalid;

/// Scheduled backups of the database (`crate::backup`); off unless `dir` is set.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where backups are written, as `hub-<UTC time>.sqlite3`.
    pub dir: Option<PathBuf>,
    /// Hours between backups.
    pub every_hours: u32,
    /// How many backups are kept; the oldest beyond this are deleted.
    pub keep: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: None,
            every_hours: 24,
            keep: 7,
        }
    }
}

impl BackupConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=24 * 31).contains(&self.every_hours) || !(1..=400).contains(&self.keep) {
            return invalid("backup.every_hours must be 1 to 744 and backup.keep 1 to 400");
        }
        Ok(())
    }
}
