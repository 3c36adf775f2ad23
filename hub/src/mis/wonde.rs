//! The Wonde connector: writes a pupil's statutory day, or their mark in one lesson, to the
//! school's MIS through the Wonde API v1.0 (the way SIMS, Arbor and Bromcom schools take
//! third-party write-back), reads a day back, lists the school's attendance codes and tries
//! the token.
//!
//! **Wire format.** Every call goes to `{url}/v1.0/schools/{school_id}/…` with the school's
//! token as `Authorization: Bearer`. Lists (`students`, `attendance-codes`, `lessons`,
//! `attendance/session`) answer `{"data": [...], "meta": {"pagination": {"next", "more"}}}`;
//! the connector follows `next` until it is null, and only on Wonde's own server. A day is one
//! `POST attendance/session` of `{"attendance": [{"date", "session": "AM" | "PM",
//! "student_id", "attendance_code_id"}, …]}` holding the sessions that have a mark. A lesson
//! mark is one `POST attendance/lesson` of `{"attendance": [{"lesson_id", "student_id",
//! "attendance_code_id"}]}`. Both are answered `{"writeback_id"}`, which becomes
//! [`Receipt::mis_ref`]. Wonde keeps one mark per student, date and session (per student and
//! lesson), so a retry replaces rather than adds; every write also carries `Idempotency-Key`.
//!
//! **Pupils and codes.** [`DayWrite::pupil`] is matched against a student's Wonde `id` first,
//! then against their `mis_id`; a code (`/`, `N`) against the `code` of `attendance-codes`.
//! Both lists are kept in memory and read again when a pupil or code is not in them, at most
//! once a call. A pupil or code Wonde does not have is refused (404) before anything is sent.
//!
//! **Lessons.** Wonde names its own lessons, so [`LessonWrite`]'s lesson is found among the
//! day's: `GET lessons?include=class&lessons_start_after={day} 00:00:00&lessons_start_before=
//! {next day} 00:00:00`, each lesson `{"id", "class", "start_at", "end_at"}` with `class` as
//! `{"data": {"id", "mis_id", "name"}}` (or the class's id alone) and times as `{"date":
//! "2026-11-23 09:00:00.000000", "timezone", …}`. The lesson chosen is the one of
//! [`LessonWrite::class`] (its Wonde id or MIS id), starting that day, whose time overlaps the
//! write's most; of two that overlap as much, the earlier. Times are compared as they are
//! written, without their `timezone`: the school and its MIS keep one timezone, and Rollcall's
//! times are the school's. A day's lessons are kept for five minutes, so a pass writing every
//! pupil's lessons reads each day once. When no lesson fits, lessons read five seconds ago or
//! more are read again, once (the MIS's timetable may just have been synced), before the write is
//! refused (404) in words that say what to check.
//! [`Wonde::read_day`] names each pupil by their `mis_id`, or by their Wonde `id` when Wonde
//! has no MIS id for them: the reference a roster exported from the MIS carries. The other of
//! the two, when there is one, is the pupil's alias ([`DayRead::aliases`]).
//!
//! **Errors.** 401 and 403, 408, 429 (with `Retry-After`), 5xx and no answer are
//! [`MisError::Failed`]; any other 4xx is [`MisError::Refused`] with Wonde's `message` and
//! `errors`, cut to [`SAID_CHARS`](connector::SAID_CHARS) characters. A refused write forgets
//! the students, codes and lessons kept: one of them may have gone since it was read.
//!
//! Must never: log the token, or put it (or any `Authorization` value) in an error, a log line
//! or `Debug`.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::connector::{self, DayRead, DayWrite, MisCode, MisError, Receipt};
use super::connector::{cut, failed, read_secret, retry_after, said};
use crate::config::WondeConfig;
use lessons::Timetable;

/// The header every write carries ([`DayWrite::key`]).
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The most pages of one list read in one call: a `next` that never ends is cut off.
const MAX_PAGES: usize = 1000;
const STUDENTS: &str = "students";
const CODES: &str = "attendance-codes";
const SESSIONS: &str = "attendance/session";

