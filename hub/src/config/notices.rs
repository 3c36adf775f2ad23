//! `[notices]`: telling families the same morning (issue 57). When the first-day notice goes
//! out, by which channels, whether a second contact is tried, and `[notices.sms]`, the school's
//! SMS gateway: any HTTP service that takes a JSON body (no provider is named here). Only the
//! settings and their checks; sending is `crate::notices`.

use std::path::PathBuf;

use serde::Deserialize;

pub use rollcall_school::notices::Channel;

/// The first-day notice's settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NoticesConfig {
    /// Off until the school turns it on.
    pub enabled: bool,
    /// The school's name as families know it, in every message.
    pub school_name: String,
    /// The pages' address as families reach it, for the reply link,
    /// e.g. `https://rollcall.school.example`.
    pub pages_url: String,
    /// Minutes after the day's first lesson starts (school time) that notices go out.
    pub after_first_lesson_minutes: u16,
    /// The channels tried for each contact, in order; a contact without that address is
    /// skipped for it.
    pub channels: Vec<Channel>,
    /// Minutes after which the next contact (by priority) is told too when the first has not
    /// replied; 0: only the first.
    pub second_contact_after_minutes: u16,
    /// Whether a family told of an absence hears when the child is marked after all.
    pub arrived_message: bool,
    /// Tries of one message before it is shown as failed (waiting 1, 2, 4 … minutes between).
    pub tries: u8,
    /// How often the hub looks whether notices are due (and retries failed sends).
    pub check_every_secs: u32,
    pub sms: Option<SmsConfig>,
}

impl Default for NoticesConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            school_name: String::new(),
            pages_url: String::new(),
            after_first_lesson_minutes: 30,
            channels: vec![Channel::Email, Channel::Sms],
            second_contact_after_minutes: 0,
            arrived_message: true,
            tries: 5,
            check_every_secs: 60,
            sms: None,
        }
    }
}

/// An SMS gateway: the hub POSTs `body` to `url`, with the header in `auth_header_file`; any
/// 2xx is sent. `body` is JSON with `{to}` and `{text}` standing where a string goes: the hub
/// writes each as a JSON string, quoted and escaped.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub url: String,
    /// A file holding one header line, `Name: value` (e.g. `Authorization: Bearer …`), read
    /// at start so the secret is not in `hub.toml`.
    pub auth_header_file: Option<PathBuf>,
    /// The JSON body, e.g. `{"to": {to}, "text": {text}, "sender": "SCHOOL"}`.
    pub body: String,
    /// Seconds before a gateway that does not answer counts as failed.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u32,
}

fn default_timeout() -> u32 {
    10
}

/// The placeholders an SMS body may use.
pub const SMS_PLACEHOLDERS: [&str; 2] = ["{to}", "{text}"];

impl NoticesConfig {
    /// Every setting makes sense together with `email` (the relay); the message says which
    /// one does not.
    pub fn validate(&self, has_email: bool) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.school_name.trim().is_empty() || self.school_name.chars().count() > 100 {
            return Err("notices.school_name: the school's name, 1 to 100 characters".into());
        }
        let ok = reqwest::Url::parse(&self.pages_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !ok {
            return Err(format!(
                "notices.pages_url {:?}: give the http(s) address families reach the pages at",
                self.pages_url
            ));
        }
        if self.after_first_lesson_minutes > 6 * 60 {
            return Err("notices.after_first_lesson_minutes: at most 360".into());
        }
        if self.channels.is_empty() {
            return Err("notices.channels: name email, sms or both".into());
        }
        if self.channels.contains(&Channel::Email) && !has_email {
            return Err("notices.channels has email: set up the relay in [email]".into());
        }
        match (&self.sms, self.channels.contains(&Channel::Sms)) {
            (None, true) => {
                return Err("notices.channels has sms: set up the gateway in [notices.sms]".into());
            }
            (Some(sms), _) => sms.validate()?,
            (None, false) => {}
        }
        if !(1..=10).contains(&self.tries) {
            return Err("notices.tries: 1 to 10".into());
        }
        if !(1..=3600).contains(&self.check_every_secs) {
            return Err("notices.check_every_secs: 1 to 3600".into());
        }
        Ok(())
    }
}

impl SmsConfig {
    fn validate(&self) -> Result<(), String> {
        let ok = reqwest::Url::parse(&self.url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !ok {
            return Err(format!(
                "notices.sms.url {:?}: give an http(s) address",
                self.url
            ));
        }
        let filled = self
            .body
            .replace("{to}", "\"x\"")
            .replace("{text}", "\"x\"");
        if !SMS_PLACEHOLDERS.iter().all(|p| self.body.contains(p))
            || serde_json::from_str::<serde_json::Value>(&filled).is_err()
        {
            return Err(format!(
                "notices.sms.body {:?}: JSON naming {{to}} and {{text}} where their strings go, \
                 e.g. {{\"to\": {{to}}, \"text\": {{text}}}}",
                self.body
            ));
        }
        if !(1..=120).contains(&self.timeout_secs) {
            return Err("notices.sms.timeout_secs: 1 to 120".into());
        }
        Ok(())
    }
}
