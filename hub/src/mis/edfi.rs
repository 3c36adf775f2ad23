//! The Ed-Fi connector: writes a pupil's statutory day to an Ed-Fi ODS/API 7 (Data Standard 5)
//! as school attendance events and a pupil's lesson mark as a section attendance event, reads
//! a day back, lists the attendance event categories and tries the credentials.
//!
//! **Wire format.** OAuth 2 client credentials: `POST {url}/oauth/token` with HTTP Basic
//! `client_id:client_secret` and the form `grant_type=client_credentials`, answered
//! `{"access_token", "expires_in"}`. The token is kept until shortly before it expires; a data
//! call answered 401 gets a new token and is tried once more. Data is under
//! `{url}/data/v3/ed-fi/`. A day is one `studentSchoolAttendanceEvents` item per distinct
//! category descriptor (a full URI, `uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy`)
//! with the student (`studentUniqueId` = [`DayWrite::pupil`]), school, session and date. The
//! descriptor is part of the event's identity, so POST upserts: 201 new, 200 updated, and
//! `Location` ends with the item's id. `eventDuration` is 0.5 a session (1.0 when AM and PM
//! agree), and `attendanceEventReason` names the sessions (`AM`, `PM` or `AM PM`) so a day can
//! be read back as two sessions. Every write request carries `Idempotency-Key`.
//!
//! **Corrections.** A write replaces the pupil's day at the school whole, whatever receipts
//! say. It posts its own events first, so a failure part-way never leaves the day empty. Then
//! it reads the pupil's events of that day at the school (`studentUniqueId`, `eventDate` and
//! `schoolId`, every page) and deletes each but the ones it has just written (a 404 is
//! already gone). So an event left by a write refused part-way, or by a write the ODS took
//! whose receipt was never saved, goes with the next write of that day; so does one another
//! system wrote for the pupil's day, and one of the same category in another session (the
//! school's `session_name` changed since). A day with no mark deletes all of them.
//! [`DayWrite::previous`] is not used. [`Receipt::mis_ref`] is a JSON object of descriptor
//! URI → item id of the events written, for the office to read.
//!
//! **Lessons.** [`LessonWrite::class`] is the section's `sectionIdentifier`. The section is
//! found with `GET sections` by `sectionIdentifier`, `schoolId` and `schoolYear` (every page),
//! and the one in the configured session is taken. None there, or several, is a
//! [`MisError::Refused`] naming the section, for the office to check the class's reference.
//! A section found is kept for five minutes (`SECTION_KEPT`), as a pass writes each lesson
//! for every pupil; a refused write forgets it. The mark is one
//! `studentSectionAttendanceEvents` item: the student, the section's full `sectionReference`
//! (`localCourseCode`, `schoolId`, `schoolYear`, `sectionIdentifier`, `sessionName`), the date
//! and the category descriptor, posted with `Idempotency-Key` as a day's events are. The
//! descriptor is part of the event's identity, so a corrected mark is a new event: after the
//! POST, the pupil's events of that section and date are read (by those five, `studentUniqueId`
//! and `eventDate`) and each of another category is deleted. [`LessonWrite::starts`] and
//! `ends` are not sent: the section and the date name the lesson. [`Receipt::mis_ref`] is the
//! kept event's id.
//!
//! **Errors.** For days and lessons alike: 401 and 403 (after the new token), 408, 429 (with
//! `Retry-After`), 5xx, token refusals and no answer are [`MisError::Failed`]; any other 4xx
//! is [`MisError::Refused`] with the ODS's problem details (`detail`, then `validationErrors`
//! and `errors`), cut to [`SAID_CHARS`](connector::SAID_CHARS) characters.
//!
//! Must never: log the client secret or a token, or put either (or any `Authorization`
//! value) in an error, a log line or `Debug`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION};
use reqwest::{RequestBuilder, StatusCode, Url};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::connector::{self, DayRead, DayWrite, MisCode, MisError, Receipt};
use super::connector::{cut, failed, read_secret, retry_after, said};
use crate::config::EdFiConfig;
use lessons::Section;
use read_back::fold;