/// The school at Wonde, ready to write.
#[derive(Clone)]
pub struct Wonde {
    /// `{url}/v1.0/schools/{school_id}/`.
    base: Url,
    school_id: String,
    /// `Bearer {token}`, marked sensitive.
    bearer: HeaderValue,
    timeout_secs: u32,
    client: reqwest::Client,
    lists: Arc<Lists>,
}

impl std::fmt::Debug for Wonde {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wonde")
            .field("base", &self.base.as_str())
            .field("timeout_secs", &self.timeout_secs)
            .finish_non_exhaustive()
    }
}

/// The school's students, codes and lessons as last read, shared by every clone.
#[derive(Debug, Default)]
struct Lists {
    students: Mutex<Option<Arc<Students>>>,
    codes: Mutex<Option<Arc<Codes>>>,
    /// By day; a day read more than [`lessons::LESSONS_KEPT`] ago is dropped when another is read.
    lessons: Mutex<HashMap<NaiveDate, Arc<Timetable>>>,
}

/// The school's students.
#[derive(Debug, Default, PartialEq)]
struct Students {
    /// Wonde id → MIS id (empty when Wonde has none).
    mis_ids: HashMap<String, String>,
    /// MIS id → Wonde id.
    wonde_ids: HashMap<String, String>,
}

impl Students {
    fn from_items(items: &[Value]) -> Students {
        let mut students = Students::default();
        for item in items {
            let Some(id) = item["id"].as_str().filter(|id| !id.is_empty()) else {
                continue;
            };
            let mis_id = item["mis_id"].as_str().unwrap_or_default().trim();
            if !mis_id.is_empty() {
                (students.wonde_ids)
                    .entry(mis_id.to_owned())
                    .or_insert_with(|| id.to_owned());
            }
            students.mis_ids.insert(id.to_owned(), mis_id.to_owned());
        }
        students
    }

    /// The Wonde id of the pupil `pupil` names: their Wonde id, else their MIS id.
    fn wonde_id(&self, pupil: &str) -> Option<&str> {
        match self.mis_ids.get_key_value(pupil) {
            Some((id, _)) => Some(id),
            None => self.wonde_ids.get(pupil).map(String::as_str),
        }
    }

    /// How [`Wonde::read_day`] names the student with Wonde id `id`, and their aliases (see
    /// the module docs).
    fn reference<'a>(&'a self, id: &'a str) -> (&'a str, Vec<String>) {
        match self.mis_ids.get(id).filter(|m| !m.is_empty()) {
            Some(mis_id) if mis_id != id => (mis_id, vec![id.to_owned()]),
            _ => (id, Vec::new()),
        }
    }
}

/// The school's attendance codes.
#[derive(Debug, Default, PartialEq)]
struct Codes {
    /// Code (`/`) → Wonde id.
    ids: HashMap<String, String>,
    /// Wonde id → code.
    codes: HashMap<String, String>,
    list: Vec<MisCode>,
}

impl Codes {
    fn from_items(items: &[Value]) -> Codes {
        let mut codes = Codes::default();
        for item in items {
            let (Some(id), Some(code)) = (item["id"].as_str(), item["code"].as_str()) else {
                continue;
            };
            codes.ids.insert(code.to_owned(), id.to_owned());
            codes.codes.insert(id.to_owned(), code.to_owned());
            // Not in the model (it knows `id` and `code`): kept when Wonde sends it.
            let meaning = item["description"].as_str().map(str::trim);
            codes.list.push(MisCode {
                code: code.to_owned(),
                meaning: meaning.filter(|m| !m.is_empty()).map(str::to_owned),
            });
        }
        codes
    }
}

