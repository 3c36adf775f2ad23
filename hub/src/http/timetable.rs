//! The timetable and school calendar endpoints. Admins change them (audited, and the affected
//! devices get a gallery delta); teachers read the slots of their own classes.

use rollcall_shared::record::validate_room;
use rollcall_shared::{ClassId, TimetableSlot};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use warp::http::Method;

use super::access;
use super::error::ApiError;
use super::request::{Reply, Request, id};
use crate::auth::Principal;
use crate::state::Hub;
use crate::store::audit::{self, Change};
use crate::store::school;
use crate::store::timetable::{self, Holiday, Slot, Term};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotBody {
    class_id: ClassId,
    room: String,
    /// ISO weekday, 1 = Monday.
    weekday: u8,
    /// "HH:MM", local time.
    start: String,
    end: String,
}

/// Minutes after midnight of "HH:MM" (24:00 allowed as an end).
fn minutes(hhmm: &str) -> Result<u16, ApiError> {
    let bad = || ApiError::bad(format!("{hhmm:?} is not a HH:MM time"));
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h * 60 + m > 1440 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl SlotBody {
    fn into_slot(self, id: Uuid) -> Result<Slot, ApiError> {
        validate_room(&self.room).map_err(|e| ApiError::bad(e.to_string()))?;
        let slot = Slot {
            id,
            class_id: self.class_id,
            room: self.room,
            weekday: self.weekday,
            start_minute: minutes(&self.start)?,
            end_minute: minutes(&self.end)?,
        };
        let wire = TimetableSlot {
            class: slot.class_id,
            weekday: slot.weekday,
            start_minute: slot.start_minute,
            end_minute: slot.end_minute,
        };
        wire.validate().map_err(|e| ApiError::bad(e.to_string()))?;
        Ok(slot)
    }
}

pub async fn route(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    path: &[&str],
) -> Result<Reply, ApiError> {
    let w = who.clone();
    match (req.method.clone(), path) {
        (Method::GET, ["timetable"]) => {
            let room: Option<String> = req.query("room")?;
            let class: Option<ClassId> = req.query("class")?;
            let slots = hub.read(move |c| access::slots(c, &w)).await?;
            let keep = |s: &Slot| {
                room.as_ref().is_none_or(|r| &s.room == r) && class.is_none_or(|k| s.class_id == k)
            };
            Reply::ok(slots.into_iter().filter(keep).collect::<Vec<_>>())
        }
        (Method::GET, ["calendar", "terms"]) => Reply::ok(hub.read(timetable::terms).await?),
        (Method::GET, ["calendar", "holidays"]) => Reply::ok(hub.read(timetable::holidays).await?),
        _ => {
            access::admin(who)?;
            let reply = change(hub, req, who, path).await?;
            hub.gallery_changed();
            Ok(reply)
        }
    }
}

async fn change(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    path: &[&str],
) -> Result<Reply, ApiError> {
    let (actor, now) = (who.actor(), hub.now());
    let log = move |tx: &Connection, action: &str, target: String, before, after| {
        let change = Change {
            actor: &actor,
            action,
            target,
            before,
            after,
            at: now,
        };
        audit::log(tx, change)
    };
    match (req.method.clone(), path) {
        (Method::POST, ["timetable"]) => {
            let slot = req.json::<SlotBody>()?.into_slot(Uuid::now_v7())?;
            let write = move |tx: &Connection| {
                school::class(tx, slot.class_id)?;
                timetable::insert_slot(tx, &slot)?;
                log(
                    tx,
                    "timetable.create",
                    format!("slot:{}", slot.id),
                    None,
                    Some(json!(slot)),
                )?;
                Ok::<_, ApiError>(slot)
            };
            Reply::created(hub.write(move |tx| write(tx)).await?)
        }
        (Method::PUT, ["timetable", s]) => {
            let slot = req
                .json::<SlotBody>()?
                .into_slot(id(s, "timetable slot")?)?;
            let write = move |tx: &Connection| {
                let before = timetable::slot(tx, slot.id)?;
                school::class(tx, slot.class_id)?;
                timetable::update_slot(tx, &slot)?;
                let target = format!("slot:{}", slot.id);
                log(
                    tx,
                    "timetable.update",
                    target,
                    Some(json!(before)),
                    Some(json!(slot)),
                )?;
                Ok::<_, ApiError>(slot)
            };
            Reply::ok(hub.write(move |tx| write(tx)).await?)
        }
        (Method::DELETE, ["timetable", s]) => {
            let slot: Uuid = id(s, "timetable slot")?;
            let write = move |tx: &Connection| {
                let before = timetable::slot(tx, slot)?;
                timetable::delete_slot(tx, slot)?;
                log(
                    tx,
                    "timetable.delete",
                    format!("slot:{slot}"),
                    Some(json!(before)),
                    None,
                )?;
                Ok::<_, ApiError>(())
            };
            hub.write(move |tx| write(tx)).await?;
            Ok(Reply::NoContent)
        }
        (Method::POST, ["calendar", "terms"]) => {
            let term: Term = req.json()?;
            if term.last_day < term.first_day {
                return Err(ApiError::bad("a term ends after it starts"));
            }
            let write = move |tx: &Connection| {
                timetable::insert_term(tx, &term)?;
                log(
                    tx,
                    "calendar.term",
                    format!("term:{}", term.id),
                    None,
                    Some(json!(term)),
                )?;
                Ok::<_, ApiError>(term)
            };
            Reply::created(hub.write(move |tx| write(tx)).await?)
        }
        (Method::POST, ["calendar", "holidays"]) => {
            let day: Holiday = req.json()?;
            let write = move |tx: &Connection| {
                timetable::insert_holiday(tx, &day)?;
                log(
                    tx,
                    "calendar.holiday",
                    format!("day:{}", day.day),
                    None,
                    Some(json!(day)),
                )?;
                Ok::<_, ApiError>(day)
            };
            Reply::created(hub.write(move |tx| write(tx)).await?)
        }
        _ => Err(ApiError::NoRoute),
    }
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn times_parse_as_minutes_after_midnight() {
        assert_eq!(minutes("09:30").unwrap(), 570);
        assert_eq!(minutes("24:00").unwrap(), 1440);
        assert!(minutes("9h30").is_err() && minutes("10:60").is_err() && minutes("25:00").is_err());
    }
}