/// The header every write request carries ([`DayWrite::key`]).
const IDEMPOTENCY_KEY: &str = "idempotency-key";
const EVENTS: &str = "studentSchoolAttendanceEvents";
const CATEGORIES: &str = "attendanceEventCategoryDescriptors";
/// Items asked for a page: the ODS's shipped `DefaultPageSizeLimit`, the most it gives.
const PAGE: usize = 500;
/// The most pages of one list read in one call.
const MAX_PAGES: usize = 1000;
/// How long a token is kept when the ODS does not say (`expires_in`): until a 401.
const UNSAID_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The school's ODS, ready to write.
#[derive(Clone)]
pub struct EdFi {
    token_url: Url,
    /// `{url}/data/v3/ed-fi/`.
    data: Url,
    client_id: String,
    secret: String,
    school_id: i64,
    school_year: u16,
    session_name: String,
    timeout_secs: u32,
    client: reqwest::Client,
    token: Arc<Mutex<Option<Token>>>,
    /// Sections found, by `sectionIdentifier`, with when they were found.
    sections: Arc<Mutex<HashMap<String, (Instant, Section)>>>,
}

impl std::fmt::Debug for EdFi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdFi")
            .field("data", &self.data.as_str())
            .field("client_id", &self.client_id)
            .field("school_id", &self.school_id)
            .field("timeout_secs", &self.timeout_secs)
            .finish_non_exhaustive()
    }
}

/// An access token and when it is no longer used.
#[derive(Clone)]
struct Token {
    /// `Bearer {token}`, marked sensitive.
    bearer: HeaderValue,
    until: Instant,
}

/// The sessions one event covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Covers {
    Am,
    Pm,
    Both,
}

impl Covers {
    fn reason(self) -> &'static str {
        match self {
            Covers::Am => "AM",
            Covers::Pm => "PM",
            Covers::Both => "AM PM",
        }
    }

    fn duration(self) -> f64 {
        if self == Covers::Both { 1.0 } else { 0.5 }
    }

    /// The sessions an event's `attendanceEventReason` names; `None` when it names neither.
    fn from_reason(reason: &str) -> Option<Covers> {
        let words: Vec<&str> = reason.split_whitespace().collect();
        match (words.contains(&"AM"), words.contains(&"PM")) {
            (true, true) => Some(Covers::Both),
            (true, false) => Some(Covers::Am),
            (false, true) => Some(Covers::Pm),
            (false, false) => None,
        }
    }
}

/// A non-token answer, read whole.
struct Answered {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answered {
    /// The answer if 2xx, else what it means.
    fn checked(self) -> Result<Answered, MisError> {
        if self.status.is_success() {
            return Ok(self);
        }
        Err(answer_error(
            self.status,
            retry_after(&self.headers),
            &self.body,
        ))
    }

    fn json(&self) -> Result<Value, MisError> {
        serde_json::from_slice(&self.body).map_err(|_| {
            let text = String::from_utf8_lossy(&self.body);
            failed(format!(
                "the Ed-Fi ODS answered {} but not in JSON: {}",
                self.status,
                cut(&text)
            ))
        })
    }
}

impl EdFi {
    /// The connector `config` describes, its secret file read now.
    pub fn new(config: &EdFiConfig, timeout_secs: u32) -> Result<EdFi, String> {
        let bad_url = || format!("mis.edfi.url {:?}: give an http(s) address", config.url);
        let root = Url::parse(&config.url).map_err(|_| bad_url())?;
        if !matches!(root.scheme(), "http" | "https") || !root.has_host() {
            return Err(bad_url());
        }
        let under = |segments: &[&str]| -> Result<Url, String> {
            let mut url = root.clone();
            url.path_segments_mut()
                .map_err(|_| bad_url())?
                .pop_if_empty()
                .extend(segments);
            Ok(url)
        };
        let secret = read_secret(&config.client_secret_file, "mis.edfi.client_secret_file")?;
        let client = connector::client("the Ed-Fi ODS", timeout_secs)?;
        Ok(EdFi {
            token_url: under(&["oauth", "token"])?,
            data: under(&["data", "v3", "ed-fi", ""])?,
            client_id: config.client_id.clone(),
            secret,
            school_id: config.school_id,
            school_year: config.school_year,
            session_name: config.session_name.clone(),
            timeout_secs,
            client,
            token: Arc::default(),
            sections: Arc::default(),
        })
    }

    /// Writes `w`'s events, then deletes every other event of the pupil's day at the school
    /// (see the module docs).
    pub async fn write(&self, w: &DayWrite) -> Result<Receipt, MisError> {
        let mut kept = BTreeMap::new();
        for (descriptor, covers) in day_events(w) {
            let event = self.event(w, descriptor, covers);
            let id = self.post_event(EVENTS, &event, &w.key).await?;
            kept.insert(descriptor.to_owned(), id);
        }
        let held = self.pupil_day(&w.pupil, w.day).await?;
        for id in unwanted(&held, &w.pupil, w.day, self.school_id, &kept) {
            self.delete_event(EVENTS, &id, &w.key).await?;
        }
        let mis_ref = (!kept.is_empty())
            .then(|| serde_json::to_string(&kept).expect("a map of strings is JSON"));
        Ok(Receipt { mis_ref })
    }