impl Wonde {
    /// The connector `config` describes, its secret file read now.
    pub fn new(config: &WondeConfig, timeout_secs: u32) -> Result<Wonde, String> {
        let bad_url = || format!("mis.wonde.url {:?}: give an http(s) address", config.url);
        let mut base = Url::parse(&config.url).map_err(|_| bad_url())?;
        if !matches!(base.scheme(), "http" | "https") || !base.has_host() {
            return Err(bad_url());
        }
        base.path_segments_mut()
            .map_err(|_| bad_url())?
            .pop_if_empty()
            .extend(["v1.0", "schools", &config.school_id, ""]);
        let path = &config.token_file;
        let token = read_secret(path, "mis.wonde.token_file")?;
        let mut bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            format!(
                "mis.wonde.token_file {}: the token holds characters a header cannot",
                path.display()
            )
        })?;
        bearer.set_sensitive(true);
        let client = connector::client("Wonde", timeout_secs)?;
        Ok(Wonde {
            base,
            school_id: config.school_id.clone(),
            bearer,
            timeout_secs,
            client,
            lists: Arc::default(),
        })
    }

    /// Writes `w`'s marks (both sessions that have one) in one register.
    pub async fn write(&self, w: &DayWrite) -> Result<Receipt, MisError> {
        let sessions: Vec<(&str, &str)> = [("AM", &w.am), ("PM", &w.pm)]
            .into_iter()
            .filter_map(|(session, code)| Some((session, code.as_deref()?)))
            .collect();
        if sessions.is_empty() {
            return Ok(Receipt { mis_ref: None });
        }
        let student_id = self.student_id(&w.pupil).await?;
        let codes: Vec<&str> = sessions.iter().map(|(_, code)| *code).collect();
        let code_ids = self.code_ids(&codes).await?;
        let attendance: Vec<Value> = (sessions.iter().zip(code_ids))
            .map(|((session, _), code_id)| {
                json!({
                    "date": w.day.format("%Y-%m-%d").to_string(),
                    "session": session,
                    "student_id": student_id,
                    "attendance_code_id": code_id,
                })
            })
            .collect();
        let register = json!({ "attendance": attendance });
        self.post(SESSIONS, &register, &w.key).await
    }

    /// The first page of students and of codes: the token and the school's id work.
    pub async fn try_connection(&self) -> Result<String, MisError> {
        let students = self.get(self.url(STUDENTS)).await?;
        let codes = self.get(self.url(CODES)).await?;
        Ok(format!(
            "Wonde answered: school {} has {} and {}",
            self.school_id,
            counted(&students, "pupil"),
            counted(&codes, "attendance code")
        ))
    }

    /// Every attendance code of the school.
    pub async fn codes(&self) -> Result<Vec<MisCode>, MisError> {
        let codes = Codes::from_items(&self.all(CODES, &[]).await?);
        let list = codes.list.clone();
        *self.lists.codes.lock().await = Some(Arc::new(codes));
        Ok(list)
    }

    /// Every session mark Wonde holds for `day`, one [`DayRead`] a pupil.
    pub async fn read_day(&self, day: NaiveDate) -> Result<Vec<DayRead>, MisError> {
        let date = day.format("%Y-%m-%d").to_string();
        let marks: Vec<Value> = (self.all(SESSIONS, &[]).await?.into_iter())
            .filter(|m| m["date"].as_str() == Some(&date))
            .collect();
        let named = |field: &str| -> Vec<String> {
            let names = marks.iter().filter_map(|m| m[field].as_str());
            names.map(str::to_owned).collect()
        };
        let (student_ids, code_ids) = (named("student_id"), named("attendance_code_id"));
        let students = self
            .students_where(|s| student_ids.iter().all(|id| s.mis_ids.contains_key(id)))
            .await?;
        let codes = self
            .codes_where(|c| code_ids.iter().all(|id| c.codes.contains_key(id)))
            .await?;
        Ok(fold(&marks, day, &students, &codes))
    }

    /// The Wonde id of the pupil `pupil` names; refused (404) when Wonde has none.
    async fn student_id(&self, pupil: &str) -> Result<String, MisError> {
        let students = self.students_where(|s| s.wonde_id(pupil).is_some()).await?;
        let id = students.wonde_id(pupil).map(str::to_owned);
        id.ok_or_else(|| refused(format!("no pupil with id or MIS id {pupil} in Wonde")))
    }

    /// The Wonde ids of `wanted` codes, in order; refused (404) for a code Wonde lacks.
    async fn code_ids(&self, wanted: &[&str]) -> Result<Vec<String>, MisError> {
        let codes = self
            .codes_where(|c| wanted.iter().all(|code| c.ids.contains_key(*code)))
            .await?;
        let id = |code: &&str| {
            let id = codes.ids.get(*code).cloned();
            id.ok_or_else(|| {
                refused(format!(
                    "Wonde has no attendance code {code:?} for this school: check the code table"
                ))
            })
        };
        wanted.iter().map(id).collect()
    }

    /// `POST path` of `register` with `key`; the receipt, or what the answer means. A refusal
    /// forgets every list kept: a pupil, code or lesson may have gone since it was read.
    async fn post(&self, path: &str, register: &Value, key: &str) -> Result<Receipt, MisError> {
        match self.send(self.write_request(path, register, key)).await {
            Ok(answer) => Ok(Receipt {
                mis_ref: writeback_id(&answer),
            }),
            Err(refused @ MisError::Refused { .. }) => {
                *self.lists.students.lock().await = None;
                *self.lists.codes.lock().await = None;
                self.lists.lessons.lock().await.clear();
                Err(refused)
            }
            Err(failed) => Err(failed),
        }
    }

    /// `POST path` of `register`, with `key` as `Idempotency-Key`.
    fn write_request(&self, path: &str, register: &Value, key: &str) -> reqwest::RequestBuilder {
        (self.client.post(self.url(path)))
            .header(IDEMPOTENCY_KEY, key)
            .json(register)
    }

    async fn students_where(
        &self,
        fits: impl Fn(&Students) -> bool,
    ) -> Result<Arc<Students>, MisError> {
        let load = async { Ok(Students::from_items(&self.all(STUDENTS, &[]).await?)) };
        kept_or_loaded(&self.lists.students, fits, load).await
    }

    async fn codes_where(&self, fits: impl Fn(&Codes) -> bool) -> Result<Arc<Codes>, MisError> {
        let load = async { Ok(Codes::from_items(&self.all(CODES, &[]).await?)) };
        kept_or_loaded(&self.lists.codes, fits, load).await
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("a fixed relative path joins")
    }

    /// Every item of the list at `path` asked with `query`, following `meta.pagination.next`.
    async fn all(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<Value>, MisError> {
        let mut url = self.url(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let mut page = self.get(url).await?;
            let Value::Array(data) = page["data"].take() else {
                return Err(failed(format!(
                    "Wonde's answer to {path} holds no data list"
                )));
            };
            items.extend(data);
            match page["meta"]["pagination"]["next"].as_str() {
                Some(next) => url = self.next_page(next)?,
                None => return Ok(items),
            }
        }
        Err(failed(format!(
            "Wonde's {path} list ran past {MAX_PAGES} pages"
        )))
    }

    /// A `next` link, if it is on Wonde's own server: the token is never sent elsewhere.
    fn next_page(&self, next: &str) -> Result<Url, MisError> {
        let url = Url::parse(next)
            .map_err(|_| failed("Wonde's next page is not an address".to_owned()))?;
        if url.origin() != self.base.origin() {
            let host = url.host_str().unwrap_or("none");
            return Err(failed(format!(
                "Wonde's next page is on another server ({host}); the token is not sent there"
            )));
        }
        Ok(url)
    }

    async fn get(&self, url: Url) -> Result<Value, MisError> {
        self.send(self.client.get(url)).await
    }

    /// Sends `request` with the token; a 2xx answer's JSON, or what the answer means.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, MisError> {
        let request = request.header(AUTHORIZATION, self.bearer.clone());
        let answer = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = answer.status();
        let after = retry_after(answer.headers());
        let body = connector::body("Wonde", answer, self.timeout_secs).await?;
        if !status.is_success() {
            return Err(answer_error(status, after, &body));
        }
        serde_json::from_slice(&body).map_err(|_| {
            let text = String::from_utf8_lossy(&body);
            failed(format!(
                "Wonde answered {status} but not in JSON: {}",
                cut(&text)
            ))
        })
    }

    fn unreachable(&self, e: reqwest::Error) -> MisError {
        connector::unreachable("Wonde", e, self.timeout_secs)
    }
}

