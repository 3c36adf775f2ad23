//! `[mis]`: writing the register back to the school's management information system (issue
//! 69). Which connector (`[mis.wonde]` or `[mis.edfi]`, never both), where it is and where its
//! secret is kept, and how far back the hub looks for marks to write. Only the settings and
//! their checks; writing is `crate::mis`.

use std::path::PathBuf;

use serde::Deserialize;

/// Write-back's settings. Off while neither connector is set.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MisConfig {
    pub wonde: Option<WondeConfig>,
    pub edfi: Option<EdFiConfig>,
    /// Days back (today included) whose marks are kept in step with the MIS: an amendment
    /// to an older day is not written back.
    pub days_back: u16,
    /// How often the hub looks for marks to write (and retries failed writes).
    pub check_every_secs: u32,
    /// Seconds before an MIS that does not answer counts as failed.
    pub timeout_secs: u32,
    /// The school's time (`HH:MM`) after which the day's marks are read back from the MIS and
    /// compared with Rollcall's.
    pub compare_at: String,
    /// Whether each lesson's register is written to the MIS's lesson registers too, beside
    /// the statutory sessions. Needs each class's MIS reference (the roster import's).
    pub lessons: bool,
}

impl Default for MisConfig {
    fn default() -> Self {
        Self {
            wonde: None,
            edfi: None,
            days_back: 14,
            check_every_secs: 60,
            timeout_secs: 20,
            compare_at: "18:00".into(),
            lessons: true,
        }
    }
}

/// Wonde: the school's id there and the token Wonde issued for Rollcall.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WondeConfig {
    /// The API's address, `https://api.wonde.com` (or a regional one).
    pub url: String,
    /// The school's id in Wonde (`A1234567890`).
    pub school_id: String,
    /// A file holding the token, read at start so the secret is not in `hub.toml`.
    pub token_file: PathBuf,
}

/// An Ed-Fi ODS/API (version 7): OAuth 2 client credentials, and the school and session the
/// marks belong to.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EdFiConfig {
    /// The API's root, the address its discovery document is at.
    pub url: String,
    pub client_id: String,
    /// A file holding the client secret.
    pub client_secret_file: PathBuf,
    /// The school's `schoolId` in the ODS.
    pub school_id: i64,
    /// The `schoolYear` and `sessionName` of the ODS's session (term) marks are written in.
    pub school_year: u16,
    pub session_name: String,
}

impl MisConfig {
    /// Whether a connector is set.
    pub fn enabled(&self) -> bool {
        self.wonde.is_some() || self.edfi.is_some()
    }

    /// [`MisConfig::compare_at`] as a minute of the day.
    pub fn compare_minute(&self) -> Result<u16, String> {
        let time = chrono::NaiveTime::parse_from_str(self.compare_at.trim(), "%H:%M");
        time.map(|t| (chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t)) as u16)
            .map_err(|_| {
                format!(
                    "mis.compare_at {:?}: a time of day as HH:MM, after the last lesson",
                    self.compare_at
                )
            })
    }

    /// Every setting makes sense; the message says which one does not.
    pub fn validate(&self) -> Result<(), String> {
        if self.wonde.is_some() && self.edfi.is_some() {
            return Err("[mis]: set one of [mis.wonde] and [mis.edfi], not both".into());
        }
        if !(1..=366).contains(&self.days_back) {
            return Err("mis.days_back: 1 to 366".into());
        }
        if !(1..=3600).contains(&self.check_every_secs) {
            return Err("mis.check_every_secs: 1 to 3600".into());
        }
        if !(1..=300).contains(&self.timeout_secs) {
            return Err("mis.timeout_secs: 1 to 300".into());
        }
        self.compare_minute()?;
        if let Some(w) = &self.wonde {
            http_url("mis.wonde.url", &w.url)?;
            let id_ok = !w.school_id.is_empty()
                && w.school_id.len() <= 64
                && w.school_id.chars().all(|c| c.is_ascii_alphanumeric());
            if !id_ok {
                return Err(format!(
                    "mis.wonde.school_id {:?}: the school's id in Wonde, letters and digits",
                    w.school_id
                ));
            }
        }
        if let Some(e) = &self.edfi {
            http_url("mis.edfi.url", &e.url)?;
            if e.client_id.trim().is_empty() {
                return Err("mis.edfi.client_id: the key the ODS issued for Rollcall".into());
            }
            if !(1900..=2100).contains(&e.school_year) {
                return Err("mis.edfi.school_year: 1900 to 2100".into());
            }
            let name = &e.session_name;
            if name.trim() != name || name.is_empty() || name.chars().count() > 60 {
                return Err(format!(
                    "mis.edfi.session_name {name:?}: the ODS session's name, 1 to 60 \
                     characters without spaces at either end"
                ));
            }
        }
        Ok(())
    }
}

fn http_url(setting: &str, url: &str) -> Result<(), String> {
    let ok = reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
    if ok {
        Ok(())
    } else {
        Err(format!("{setting} {url:?}: give an http(s) address"))
    }
}
