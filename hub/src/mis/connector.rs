//! What every MIS connector does, whatever the MIS: write one pupil's statutory day (its AM
//! and PM marks, in the MIS's codes) or one pupil's mark in one lesson, say whether the credentials work, list the MIS's own
//! codes, and read a day's marks back: the types every connector speaks, and the helpers
//! they share. `super::Connector` is the one the school set; each vendor's wire format stays
//! in its module ([`super::wonde`], [`super::edfi`]).
//!
//! Errors keep the MIS's own words ([`MisError::said`]), cut short, never a secret: they are
//! shown to the office as they are. The helpers at the end are the connectors' common HTTP
//! ground (what a status means, the MIS's words cut short, `Retry-After`, secret files); no
//! vendor's wire format is in them.

use std::path::Path;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use reqwest::StatusCode;
use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};
use serde_json::Value;

/// Characters of an MIS's answer kept in an error.
pub const SAID_CHARS: usize = 300;

/// One pupil's statutory day as the MIS should hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayWrite {
    /// The pupil's reference as the roster import keeps it (`students.external_ref`): the
    /// MIS's own id, or the one it lists pupils by.
    pub pupil: String,
    pub day: NaiveDate,
    /// The MIS's code for the morning's mark (Wonde: the code, `/`; Ed-Fi: the full
    /// descriptor URI); `None`: no mark yet.
    pub am: Option<String>,
    pub pm: Option<String>,
    /// The same for every try of this version of the day: sent as `Idempotency-Key`, so a
    /// retry after a timeout is known for what it is.
    pub key: String,
    /// What the last successful write of this day returned ([`Receipt::mis_ref`]), or `None`
    /// when none was saved. A hint only, which connectors may ignore: Wonde replaces a
    /// session's mark, and Ed-Fi reads the day back instead.
    pub previous: Option<String>,
}

/// One pupil's mark in one lesson as the MIS should hold it: the lesson register's write-back.
/// The MIS names its lessons its own way, so the lesson is given as what both sides know: the
/// class's reference and when, in school time, the lesson was; each connector finds the MIS's
/// own lesson from them (Wonde: the class's lesson that day whose times overlap most; Ed-Fi:
/// the section the reference names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonWrite {
    /// The pupil's reference, as [`DayWrite::pupil`].
    pub pupil: String,
    /// The class's reference as the roster import keeps it (`classes.external_ref`): Wonde's
    /// class id or its MIS id; Ed-Fi's `sectionIdentifier`.
    pub class: String,
    pub day: NaiveDate,
    /// When the lesson begins and ends in the school's own time.
    pub starts: NaiveTime,
    pub ends: NaiveTime,
    /// The MIS's code for the mark, as [`DayWrite::am`].
    pub code: String,
    /// As [`DayWrite::key`].
    pub key: String,
}

/// A write the MIS took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// What the MIS named it (Wonde: the `writeback_id`; Ed-Fi: the events' ids as JSON, for
    /// the office to read), kept and handed back as [`DayWrite::previous`].
    pub mis_ref: Option<String>,
}

/// A mark as read back from the MIS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayRead {
    /// The reference the MIS names the pupil by first (Wonde: the MIS id, else the Wonde id;
    /// Ed-Fi: the `studentUniqueId`).
    pub pupil: String,
    /// Every other reference the MIS knows this pupil by (Wonde: the Wonde id beside the MIS
    /// id; Ed-Fi: none). A caller matching pupils by the school's own reference should try
    /// `pupil` then each alias.
    pub aliases: Vec<String>,
    pub day: NaiveDate,
    pub am: Option<String>,
    pub pm: Option<String>,
}

/// One of the MIS's own attendance codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MisCode {
    /// What the code table maps a Rollcall code to (Wonde: `/`, `N`; Ed-Fi: the descriptor's
    /// full URI).
    pub code: String,
    /// The MIS's description, when it gives one.
    pub meaning: Option<String>,
}

/// Why a call to the MIS did not do what it was asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MisError {
    /// The MIS refused this write for good (unknown pupil, code not allowed, closed period):
    /// retrying the same write cannot help. `said` is the MIS's own words.
    #[error("the MIS refused it ({status}): {said}")]
    Refused { status: u16, said: String },
    /// The write may work later (401, 429, 5xx, no answer, unreachable). `after`: the wait
    /// the MIS asked for (`Retry-After`).
    #[error("{said}")]
    Failed {
        said: String,
        after: Option<Duration>,
    },
}

impl MisError {
    /// The MIS's own words (or what went wrong on the way).
    pub fn said(&self) -> &str {
        match self {
            MisError::Refused { said, .. } | MisError::Failed { said, .. } => said,
        }
    }
}

