//! The review queue, read and decided in one place.
//!
//! **Reading.** `queue` is the review page's queue: the pending records `who` may see, newest
//! first, each with its candidates' names and enrolment photos, and how many wait in all.
//! `list`, `one` and `thumbnail` are the records themselves (a teacher sees only records
//! captured in a room during a session of one of their classes), with their face crops.
//!
//! **Deciding.** approve / reject / reassign with an optional note, each applied by
//! [`rollcall_school::review`] (and undone by its reviewer for a few minutes), and an admin
//! deleting a wrong record with a reason. Marks follow at once: `attendance` reads accepted
//! records on demand.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rollcall_shared::{Candidate, Decision, DeviceId, RecordId, StudentId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access::{self, AccessError};
use rollcall_school::attendance::Rules;
use rollcall_school::principal::Principal;
use rollcall_school::review::{
    self, Action, MAX_NOTE, Verdict, seen, settle, visible, visible_ids,
};
use rollcall_store::faces;
use rollcall_store::records::{self, RecordFilter, Status};
use rollcall_store::school;
use rollcall_store::{Sql, StoreError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reassign {
    student: StudentId,
    /// Also enrol the record's embedding for `student`, if it passes the quality gate.
    #[serde(default)]
    add_to_gallery: bool,
    note: Option<String>,
    /// Only if the record still waits for a review (a decision queued on a phone).
    #[serde(default)]
    if_pending: bool,
}

/// Approve or reject: an optional note, or no body at all.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decided {
    note: Option<String>,
    /// Only if the record still waits for a review (a decision queued on a phone).
    #[serde(default)]
    if_pending: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deletion {
    reason: String,
}

/// The records `who` may see, newest first, narrowed by `?status` (the review's), `?decision`
/// (the door's), `?from` and `?to` (days, the school's, both included), `?room`, `?device`,
/// `?student` (confirmed as them or among the candidates); `?limit` a page (200, at most
/// 1000), and `?before` a record id: the page after the one that ended with it.
pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let day_start = |key: &str, days_after: u64| -> Result<_, ApiError> {
        let Some(day) = req.query_day(key)? else {
            return Ok(None);
        };
        let day = day
            .checked_add_days(chrono::Days::new(days_after))
            .unwrap_or(day);
        Ok(Some(rules.instant(day, 0)))
    };
    let filter = RecordFilter {
        status: named(req, "status", Status::parse)?,
        decision: named(req, "decision", |d| {
            Decision::ALL.into_iter().find(|x| x.as_str() == d)
        })?,
        from: day_start("from", 0)?,
        to: day_start("to", 1)?,
        room: req.query::<String>("room")?,
        device: req.query::<DeviceId>("device")?,
        student: req.query::<StudentId>("student")?,
        before: req.query::<RecordId>("before")?,
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to <= from
    {
        return Err(ApiError::bad("?to: before ?from"));
    }
    let limit = req.query::<u32>("limit")?.unwrap_or(200).min(1000);
    Reply::ok(
        hub.read(move |c| visible(c, &w, &rules, &filter, limit))
            .await?,
    )
}

/// The query parameter `key` as one of a closed set of names, if present.
fn named<T>(req: &Request, key: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    (req.query::<String>(key)?)
        .map(|v| parse(&v).ok_or_else(|| ApiError::bad(format!("?{key}: unknown {key}"))))
        .transpose()
}

/// Deletes a wrong record (admins), with the reason; the register, the marks and the gallery
/// follow ([`review::delete`]).
pub async fn delete(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let record: RecordId = req.id("record", "record")?;
    let body: Deletion = req.json()?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad("reason: say why the record is wrong"));
    }
    let reason = input::text("reason", reason, MAX_NOTE)?.to_owned();
    let (w, now) = (who.clone(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(review::delete(tx, &w, record, &reason, now)?);
    let deleted = hub.write(move |tx| write(tx)).await?;
    let _record = tracing::info_span!("record", id = %record).entered();
    let (amended, unlearned) = (deleted.amended.len(), deleted.unlearned);
    tracing::info!(by = who.username, amended, unlearned, "record deleted");
    if unlearned > 0 {
        hub.gallery_changed();
    }
    Reply::ok(deleted)
}

pub async fn one(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let record = req.id("record", "record")?;
    Reply::ok(hub.read(move |c| seen(c, &w, &rules, record)).await?)
}

pub async fn thumbnail(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let record = req.id("record", "record")?;
    let read = move |c: &dyn Sql| {
        seen(c, &w, &rules, record)?;
        records::thumbnail(c, record)?.ok_or(ApiError::NotFound("thumbnail".into()))
    };
    Ok(Reply::Jpeg(hub.read(read).await?))
}

pub async fn approve(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body = req.json_or_default::<Decided>()?;
    decide_on(hub, req, Asked::plain(Action::Approve, body), who).await
}

pub async fn reject(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body = req.json_or_default::<Decided>()?;
    decide_on(hub, req, Asked::plain(Action::Reject, body), who).await
}

pub async fn reassign(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body = req.json::<Reassign>()?;
    let asked = Asked {
        action: Action::Reassign(body.student),
        enrol: body.add_to_gallery,
        note: body.note,
        pending_only: body.if_pending,
    };
    decide_on(hub, req, asked, who).await
}

/// A decision as a request asks for it.
struct Asked {
    action: Action,
    enrol: bool,
    note: Option<String>,
    pending_only: bool,
}

impl Asked {
    fn plain(action: Action, body: Decided) -> Asked {
        Asked {
            action,
            enrol: false,
            note: body.note,
            pending_only: body.if_pending,
        }
    }
}

/// Takes back the caller's own review of the last few minutes ([`review::undo`]): the record
/// waits again and faces it taught the gallery are removed.
pub async fn undo(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let record: RecordId = req.id("record", "record")?;
    let now = hub.now();
    let write = move |tx: &dyn Sql| Ok::<_, ApiError>(review::undo(tx, &w, &rules, record, now)?);
    let (after, unlearned) = hub.write(move |tx| write(tx)).await?;
    let _record = tracing::info_span!("record", id = %record).entered();
    tracing::info!(by = who.username, unlearned, "review undone");
    if unlearned > 0 {
        hub.gallery_changed();
    }
    Reply::ok(after)
}

/// Applies a teacher's decision on the record, with their `note` (and `enrol`s its face for a
/// reassigned student) in one transaction.
async fn decide_on(
    hub: &Hub,
    req: &Request,
    asked: Asked,
    who: &Principal,
) -> Result<Reply, ApiError> {
    let Asked {
        action,
        enrol,
        note,
        pending_only,
    } = asked;
    let note = match note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(input::text("note", text, MAX_NOTE)?.to_owned()),
    };
    let (w, rules) = (who.clone(), hub.config.rules());
    let record: RecordId = req.id("record", "record")?;
    let (gate, model) = (hub.config.faces.gate, hub.config.gallery.model.clone());
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        let verdict = Verdict {
            action,
            enrol,
            gate: &gate,
            model: &model,
            note: note.as_deref(),
            pending_only,
            actor: &actor,
            now,
        };
        Ok::<_, ApiError>(settle(tx, &w, &rules, record, &verdict)?)
    };
    let settled = hub.write(move |tx| write(tx)).await?;
    let _record = tracing::info_span!("record", id = %record).entered();
    let after = &settled.record;
    tracing::info!(by = who.username, status = ?after.status, student = ?after.final_student, gallery = ?settled.gallery, "reviewed: {}", action.as_str());
    let added = settled.gallery.as_ref().is_some_and(|g| g.added);
    if added || settled.learned {
        hub.gallery_changed();
    }
    Reply::ok(Reviewed {
        record: settled.record,
        gallery: settled.gallery,
    })
}

