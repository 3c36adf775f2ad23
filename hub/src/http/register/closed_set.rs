//! A lesson's remaining cards beside its students not yet marked, with the joint suggestion
//! ("these 4 faces are probably these 4 children"), and confirming it in one tap: the routes
//! of `rollcall_school::closed_set`. Each confirmed pair is a teacher's review of that card
//! (`review::settle`: approved as the door's first candidate, else reassigned), all in one
//! transaction or none.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rollcall_shared::{RecordId, StudentId, UnixMillis};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::attendance::{Rules, Session};
use rollcall_school::closed_set::{self, Naming, Suggestion};
use rollcall_school::principal::Principal;
use rollcall_school::review::{Action, Verdict, settle};
use rollcall_school::session_rosters::{self, hhmm};
use rollcall_shared::ModelId;
use rollcall_store::{Sql, school};

/// What a card confirmed with its lesson says, as the reviewer's note.
pub const NOTE: &str = "confirmed with the lesson's other faces";

/// Most pairs confirmed at once: a large class, with room to spare.
const MAX_PAIRS: usize = 200;

/// Today's lessons of the caller that have begun, whose register is not written and that have
/// cards waiting (each with its suggestion) or pupils nobody has marked (for "all present
/// except…").
pub async fn lessons(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let model = hub.config.gallery.model.clone();
    let read = move |c: &dyn Sql| {
        let slots = access::slots(c, &w)?;
        let classes = access::class_ids(c, &w)?;
        let day = rules.local_day(now);
        let naming = Naming {
            rules: &rules,
            model: &model,
            now,
        };
        let mut lessons = Vec::new();
        for session in session_rosters::sessions_between(c, (&classes, &slots), day, day)? {
            if now < session.window(&rules).0 {
                continue;
            }
            let rest = not_marked(c, &session, &rules, now)?;
            let suggestion = closed_set::suggest(c, &session, &naming)?;
            let suggestion = suggestion.unwrap_or_else(|| Suggestion {
                cards: Vec::new(),
                unmarked: rest.clone(),
            });
            if !suggestion.cards.is_empty() || !rest.is_empty() {
                lessons.push(view(c, &session, &suggestion, &rest)?);
            }
        }
        Ok::<_, ApiError>(json!({ "lessons": lessons }))
    };
    Reply::ok(hub.read(read).await?)
}

