//! `[email]`: the SMTP relay the daily digest goes through, and `[email.digest]`: when. Only
//! the settings and their checks; sending is `crate::email`.

use std::path::PathBuf;

use serde::Deserialize;

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a relay on this machine.
    None,
}

/// The relay and the sender.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `host:port` of the relay; the host is the name its certificate carries.
    pub smtp: String,
    #[serde(default)]
    pub security: Security,
    /// User name to log in to the relay with (with `password_file`).
    pub username: Option<String>,
    /// File holding the relay password, read at start.
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Rollcall <rollcall@school.example>`.
    pub from: String,
    /// An extra root certificate (PEM) to trust beside the system's, for a school's own relay.
    pub ca_file: Option<PathBuf>,
    /// The pages' address as teachers reach it, for links in the digest,
    /// e.g. `https://rollcall.school.example:8443`.
    pub pages_url: Option<String>,
    #[serde(default)]
    pub digest: DigestConfig,
}

/// When the digest goes out, in the school's time zone.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    /// Local time, `HH:MM`.
    pub at: String,
    /// Days of the week, `mon` … `sun`.
    pub days: Vec<String>,
    /// How often the hub looks whether a digest is due (and retries a failed one).
    pub check_every_secs: u32,
}

impl Default for DigestConfig {
    fn default() -> Self {
        Self {
            at: "07:30".into(),
            days: ["mon", "tue", "wed", "thu", "fri"].map(String::from).into(),
            check_every_secs: 60,
        }
    }
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl DigestConfig {
    /// Minutes after local midnight (checked by [`EmailConfig::validate`]).
    pub fn minute(&self) -> Option<u16> {
        let (h, m) = self.at.split_once(':')?;
        let two = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two(h) || !two(m) {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    }

    /// The days as `chrono` weekdays; unknown names are left out (and refused at validation).
    pub fn weekdays(&self) -> Vec<chrono::Weekday> {
        self.days
            .iter()
            .filter_map(|d| WEEKDAYS.iter().position(|w| w == d))
            .filter_map(|i| chrono::Weekday::try_from(i as u8).ok())
            .collect()
    }
}

impl EmailConfig {
    /// `(host, port)` of the relay.
    pub fn host_port(&self) -> Option<(&str, u16)> {
        let (host, port) = self.smtp.rsplit_once(':')?;
        let host = host.trim_matches(['[', ']']);
        let port = port.parse().ok().filter(|p| *p > 0)?;
        (!host.is_empty()).then_some((host, port))
    }

    /// Every setting makes sense; the message says which one does not.
    pub fn validate(&self) -> Result<(), String> {
        let (host, _) = self
            .host_port()
            .ok_or_else(|| format!("email.smtp {:?}: give HOST:PORT", self.smtp))?;
        if self.security == Security::None && !super::web_url::is_loopback(host) {
            return Err(format!(
                "email.security = \"none\" sends passwords and pupils' names in the clear: only \
                 to a relay on this machine (email.smtp is {:?}); use \"starttls\" or \"tls\"",
                self.smtp
            ));
        }
        if self.username.is_some() != self.password_file.is_some() {
            return Err("email.username and email.password_file go together".into());
        }
        self.from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("email.from {:?}: not an address ({e})", self.from))?;
        if let Some(url) = &self.pages_url {
            let ok = reqwest::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(format!("email.pages_url {url:?}: give an http(s) address"));
            }
        }
        self.digest.validate()
    }
}

impl DigestConfig {
    fn validate(&self) -> Result<(), String> {
        if self.minute().is_none() {
            return Err(format!(
                "email.digest.at {:?}: give a local time HH:MM from 00:00 to 23:59",
                self.at
            ));
        }
        if let Some(bad) = self.days.iter().find(|d| !WEEKDAYS.contains(&d.as_str())) {
            return Err(format!(
                "email.digest.days: {bad:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"
            ));
        }
        if self.days.is_empty() {
            return Err("email.digest.days: name at least one day".into());
        }
        if !(1..=3600).contains(&self.check_every_secs) {
            return Err("email.digest.check_every_secs must be 1 to 3600".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(smtp: &str, security: Security) -> EmailConfig {
        EmailConfig {
            smtp: smtp.into(),
            security,
            username: None,
            password_file: None,
            from: "Rollcall <rollcall@school.example>".into(),
            ca_file: None,
            pages_url: None,
            digest: DigestConfig::default(),
        }
    }

    #[test]
    fn plain_smtp_only_to_this_machine() {
        assert!(relay("127.0.0.1:25", Security::None).validate().is_ok());
        assert!(relay("localhost:25", Security::None).validate().is_ok());
        let e = relay("smtp.school.example:25", Security::None)
            .validate()
            .unwrap_err();
        assert!(e.contains("starttls"), "{e}");
        assert!(
            relay("smtp.school.example:587", Security::Starttls)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn bad_settings_are_named() {
        let mut c = relay("smtp.school.example", Security::Tls);
        assert!(c.validate().unwrap_err().contains("email.smtp"));
        c.smtp = "smtp.school.example:465".into();
        c.from = "not an address".into();
        assert!(c.validate().unwrap_err().contains("email.from"));
        c.from = "rollcall@school.example".into();
        c.digest.at = "7:30".into();
        assert!(c.validate().unwrap_err().contains("email.digest.at"));
        c.digest.at = "24:00".into();
        assert!(c.validate().unwrap_err().contains("email.digest.at"));
        c.digest.at = "07:30".into();
        c.digest.days = vec!["monday".into()];
        assert!(c.validate().unwrap_err().contains("\"monday\""));
        c.digest.days = vec!["sat".into()];
        c.username = Some("rollcall".into());
        assert!(c.validate().unwrap_err().contains("password_file"));
    }

    #[test]
    fn the_digest_time_and_days_parse() {
        let d = DigestConfig::default();
        assert_eq!(d.minute(), Some(7 * 60 + 30));
        assert_eq!(d.weekdays().len(), 5);
        assert_eq!(d.weekdays()[0], chrono::Weekday::Mon);
    }

    #[test]
    fn the_example_section_parses_and_validates_and_a_typo_is_refused() {
        let example: String = crate::config::DEFAULT_CONFIG
            .lines()
            .skip_while(|l| *l != "# [email]")
            .take_while(|l| l.starts_with("# "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        assert!(example.contains("[email.digest]"), "{example}");
        let c = crate::config::Config::parse(&example).unwrap();
        let email = c.email.unwrap();
        assert_eq!(email.security, Security::Starttls);
        email.validate().unwrap();
        let typo = "[email]\nsmtp = \"a:1\"\nfrom = \"a@b.example\"\nsecurty = \"tls\"\n";
        assert!(crate::config::Config::parse(typo).is_err());
    }
}
