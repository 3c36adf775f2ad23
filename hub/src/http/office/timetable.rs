//! The timetable and school calendar endpoints. Admins change them (audited, and the affected
//! devices get a gallery delta); teachers read the slots of their own classes. Times are
//! strict `HH:MM` and dates `YYYY-MM-DD` inside the register's years (`input`).

use chrono::NaiveDate;
use rollcall_shared::record::validate_room;
use rollcall_shared::{ClassId, TimetableSlot};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::principal::Principal;
use rollcall_store::audit::{self, Change};
use rollcall_store::timetable::{self, Holiday, Slot, Term};
use rollcall_store::{Sql, register, school};

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
    /// A new slot: its first day (none: the day it is made, so a lesson added today has no
    /// past sessions to count as absences). A change: the day it takes effect (default
    /// today); the sessions before it keep the slot as it was.
    from: Option<String>,
    /// The slot's last day (none: until changed).
    until: Option<String>,
}

impl SlotBody {
    /// The slot the body describes, and its `from` date.
    fn into_slot(self, id: Uuid) -> Result<(Slot, Option<NaiveDate>), ApiError> {
        validate_room(&self.room).map_err(|e| ApiError::bad(format!("room: {e}")))?;
        let from = self
            .from
            .as_deref()
            .map(|d| input::day("from", d))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|d| input::day("until", d))
            .transpose()?;
        let slot = Slot {
            id,
            class_id: self.class_id,
            room: self.room,
            weekday: self.weekday,
            start_minute: input::minute_of_day("start", &self.start)?,
            end_minute: input::minute_of_day("end", &self.end)?,
            valid_from: from,
            valid_until: until,
        };
        let wire = TimetableSlot {
            class: slot.class_id,
            weekday: slot.weekday,
            start_minute: slot.start_minute,
            end_minute: slot.end_minute,
        };
        wire.validate().map_err(|e| ApiError::bad(e.to_string()))?;
        checked_dates(&slot)?;
        Ok((slot, from))
    }
}

/// Fails unless `slot` ends on or after the day it starts.
fn checked_dates(slot: &Slot) -> Result<(), ApiError> {
    match (slot.valid_from, slot.valid_until) {
        (Some(from), Some(until)) if until < from => Err(ApiError::bad(
            "until: a slot's last day is on or after its first (from)",
        )),
        _ => Ok(()),
    }
}

/// How a change to `old` taking effect on `from` is made, at `today`.
#[derive(Debug, PartialEq, Eq)]
enum Effect {
    /// No session of the slot before `from` is kept: the slot is changed as it stands.
    InPlace,
    /// The slot ends the day before `from` and a new one starts then.
    Split,
}

/// Whether a change from `from` can edit `old` in place: only when none of its sessions
/// before `from` can have been (or be about to be) written to the register. `first_closed`
/// is the day of its earliest closed session.
fn effect(
    old: &Slot,
    from: NaiveDate,
    today: NaiveDate,
    first_closed: Option<NaiveDate>,
) -> Result<Effect, ApiError> {
    if from < today {
        return Err(ApiError::bad(format!(
            "from: a timetable change takes effect from today ({today}) or later; \
             a closed session is changed by amending its register"
        )));
    }
    if let Some(last) = old.valid_until.filter(|u| *u < from) {
        return Err(ApiError::Conflict(format!(
            "this slot's last day is {last}, before {from}: add a new slot instead"
        )));
    }
    let kept_from = old.valid_from.or(first_closed).unwrap_or(today);
    Ok(if from <= kept_from {
        Effect::InPlace
    } else {
        Effect::Split
    })
}

/// A new term; the id is the client's to choose (so a retried POST cannot make two).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct TermBody {
    #[serde(default = "Uuid::now_v7")]
    id: Uuid,
    name: String,
    first_day: String,
    last_day: String,
}

impl TermBody {
    /// The term, its name a name and its days dates in range and in order.
    pub(in crate::http) fn into_term(self) -> Result<Term, ApiError> {
        checked_term(Term {
            id: self.id,
            name: self.name,
            first_day: input::day("first_day", &self.first_day)?,
            last_day: input::day("last_day", &self.last_day)?,
        })
    }
}

/// What a PATCH of a term changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermPatch {
    name: Option<String>,
    first_day: Option<String>,
    last_day: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct HolidayBody {
    day: String,
    name: String,
}