/// The list in `slot` if `fits` it, else the one `load` reads, kept in `slot` for next time.
async fn kept_or_loaded<T>(
    slot: &Mutex<Option<Arc<T>>>,
    fits: impl Fn(&T) -> bool,
    load: impl Future<Output = Result<T, MisError>>,
) -> Result<Arc<T>, MisError> {
    let mut kept = slot.lock().await;
    if let Some(list) = kept.as_ref().filter(|list| fits(list)) {
        return Ok(Arc::clone(list));
    }
    let list = Arc::new(load.await?);
    *kept = Some(Arc::clone(&list));
    Ok(list)
}

/// A refusal (404) of a write Wonde cannot take as it stands, in `said`.
fn refused(said: String) -> MisError {
    MisError::Refused {
        status: 404,
        said: cut(&said),
    }
}

/// One [`DayRead`] a pupil from `day`'s session marks, codes and pupils named as the school
/// names them. A code id Wonde no longer lists is reported as it is.
fn fold(marks: &[Value], day: NaiveDate, students: &Students, codes: &Codes) -> Vec<DayRead> {
    let mut days: BTreeMap<String, DayRead> = BTreeMap::new();
    for mark in marks {
        let (Some(student), Some(code_id)) = (
            mark["student_id"].as_str(),
            mark["attendance_code_id"].as_str(),
        ) else {
            continue;
        };
        let (pupil, aliases) = students.reference(student);
        let read = days.entry(pupil.to_owned()).or_insert_with(|| DayRead {
            pupil: pupil.to_owned(),
            aliases: Vec::new(),
            day,
            am: None,
            pm: None,
        });
        // Two Wonde students with one MIS id are one pupil, known by both ids.
        for alias in aliases {
            if !read.aliases.contains(&alias) {
                read.aliases.push(alias);
            }
        }
        let code = codes.codes.get(code_id).map_or(code_id, String::as_str);
        match mark["session"].as_str() {
            Some("AM") => read.am = Some(code.to_owned()),
            Some("PM") => read.pm = Some(code.to_owned()),
            _ => {}
        }
    }
    days.into_values().collect()
}