/// A reviewed record, and what became of its face when the reviewer asked to add it to the
/// student's photos.
#[derive(Serialize)]
struct Reviewed {
    #[serde(flatten)]
    record: rollcall_store::records::RecordView,
    #[serde(skip_serializing_if = "Option::is_none")]
    gallery: Option<review::GalleryAnswer>,
}

/// Enrolment photos shown per candidate.
const FACES_PER_CANDIDATE: usize = 3;
/// Pending records looked at to count the queue.
const COUNT_LIMIT: usize = 10_000;

/// One candidate as the reviewer sees it. `name` and `faces` are empty for a student outside
/// the reviewer's classes.
#[derive(Clone, Debug, Serialize)]
struct Card {
    student: StudentId,
    distance: f32,
    name: Option<String>,
    faces: Vec<Value>,
}

/// The pending records `who` may review, as cards (`?limit`, 50 unless said, at most 200).
pub async fn queue(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let limit = req.query::<u32>("limit")?.unwrap_or(50).min(200);
    Reply::ok(hub.read(move |c| cards(c, &w, &rules, limit)).await?)
}

fn cards(conn: &dyn Sql, who: &Principal, rules: &Rules, limit: u32) -> Result<Value, ApiError> {
    let (shown, count) = visible_ids(
        conn,
        who,
        rules,
        &RecordFilter::status(Status::Pending),
        limit as usize,
        COUNT_LIMIT,
    )?;
    let mut cards: HashMap<StudentId, Option<(String, Vec<Value>)>> = HashMap::new();
    let mut items = Vec::new();
    for id in shown {
        let record = records::get(conn, id)?;
        let mut candidates = Vec::new();
        for c in &record.candidates {
            candidates.push(card(conn, who, c, &mut cards)?);
        }
        let mut item =
            serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
        item["candidates"] = json!(candidates);
        item["thumbnail_url"] = json!(
            record
                .has_thumbnail
                .then(|| format!("/api/v1/records/{}/thumbnail", record.id))
        );
        items.push(item);
    }
    Ok(json!({"count": count, "records": items}))
}

/// The candidate with name and photos when `who` may see the student (looked up once each).
fn card(
    conn: &dyn Sql,
    who: &Principal,
    c: &Candidate,
    seen: &mut HashMap<StudentId, Option<(String, Vec<Value>)>>,
) -> Result<Card, ApiError> {
    let shown = match seen.entry(c.student) {
        Entry::Occupied(known) => known.get().clone(),
        Entry::Vacant(slot) => {
            let shown = match access::student(conn, who, c.student) {
                Ok(()) => Some(student_card(conn, c.student)?),
                Err(AccessError::Forbidden(_) | AccessError::Store(StoreError::NotFound(_))) => {
                    None
                }
                Err(e) => return Err(e.into()),
            };
            slot.insert(shown).clone()
        }
    };
    Ok(Card {
        student: c.student,
        distance: c.distance,
        name: shown.as_ref().map(|(name, _)| name.clone()),
        faces: shown.map(|(_, faces)| faces).unwrap_or_default(),
    })
}

fn student_card(conn: &dyn Sql, student: StudentId) -> Result<(String, Vec<Value>), ApiError> {
    let name = school::student(conn, student)?.name;
    let faces = faces::list(conn, student)?
        .into_iter()
        .filter(|f| f.has_thumbnail)
        .take(FACES_PER_CANDIDATE)
        .map(|f| {
            let url = format!("/api/v1/students/{student}/faces/{}/thumbnail", f.id);
            json!({"id": f.id, "thumbnail_url": url})
        })
        .collect();
    Ok((name, faces))
}