/// What a non-2xx answer from `mis` (`Wonde`, `the Ed-Fi ODS`) means. 401 and 403 are
/// failures whose sentence ends with `check`, what to look at; 408, 429, 5xx and anything
/// else not 4xx are failures; any other 4xx is a refusal in `words`, the MIS's own.
pub(super) fn answer_error(
    mis: &str,
    status: StatusCode,
    after: Option<Duration>,
    words: String,
    check: &str,
) -> MisError {
    let code = status.as_u16();
    match code {
        401 | 403 => MisError::Failed {
            said: format!("{mis} answered {code} ({words}): {check}"),
            after,
        },
        408 | 429 => MisError::Failed {
            said: format!("{mis} answered {code}: {words}"),
            after,
        },
        400..=499 => MisError::Refused {
            status: code,
            said: words,
        },
        _ => MisError::Failed {
            said: format!("{mis} answered {code}: {words}"),
            after,
        },
    }
}

/// The MIS's words in `body` (`words_of` its JSON, else its text), cut to [`SAID_CHARS`]
/// characters; the status's name when it says nothing.
pub(super) fn said(status: StatusCode, body: &[u8], words_of: fn(&Value) -> String) -> String {
    let words = match serde_json::from_slice::<Value>(body) {
        Ok(json) => words_of(&json),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let words = cut(&words);
    if words.is_empty() {
        let reason = status.canonical_reason().unwrap_or("no reason given");
        return reason.to_owned();
    }
    words
}

/// `text` without control characters, at most [`SAID_CHARS`] characters.
/// Most bytes of one answer read from an MIS: a page of a list is far smaller; an answer
/// past it is refused rather than held in memory.
pub(super) const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// `answer`'s body, at most [`MAX_ANSWER_BYTES`].
pub(super) async fn body(
    mis: &str,
    mut answer: reqwest::Response,
    timeout_secs: u32,
) -> Result<Vec<u8>, MisError> {
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| unreachable(mis, e, timeout_secs))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(failed(format!(
                "{mis} answered with more than {} MiB",
                MAX_ANSWER_BYTES / (1024 * 1024)
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) fn cut(text: &str) -> String {
    let kept: String = (text.chars().filter(|c| !c.is_control()))
        .take(SAID_CHARS)
        .collect();
    kept.trim().to_owned()
}

/// The wait `Retry-After` asks for: its seconds, or the time from the answer's own `Date` to
/// the HTTP date it gives (from now when the answer has no `Date`), so a server whose clock is
/// not ours still gets the wait it meant. A date already past asks for no wait.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse() {
        return Some(Duration::from_secs(seconds));
    }
    let until = httpdate::parse_http_date(value).ok()?;
    let date = headers.get(DATE).and_then(|d| d.to_str().ok());
    let now = date
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
        .unwrap_or_else(std::time::SystemTime::now);
    Some(until.duration_since(now).unwrap_or_default())
}

/// A failure with no wait asked for.
pub(super) fn failed(said: String) -> MisError {
    MisError::Failed { said, after: None }
}

/// A call to `mis` that got no answer: timed out after `timeout_secs`, or never connected.
pub(super) fn unreachable(mis: &str, e: reqwest::Error, timeout_secs: u32) -> MisError {
    if e.is_timeout() {
        return failed(format!("{mis} did not answer within {timeout_secs} s"));
    }
    // Without the URL, as everywhere: its query could hold something not to be shown.
    failed(format!(
        "{mis} could not be reached: {}",
        causes(&e.without_url())
    ))
}

/// An HTTP client that gives up after `timeout_secs` and follows no redirect: a redirect
/// could carry the credentials elsewhere, and is said as the MIS's answer instead.
pub(super) fn client(mis: &str, timeout_secs: u32) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout_secs.into()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("the HTTP client for {mis} cannot be built: {}", causes(&e)))
}

/// The one line of secret in `path`, trimmed; errors name `setting` and the file, never
/// what it holds.
pub(super) fn read_secret(path: &Path, setting: &str) -> Result<String, String> {
    let problem = |problem: &str| format!("{setting} {}: {problem}", path.display());
    let text =
        std::fs::read_to_string(path).map_err(|e| problem(&format!("cannot read it: {e}")))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(problem("it is empty"));
    }
    if secret.contains(['\n', '\r']) {
        return Err(problem(
            "it holds more than one line; give the secret alone",
        ));
    }
    Ok(secret.to_owned())
}

/// An error with its causes: reqwest's own line says only "error sending request".
fn causes(e: &dyn std::error::Error) -> String {
    let mut said = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        said.push_str(": ");
        said.push_str(&cause.to_string());
        source = cause.source();
    }
    said
}

#[cfg(test)]
mod tests;