/// The write answer's `writeback_id`, string or number.
fn writeback_id(answer: &Value) -> Option<String> {
    match &answer["writeback_id"] {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// `12 pupils`, or `at least 50 pupils` when the list has more pages.
fn counted(page: &Value, noun: &str) -> String {
    let n = page["data"].as_array().map_or(0, Vec::len);
    let pagination = &page["meta"]["pagination"];
    let more = pagination["more"] == Value::Bool(true) || pagination["next"].is_string();
    let plural = if n == 1 { "" } else { "s" };
    let at_least = if more { "at least " } else { "" };
    format!("{at_least}{n} {noun}{plural}")
}

/// What a non-2xx answer means for the call (see the module docs).
fn answer_error(status: StatusCode, after: Option<Duration>, body: &[u8]) -> MisError {
    let check = "check mis.wonde.token_file and that the school has approved Rollcall's access";
    connector::answer_error("Wonde", status, after, said(status, body, words_of), check)
}

/// Wonde's own words in an answer: its `message`, then each of its `errors`
/// (`field: message`).
fn words_of(json: &Value) -> String {
    let mut parts: Vec<String> = json["message"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();
    let texts = |v: &Value| -> Vec<String> {
        match v {
            Value::String(text) => vec![text.clone()],
            Value::Array(list) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    match &json["errors"] {
        Value::Object(by_field) => {
            for (field, messages) in by_field {
                parts.extend(texts(messages).into_iter().map(|m| format!("{field}: {m}")));
            }
        }
        other => parts.extend(texts(other)),
    }
    if parts.is_empty() && !json.is_null() {
        return json.to_string();
    }
    parts.join("; ")
}

mod lessons;
#[cfg(test)]
mod tests;
