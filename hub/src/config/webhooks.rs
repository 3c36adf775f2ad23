//! `[[webhooks]]`: the receivers of signed event callbacks, and the events there are to
//! subscribe to (the names `notify` sends under).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One receiver of signed event callbacks.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where events are POSTed: `https://…`, or `http://` on a loopback address only.
    pub url: String,
    /// A file holding the shared secret (at least 16 bytes) the signature is made with.
    pub secret_file: PathBuf,
    /// Which events: `session.closed`, `device.offline`, `student.at_risk`.
    pub events: Vec<String>,
}

/// What can be subscribed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Event {
    /// A session's register has been written and locked.
    #[serde(rename = "session.closed")]
    SessionClosed,
    /// A door unit's connection to the broker ended without a goodbye.
    #[serde(rename = "device.offline")]
    DeviceOffline,
    /// A student's attendance rate in a class fell below `[reports] at_risk_below` (once per
    /// crossing: again only after it has risen back to the threshold).
    #[serde(rename = "student.at_risk")]
    StudentAtRisk,
    /// A pupil in school today is missing from a lesson (`rollcall_school::missing`): once per
    /// pupil and lesson.
    #[serde(rename = "student.missing")]
    StudentMissing,
    /// A pupil alerted of as missing was marked there, with the time.
    #[serde(rename = "student.found")]
    StudentFound,
    /// A lesson's register still has cards or unmarked pupils after
    /// `[attendance] missing_after_minutes`: once per lesson.
    #[serde(rename = "register.not_taken")]
    RegisterNotTaken,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::SessionClosed,
        Event::DeviceOffline,
        Event::StudentAtRisk,
        Event::StudentMissing,
        Event::StudentFound,
        Event::RegisterNotTaken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::SessionClosed => "session.closed",
            Event::DeviceOffline => "device.offline",
            Event::StudentAtRisk => "student.at_risk",
            Event::StudentMissing => "student.missing",
            Event::StudentFound => "student.found",
            Event::RegisterNotTaken => "register.not_taken",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl WebhookConfig {
    /// The receiver's settings make sense: an https URL (http only to this machine), known
    /// events.
    pub fn validate(&self) -> Result<(), String> {
        let c = self;
        super::web_url::https_or_loopback("webhooks.url", &c.url)?;
        if c.events.is_empty() {
            return Err(format!(
                "webhooks.events for {:?}: name at least one",
                c.url
            ));
        }
        if let Some(bad) = c.events.iter().find(|e| Event::parse(e).is_none()) {
            let known: Vec<_> = Event::ALL.iter().map(|e| e.as_str()).collect();
            return Err(format!(
                "webhooks.events: {bad:?} is not an event (known: {})",
                known.join(", ")
            ));
        }
        Ok(())
    }
}