/// The lesson's pupils nobody has marked (none once its register is written).
fn not_marked(
    c: &dyn Sql,
    session: &Session,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Vec<StudentId>, ApiError> {
    let roster = session_rosters::session_roster(c, session, rules, now)?;
    Ok(match roster.session.locked {
        true => Vec::new(),
        false => roster
            .rows
            .iter()
            .filter(|r| r.mark.is_none())
            .map(|r| r.student)
            .collect(),
    })
}

/// One lesson as the review page shows it: its cards with the suggestion, and every pupil
/// nobody has marked (`not_marked`, those with a card among them).
fn view(
    c: &dyn Sql,
    session: &Session,
    s: &Suggestion,
    rest: &[StudentId],
) -> Result<Value, ApiError> {
    let names: HashMap<StudentId, String> = school::members(c, session.slot.class_id)?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let name = |s: &StudentId| names.get(s).cloned().unwrap_or_default();
    let cards: Vec<Value> = s
        .cards
        .iter()
        .map(|(record, offered)| {
            json!({
                "record": record.id,
                "captured_at": record.captured_at,
                "thumbnail_url": record
                    .has_thumbnail
                    .then(|| format!("/api/v1/records/{}/thumbnail", record.id)),
                "liveness": record.liveness,
                "suggested": offered.map(|m| json!({
                    "student": m.id, "name": name(&m.id), "distance": m.distance,
                })),
            })
        })
        .collect();
    let unmarked: Vec<Value> = s
        .unmarked
        .iter()
        .map(|id| json!({"student": id, "name": name(id)}))
        .collect();
    let not_marked: Vec<Value> = rest
        .iter()
        .map(|id| json!({"student": id, "name": name(id)}))
        .collect();
    let slot = &session.slot;
    Ok(json!({
        "slot_id": slot.id,
        "day": session.day,
        "class_id": slot.class_id,
        "class_name": school::class(c, slot.class_id)?.name,
        "room": slot.room,
        "start": hhmm(slot.start_minute),
        "end": hhmm(slot.end_minute),
        "cards": cards,
        "unmarked": unmarked,
        "not_marked": not_marked,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirm {
    pairs: Vec<Pair>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    record: RecordId,
    student: StudentId,
}

/// Confirms the pairs a teacher accepted of a lesson's suggestion (or corrected): each card
/// is marked as its student, in one transaction, or none is with the reason.
pub async fn confirm(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: Confirm = req.json()?;
    let (slot, day): (Uuid, NaiveDate) = (req.id("slot", "lesson")?, req.day("day")?);
    check_pairs(&body.pairs)?;
    let (w, rules, now, actor) = (who.clone(), hub.config.rules(), hub.now(), who.actor());
    let (gate, model) = (hub.config.faces.gate, hub.config.gallery.model.clone());
    let write = move |tx: &dyn Sql| {
        let session = session_rosters::session(tx, slot, day)?;
        access::class(tx, &w, session.slot.class_id)?;
        let waiting = waiting(tx, &session, &rules, &model, now)?;
        let names: HashMap<StudentId, String> = school::members(tx, session.slot.class_id)?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let (cards, unmarked) = waiting;
        let mut after = Vec::with_capacity(body.pairs.len());
        for pair in &body.pairs {
            let Some(first) = cards.get(&pair.record) else {
                return Err(ApiError::Conflict(format!(
                    "record {} is not one of this lesson's faces waiting for review: someone \
                     decided it meanwhile, or it is another lesson's",
                    pair.record
                )));
            };
            if !unmarked.contains(&pair.student) {
                return Err(ApiError::Conflict(match names.get(&pair.student) {
                    Some(name) => format!("{name} is already marked in this lesson"),
                    None => format!("student {} is not in this class", pair.student),
                }));
            }
            let action = match *first == Some(pair.student) {
                true => Action::Approve,
                false => Action::Reassign(pair.student),
            };
            let verdict = Verdict {
                action,
                enrol: false,
                gate: &gate,
                model: &model,
                note: Some(NOTE),
                pending_only: false,
                actor: &actor,
                now,
            };
            after.push(settle(tx, &w, &rules, pair.record, &verdict)?.record);
        }
        Ok::<_, ApiError>(after)
    };
    let after = hub.write(write).await?;
    tracing::info!(by = who.username, lesson = %slot, %day, confirmed = after.len(), "{NOTE}");
    Reply::ok(json!({"confirmed": after.len(), "records": after}))
}

/// Between 1 and [`MAX_PAIRS`] pairs, no record and no student twice.
fn check_pairs(pairs: &[Pair]) -> Result<(), ApiError> {
    if pairs.is_empty() || pairs.len() > MAX_PAIRS {
        return Err(ApiError::BadRequest(format!(
            "pairs: from 1 to {MAX_PAIRS} faces and students, not {}",
            pairs.len()
        )));
    }
    let (mut records, mut students) = (HashSet::new(), HashSet::new());
    for p in pairs {
        if !records.insert(p.record) {
            return Err(ApiError::BadRequest(format!(
                "pairs: record {} is named twice",
                p.record
            )));
        }
        if !students.insert(p.student) {
            return Err(ApiError::BadRequest(format!(
                "pairs: student {} is given two faces",
                p.student
            )));
        }
    }
    Ok(())
}

/// The lesson's cards waiting (with the door's first candidate of each) and its students not
/// yet marked; refused when its register is written or nothing waits.
#[allow(clippy::type_complexity)]
fn waiting(
    tx: &dyn Sql,
    session: &Session,
    rules: &Rules,
    model: &ModelId,
    now: UnixMillis,
) -> Result<(HashMap<RecordId, Option<StudentId>>, HashSet<StudentId>), ApiError> {
    if session_rosters::view(tx, session, rules, now)?.locked {
        return Err(ApiError::Conflict(
            "the register of this lesson is written: amend it instead".into(),
        ));
    }
    let naming = Naming { rules, model, now };
    let Some(s) = closed_set::suggest(tx, session, &naming)? else {
        return Err(ApiError::Conflict(
            "no face of this lesson is waiting for review".into(),
        ));
    };
    let cards = s
        .cards
        .iter()
        .map(|(r, _)| (r.id, r.candidates.first().map(|c| c.student)))
        .collect();
    Ok((cards, s.unmarked.into_iter().collect()))
}
