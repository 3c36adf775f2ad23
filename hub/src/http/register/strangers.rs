//! The strangers' cards: the faces door units matched to nobody, one card per person
//! (`strangers` groups them), and the three things a reviewer may do with one ([`act`]):
//! enrol the person as a new student (admins), add the faces to a student, or dismiss them.

mod act;

use std::collections::{BTreeSet, HashMap};

use rollcall_runtime::contain;
use rollcall_shared::{Embedding, StudentId};
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access::{self, AccessError};
use rollcall_school::attendance::Rules;
use rollcall_school::attendance::in_some_session;
use rollcall_school::principal::Principal;
use rollcall_school::strangers::{self, Stranger, rules};
use rollcall_store::school;
use rollcall_store::strangers::{self as stored, Face};
use rollcall_store::timetable::Slot;
use rollcall_store::{Sql, StoreError};

pub use act::{assign, dismiss, enrol};

/// Crops shown per card.
const CROPS_SHOWN: usize = 6;

/// The strangers `who` may see, most recently seen first (`?limit`, 50 unless said, at most
/// 200). The faces are read, then grouped without holding a database connection (up to a
/// few tenths of a second for 2,000 faces), then the cards are filled in.
pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules) = (who.clone(), hub.config.rules());
    let model = hub.config.gallery.model.to_string();
    let limit = req.query::<u32>("limit")?.unwrap_or(50).min(200) as usize;
    let read = move |c: &dyn Sql| {
        let faces = visible(c, &w, &rules, strangers::faces(c)?)?;
        let dismissed = strangers::dismissed_for(c, &faces)?;
        Ok::<_, ApiError>((faces, dismissed, stored::templates(c, &model)?))
    };
    let (faces, dismissed, templates) = hub.read(read).await?;
    let group = move || {
        let all = strangers::group(faces, &dismissed);
        let count = all.len();
        let shown: Vec<(Stranger, Option<Near>)> = all
            .into_iter()
            .take(limit)
            .map(|s| {
                let near = nearest(&s.centroid(), &templates);
                (s, near)
            })
            .collect();
        (count, shown)
    };
    let (count, shown) = tokio::task::spawn_blocking(move || contain::run(group))
        .await
        .map_err(|e| ApiError::Internal(format!("grouping strangers: {e}")))?
        .map_err(|e| ApiError::Internal(format!("grouping strangers: {e}")))?;
    let (w, rules) = (who.clone(), hub.config.rules());
    let fill = move |c: &dyn Sql| {
        let cards: Result<Vec<Value>, ApiError> = shown
            .iter()
            .map(|(s, near)| card(c, &w, &rules, s, *near))
            .collect();
        Ok::<_, ApiError>(json!({"count": count, "strangers": cards?}))
    };
    Reply::ok(hub.read(fill).await?)
}

/// The faces `who` may see: an admin all, a teacher those captured in their classes' sessions.
fn visible(
    conn: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    faces: Vec<Face>,
) -> Result<Vec<Face>, ApiError> {
    if who.is_admin() {
        return Ok(faces);
    }
    let mut by_room: HashMap<String, Vec<Slot>> = HashMap::new();
    for slot in access::slots(conn, who)? {
        by_room.entry(slot.room.clone()).or_default().push(slot);
    }
    Ok(faces
        .into_iter()
        .filter(|f| {
            by_room
                .get(&f.room)
                .is_some_and(|slots| in_some_session(&f.room, f.captured_at, slots, rules))
        })
        .collect())
}

fn card(
    conn: &dyn Sql,
    who: &Principal,
    rules: &Rules,
    s: &Stranger,
    near: Option<Near>,
) -> Result<Value, ApiError> {
    let first = s.faces.iter().map(|f| f.captured_at).min();
    let last = s.faces.first();
    let rooms: BTreeSet<&str> = s.faces.iter().map(|f| f.room.as_str()).collect();
    let days: BTreeSet<_> = s
        .faces
        .iter()
        .map(|f| rules.local_day(f.captured_at))
        .collect();
    let crops: Vec<Value> = s
        .best(CROPS_SHOWN)
        .into_iter()
        .map(|f| {
            json!({"record": f.id, "captured_at": f.captured_at, "room": f.room,
            "thumbnail_url": format!("/api/v1/records/{}/thumbnail", f.id)})
        })
        .collect();
    Ok(json!({
        "id": s.id(),
        "size": s.faces.len(),
        "first_seen": first,
        "last_seen": last.map(|f| f.captured_at),
        "last_room": last.map(|f| f.room.as_str()),
        "rooms": rooms,
        "days": days.len(),
        "records": s.faces.iter().map(|f| f.id).collect::<Vec<_>>(),
        "crops": crops,
        "nearest": named_near(conn, who, near)?,
    }))
}

/// An enrolled student and their distance from a stranger's centre.
type Near = (StudentId, f32);

/// The enrolled student nearest to `centre`, if any template is comparable.
fn nearest(centre: &[f32], templates: &[(StudentId, Embedding)]) -> Option<Near> {
    templates
        .iter()
        .map(|(s, t)| (*s, rules::distance(centre, t)))
        .filter(|(_, d)| d.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The nearest student, named only if `who` may see them.
fn named_near(conn: &dyn Sql, who: &Principal, near: Option<Near>) -> Result<Value, ApiError> {
    let Some((student, distance)) = near else {
        return Ok(Value::Null);
    };
    let name = match access::student(conn, who, student) {
        Ok(()) => Some(school::student(conn, student)?.name),
        Err(AccessError::Forbidden(_) | AccessError::Store(StoreError::NotFound(_))) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(json!({"student": student, "name": name, "distance": distance}))
}
