//! The review queue as the review page shows it: the pending records `who` may see, newest
//! first, each with its candidates' names and enrolment photos, and how many wait in all.
//! Read-only: approving, rejecting and reassigning stay in `records`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rollcall_shared::{Candidate, StudentId};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access::{self, AccessError};
use rollcall_school::attendance::Rules;
use rollcall_school::principal::Principal;
use rollcall_school::review::visible_ids;
use rollcall_store::faces;
use rollcall_store::records::{self, RecordFilter, Status};
use rollcall_store::school;
use rollcall_store::{Sql, StoreError};

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