    /// A token (the client's credentials work), then one event of the school (it can be read).
    pub async fn try_connection(&self) -> Result<String, MisError> {
        self.token().await?;
        let query = [
            ("schoolId", self.school_id.to_string()),
            ("limit", "1".to_owned()),
            ("totalCount", "true".to_owned()),
        ];
        let answered = self
            .call(|| self.client.get(self.url(EVENTS)).query(&query))
            .await?;
        let answered = answered.checked()?;
        let total = answered.headers.get("total-count");
        let total = total.and_then(|t| t.to_str().ok()?.trim().parse::<u64>().ok());
        let held = match total {
            Some(1) => "1 attendance event".to_owned(),
            Some(n) => format!("{n} attendance events"),
            None => "attendance events that can be read".to_owned(),
        };
        Ok(format!(
            "The Ed-Fi ODS answered: client {} was given a token, and school {} holds {held}",
            self.client_id, self.school_id
        ))
    }

    /// Every `AttendanceEventCategoryDescriptor` value, as full URIs.
    pub async fn codes(&self) -> Result<Vec<MisCode>, MisError> {
        let items = self.all(CATEGORIES, &[]).await?;
        let code = |item: &Value| {
            let (namespace, value) = (item["namespace"].as_str()?, item["codeValue"].as_str()?);
            let meaning = [&item["description"], &item["shortDescription"]]
                .into_iter()
                .filter_map(|m| m.as_str().map(str::trim))
                .find(|m| !m.is_empty());
            Some(MisCode {
                code: format!("{namespace}#{value}"),
                meaning: meaning.map(str::to_owned),
            })
        };
        Ok(items.iter().filter_map(code).collect())
    }

    /// Every pupil's events of `day` at the school, one [`DayRead`] a pupil.
    pub async fn read_day(&self, day: NaiveDate) -> Result<Vec<DayRead>, MisError> {
        let query = [
            ("schoolId", self.school_id.to_string()),
            ("eventDate", ymd(day)),
        ];
        let events = self.all(EVENTS, &query).await?;
        Ok(fold(&events, day))
    }

    /// Every event the ODS holds for `pupil` on `day` at the school.
    async fn pupil_day(&self, pupil: &str, day: NaiveDate) -> Result<Vec<Value>, MisError> {
        let query = [
            ("studentUniqueId", pupil.to_owned()),
            ("eventDate", ymd(day)),
            ("schoolId", self.school_id.to_string()),
        ];
        self.all(EVENTS, &query).await
    }

    /// The event of `w`'s day for `descriptor`, covering `covers`.
    fn event(&self, w: &DayWrite, descriptor: &str, covers: Covers) -> Value {
        json!({
            "studentReference": {"studentUniqueId": w.pupil},
            "schoolReference": {"schoolId": self.school_id},
            "sessionReference": {
                "schoolId": self.school_id,
                "schoolYear": self.school_year,
                "sessionName": self.session_name,
            },
            "eventDate": ymd(w.day),
            "attendanceEventCategoryDescriptor": descriptor,
            "eventDuration": covers.duration(),
            "attendanceEventReason": covers.reason(),
        })
    }

    /// POSTs `event` to `endpoint` (an upsert) and gives the item's id.
    async fn post_event(
        &self,
        endpoint: &str,
        event: &Value,
        key: &str,
    ) -> Result<String, MisError> {
        let answered = self
            .call(|| self.event_request(endpoint, event, key))
            .await?
            .checked()?;
        let location = answered.headers.get(LOCATION).and_then(|l| l.to_str().ok());
        let id = location.and_then(|l| l.trim_end_matches('/').rsplit('/').next());
        let plain =
            |id: &&str| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        id.filter(plain).map(str::to_owned).ok_or_else(|| {
            failed("the Ed-Fi ODS took the event but did not say its id (Location)".to_owned())
        })
    }

    /// `POST {endpoint}` of `event`, with `key` as `Idempotency-Key`.
    fn event_request(&self, endpoint: &str, event: &Value, key: &str) -> RequestBuilder {
        (self.client.post(self.url(endpoint)))
            .header(IDEMPOTENCY_KEY, key)
            .json(event)
    }