impl HolidayBody {
    /// The holiday, its day a date in range and its name a name.
    pub(in crate::http) fn into_holiday(self) -> Result<Holiday, ApiError> {
        Ok(Holiday {
            day: input::day("day", &self.day)?,
            name: input::name("name", &self.name)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayPatch {
    name: String,
}

/// `term` if its name is a name and its days are in range and in order.
fn checked_term(term: Term) -> Result<Term, ApiError> {
    let name = input::name("name", &term.name)?;
    input::in_range("first_day", term.first_day)?;
    input::in_range("last_day", term.last_day)?;
    if term.last_day < term.first_day {
        return Err(ApiError::bad(
            "last_day: a term ends on or after its first_day",
        ));
    }
    Ok(Term { name, ..term })
}

/// The slots `who` may see, `?room` and `?class` narrowing them; slots that ended before
/// today only with `?ended=true`.
pub async fn slots(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let room: Option<String> = req.query("room")?;
    let class: Option<ClassId> = req.query("class")?;
    let ended = req.query::<bool>("ended")?.unwrap_or(false);
    let today = hub.today();
    let w = who.clone();
    let slots = hub.read(move |c| access::slots(c, &w)).await?;
    let keep = |s: &Slot| {
        room.as_ref().is_none_or(|r| &s.room == r)
            && class.is_none_or(|k| s.class_id == k)
            && (ended || s.valid_until.is_none_or(|u| u >= today))
    };
    Reply::ok(slots.into_iter().filter(keep).collect::<Vec<_>>())
}

pub async fn terms(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    Reply::ok(hub.read(|c| timetable::terms(c)).await?)
}

pub async fn holidays(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    Reply::ok(hub.read(|c| timetable::holidays(c)).await?)
}

/// Runs `change` in one transaction with an audit entry of `action` on `target`, then tells
/// the gallery pusher (door units carry the timetable).
async fn audited<T: serde::Serialize + Send + 'static>(
    hub: &Hub,
    who: &Principal,
    action: &'static str,
    change: impl FnOnce(&dyn Sql) -> Result<(String, Option<Value>, T), ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let (actor, now) = (who.actor(), hub.now());
    let done = hub
        .write(move |tx| {
            let (target, before, after) = change(tx)?;
            let entry = Change {
                actor: &actor,
                action,
                target,
                before,
                after: Some(json!(after)).filter(|v| !v.is_null()),
                at: now,
            };
            audit::log(tx, entry)?;
            Ok::<_, ApiError>(after)
        })
        .await?;
    hub.gallery_changed();
    Ok(done)
}

pub async fn create_slot(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (mut slot, _) = req.json::<SlotBody>()?.into_slot(Uuid::now_v7())?;
    slot.valid_from = slot.valid_from.or(Some(hub.today()));
    checked_dates(&slot)?;
    let created = audited(hub, who, "timetable.create", move |tx| {
        school::class(tx, slot.class_id)?;
        timetable::insert_slot(tx, &slot)?;
        Ok((format!("slot:{}", slot.id), None, slot))
    })
    .await?;
    Reply::created(created)
}

/// Changes a slot from a date (`from`, default today): in place while none of its sessions
/// before that date is kept, else by ending it the day before and starting a new slot (a
/// new id, which the answer carries).
pub async fn update_slot(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id = req.id("slot", "timetable slot")?;
    let (asked, from) = req.json::<SlotBody>()?.into_slot(id)?;
    let today = hub.today();
    let from = from.unwrap_or(today);
    let updated = audited(hub, who, "timetable.update", move |tx| {
        let before = timetable::slot(tx, id)?;
        school::class(tx, asked.class_id)?;
        let first_closed = register::first_closed_day(tx, id)?;
        let after = match effect(&before, from, today, first_closed)? {
            Effect::InPlace => {
                let after = Slot {
                    valid_from: before.valid_from,
                    valid_until: asked.valid_until.or(before.valid_until),
                    ..asked
                };
                checked_dates(&after)?;
                timetable::update_slot(tx, &after)?;
                after
            }
            Effect::Split => {
                let after = Slot {
                    id: Uuid::now_v7(),
                    valid_from: Some(from),
                    valid_until: asked.valid_until.or(before.valid_until),
                    ..asked
                };
                checked_dates(&after)?;
                timetable::split_slot(tx, id, &after)?;
                after
            }
        };
        Ok((format!("slot:{id}"), Some(json!(before)), after))
    })
    .await?;
    Reply::ok(updated)
}

/// Takes a slot out of the timetable from a date (`?from=`, default today): deleted while
/// none of its sessions before that date is kept, else ended the day before.
pub async fn delete_slot(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let slot: Uuid = req.id("slot", "timetable slot")?;
    let today = hub.today();
    let from = req.query_day("from")?.unwrap_or(today);
    audited(hub, who, "timetable.delete", move |tx| {
        let before = timetable::slot(tx, slot)?;
        let first_closed = register::first_closed_day(tx, slot)?;
        match effect(&before, from, today, first_closed)? {
            Effect::InPlace => timetable::delete_slot(tx, slot)?,
            Effect::Split => {
                let last = from.pred_opt().unwrap_or(from);
                timetable::end_slot(tx, slot, last)?;
            }
        }
        Ok((format!("slot:{slot}"), Some(json!(before)), ()))
    })
    .await?;
    Ok(Reply::NoContent)
}

pub async fn create_term(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let term = req.json::<TermBody>()?.into_term()?;
    let created = audited(hub, who, "calendar.term", move |tx| {
        timetable::insert_term(tx, &term)?;
        Ok((format!("term:{}", term.id), None, term))
    })
    .await?;
    Reply::created(created)
}

pub async fn update_term(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("term", "term")?;
    let patch: TermPatch = req.json()?;
    let first = patch
        .first_day
        .as_deref()
        .map(|d| input::day("first_day", d));
    let last = patch.last_day.as_deref().map(|d| input::day("last_day", d));
    let (first, last) = (first.transpose()?, last.transpose()?);
    let updated = audited(hub, who, "calendar.term_update", move |tx| {
        let before = timetable::term(tx, id)?;
        let term = checked_term(Term {
            id,
            name: patch.name.unwrap_or_else(|| before.name.clone()),
            first_day: first.unwrap_or(before.first_day),
            last_day: last.unwrap_or(before.last_day),
        })?;
        timetable::update_term(tx, &term)?;
        Ok((format!("term:{id}"), Some(json!(before)), term))
    })
    .await?;
    Reply::ok(updated)
}

pub async fn delete_term(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id: Uuid = req.id("term", "term")?;
    audited(hub, who, "calendar.term_delete", move |tx| {
        let before = timetable::term(tx, id)?;
        timetable::delete_term(tx, id)?;
        Ok((format!("term:{id}"), Some(json!(before)), ()))
    })
    .await?;
    Ok(Reply::NoContent)
}

pub async fn create_holiday(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let day = req.json::<HolidayBody>()?.into_holiday()?;
    let created = audited(hub, who, "calendar.holiday", move |tx| {
        timetable::insert_holiday(tx, &day)?;
        Ok((format!("day:{}", day.day), None, day))
    })
    .await?;
    Reply::created(created)
}

pub async fn update_holiday(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let day = req.day("day")?;
    let name = input::name("name", &req.json::<HolidayPatch>()?.name)?;
    let updated = audited(hub, who, "calendar.holiday_update", move |tx| {
        let before = timetable::holiday(tx, day)?;
        let after = Holiday { day, name };
        timetable::update_holiday(tx, &after)?;
        Ok((format!("day:{day}"), Some(json!(before)), after))
    })
    .await?;
    Reply::ok(updated)
}

pub async fn delete_holiday(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let day = req.day("day")?;
    audited(hub, who, "calendar.holiday_delete", move |tx| {
        let before = timetable::holiday(tx, day)?;
        timetable::delete_holiday(tx, day)?;
        Ok((format!("day:{day}"), Some(json!(before)), ()))
    })
    .await?;
    Ok(Reply::NoContent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn slot(valid_from: Option<NaiveDate>, valid_until: Option<NaiveDate>) -> Slot {
        Slot {
            id: Uuid::now_v7(),
            class_id: ClassId::random(),
            room: "Lab 3".into(),
            weekday: 1,
            start_minute: 540,
            end_minute: 600,
            valid_from,
            valid_until,
        }
    }

    #[test]
    fn a_change_splits_a_slot_only_when_sessions_before_it_are_kept() {
        let today = day(23);
        let fresh = slot(None, None);
        assert_eq!(effect(&fresh, today, today, None).unwrap(), Effect::InPlace);
        assert_eq!(effect(&fresh, day(30), today, None).unwrap(), Effect::Split);
        assert_eq!(
            effect(&fresh, today, today, Some(day(16))).unwrap(),
            Effect::Split,
            "last week's session is in the register"
        );
        let starts_later = slot(Some(day(30)), None);
        assert_eq!(
            effect(&starts_later, day(30), today, None).unwrap(),
            Effect::InPlace
        );
    }

    #[test]
    fn a_change_cannot_reach_back_or_past_a_slots_end() {
        let today = day(23);
        assert!(matches!(
            effect(&slot(None, None), day(22), today, None),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            effect(&slot(None, Some(day(27))), day(30), today, None),
            Err(ApiError::Conflict(_))
        ));
    }
}