    /// DELETEs event `id` of `endpoint`; one already gone (404) is fine.
    async fn delete_event(&self, endpoint: &str, id: &str, key: &str) -> Result<(), MisError> {
        let mut url = self.url(endpoint);
        url.path_segments_mut()
            .expect("an http URL has a path")
            .push(id);
        let build = || self.client.delete(url.clone()).header(IDEMPOTENCY_KEY, key);
        let answered = self.call(build).await?;
        if answered.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        answered.checked().map(drop)
    }

    /// Every item of `endpoint` matching `query`, a page of [`PAGE`] at a time.
    async fn all(&self, endpoint: &str, query: &[(&str, String)]) -> Result<Vec<Value>, MisError> {
        let mut items = Vec::new();
        for page in 0..MAX_PAGES {
            let paging = [("offset", page * PAGE), ("limit", PAGE)];
            let build = || {
                self.client
                    .get(self.url(endpoint))
                    .query(query)
                    .query(&paging)
            };
            let answered = self.call(build).await?.checked()?;
            let Value::Array(list) = answered.json()? else {
                return Err(failed(format!(
                    "the Ed-Fi ODS's {endpoint} answer is not a list"
                )));
            };
            let full = list.len() >= PAGE;
            items.extend(list);
            if !full {
                return Ok(items);
            }
        }
        Err(failed(format!(
            "the Ed-Fi ODS's {endpoint} list ran past {MAX_PAGES} pages"
        )))
    }

    fn url(&self, endpoint: &str) -> Url {
        self.data
            .join(endpoint)
            .expect("a fixed relative path joins")
    }

    /// The request `build` makes, sent with a token; on a 401, once more with a new token.
    async fn call(&self, build: impl Fn() -> RequestBuilder) -> Result<Answered, MisError> {
        let token = self.token().await?;
        let answered = self.send(build(), &token).await?;
        if answered.status != StatusCode::UNAUTHORIZED {
            return Ok(answered);
        }
        self.forget(&token).await;
        let token = self.token().await?;
        self.send(build(), &token).await
    }

    async fn send(
        &self,
        request: RequestBuilder,
        bearer: &HeaderValue,
    ) -> Result<Answered, MisError> {
        let request = request.header(AUTHORIZATION, bearer.clone());
        let answer = request.send().await.map_err(|e| self.unreachable(e))?;
        let (status, headers) = (answer.status(), answer.headers().clone());
        let body = connector::body("the Ed-Fi ODS", answer, self.timeout_secs).await?;
        Ok(Answered {
            status,
            headers,
            body,
        })
    }

    /// The token kept, or a new one.
    async fn token(&self) -> Result<HeaderValue, MisError> {
        let mut kept = self.token.lock().await;
        if let Some(token) = kept.as_ref().filter(|t| Instant::now() < t.until) {
            return Ok(token.bearer.clone());
        }
        let token = self.new_token().await?;
        let bearer = token.bearer.clone();
        *kept = Some(token);
        Ok(bearer)
    }

    /// Drops `used` if it is still the token kept: the ODS no longer takes it.
    async fn forget(&self, used: &HeaderValue) {
        let mut kept = self.token.lock().await;
        if kept.as_ref().is_some_and(|t| t.bearer == *used) {
            *kept = None;
        }
    }

    async fn new_token(&self) -> Result<Token, MisError> {
        let asked = Instant::now();
        let request = (self.client.post(self.token_url.clone()))
            .basic_auth(&self.client_id, Some(&self.secret))
            .form(&[("grant_type", "client_credentials")]);
        let answer = request.send().await.map_err(|e| self.unreachable(e))?;
        let (status, after) = (answer.status(), retry_after(answer.headers()));
        let body = connector::body("the Ed-Fi ODS", answer, self.timeout_secs).await?;
        if !status.is_success() {
            return Err(token_error(status, after, &body));
        }
        let json: Value = serde_json::from_slice(&body).unwrap_or_default();
        let token = json["access_token"].as_str().filter(|t| !t.is_empty());
        let token = token
            .ok_or_else(|| failed("the Ed-Fi ODS's token answer has no access_token".to_owned()))?;
        let mut bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            failed("the Ed-Fi ODS's access token holds characters a header cannot".to_owned())
        })?;
        bearer.set_sensitive(true);
        let lifetime = match &json["expires_in"] {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        Ok(Token {
            bearer,
            until: asked + lifetime.map_or(UNSAID_LIFETIME, kept_for),
        })
    }

    fn unreachable(&self, e: reqwest::Error) -> MisError {
        connector::unreachable("the Ed-Fi ODS", e, self.timeout_secs)
    }
}

/// How long a token of `lifetime` seconds is used: a tenth of it, at most a minute, less.
fn kept_for(lifetime: u64) -> Duration {
    let lifetime = Duration::from_secs(lifetime);
    lifetime - (lifetime / 10).min(Duration::from_secs(60))
}

/// Each distinct descriptor of `w`'s day and the sessions it covers.
fn day_events(w: &DayWrite) -> BTreeMap<&str, Covers> {
    let mut events = BTreeMap::new();
    if let Some(am) = &w.am {
        events.insert(am.as_str(), Covers::Am);
    }
    if let Some(pm) = &w.pm {
        (events.entry(pm.as_str()))
            .and_modify(|c| *c = Covers::Both)
            .or_insert(Covers::Pm);
    }
    events
}

/// The ids of the events in `held` to delete: those of `pupil` on `day` at school `school`
/// other than the ones just written (`kept`: descriptor → id). Kept by id, not by descriptor,
/// so an event of a wanted category left in another session (`session_name` changed since)
/// goes too. Each event's pupil, date and school are checked again, so an ODS that ignored a
/// filter still has only this pupil's day deleted.
fn unwanted(
    held: &[Value],
    pupil: &str,
    day: NaiveDate,
    school: i64,
    kept: &BTreeMap<String, String>,
) -> Vec<String> {
    let written: Vec<&str> = kept.values().map(String::as_str).collect();
    let of_the_day = |e: &&Value| {
        of_pupil_on(e, pupil, day) && e["schoolReference"]["schoolId"].as_i64() == Some(school)
    };
    (held.iter().filter(of_the_day))
        .filter_map(|e| e["id"].as_str().filter(|id| !id.is_empty()))
        .filter(|id| !written.contains(id))
        .map(str::to_owned)
        .collect()
}

/// Whether event `e` is `pupil`'s on `day`.
fn of_pupil_on(e: &Value, pupil: &str, day: NaiveDate) -> bool {
    e["studentReference"]["studentUniqueId"].as_str() == Some(pupil)
        && e["eventDate"].as_str() == Some(&ymd(day))
}

/// The ids of the events of `held` that are `mine` and whose descriptor is not one `kept`
/// takes (an event with none is not kept).
fn ids_other_than(
    held: &[Value],
    mine: impl Fn(&Value) -> bool,
    kept: impl Fn(&str) -> bool,
) -> Vec<String> {
    let not_wanted = |e: &&Value| {
        let descriptor = e["attendanceEventCategoryDescriptor"].as_str();
        mine(e) && !descriptor.is_some_and(&kept)
    };
    let ids = held.iter().filter(not_wanted);
    ids.filter_map(|e| e["id"].as_str().filter(|id| !id.is_empty()))
        .map(str::to_owned)
        .collect()
}

fn ymd(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// What a non-2xx data answer means (see the module docs).
fn answer_error(status: StatusCode, after: Option<Duration>, body: &[u8]) -> MisError {
    let check = "check the API client's claims for the school";
    let words = said(status, body, words_of);
    connector::answer_error("the Ed-Fi ODS", status, after, words, check)
}

/// What a token endpoint's refusal means: always a failure, the write itself is not at fault.
fn token_error(status: StatusCode, after: Option<Duration>, body: &[u8]) -> MisError {
    let code = status.as_u16();
    let words = said(status, body, words_of);
    let said = match code {
        400 | 401 | 403 => format!(
            "the Ed-Fi ODS gave no token ({code}: {words}): check mis.edfi.client_id and \
             mis.edfi.client_secret_file"
        ),
        _ => format!("the Ed-Fi ODS's token endpoint answered {code}: {words}"),
    };
    MisError::Failed { said, after }
}

/// The ODS's own words in an answer: a problem's `detail`, then its `validationErrors`
/// (`path: message`) and `errors`, or an OAuth `error`.
fn words_of(json: &Value) -> String {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let mut parts: Vec<String> = [&json["detail"], &json["error"]]
        .into_iter()
        .filter_map(text)
        .collect();
    if let Value::Object(by_path) = &json["validationErrors"] {
        for (path, messages) in by_path {
            let messages = messages
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str);
            parts.extend(messages.map(|m| format!("{path}: {m}")));
        }
    }
    let errors = json["errors"].as_array().into_iter().flatten();
    parts.extend(errors.filter_map(text));
    if parts.is_empty() && !json.is_null() {
        return json.to_string();
    }
    parts.join("; ")
}

mod lessons;
mod read_back;
#[cfg(test)]
mod tests;
