//! A lesson's cards named as one closed set, on the hub: the school's floor of
//! `rollcall_models::matching::closed_set` (the rule), with what it reads and writes.
//!
//! The people who walk into a lesson are, with few exceptions, its students, each once. So
//! once a lesson's arrivals are in ([`arrivals_in`]: from `late_after_minutes` after its
//! start), its cards are named together against its students not yet marked, with the closed
//! set's band ([`Thresholds::LESSON`], narrowed for the students still unmarked): on the
//! hub's scheduled pass ([`arrivals_came_in`]), when records arrive in its room later
//! ([`after_arrivals`], from the hub's ingest), and once more before its register is written
//! ([`lesson`], from `register::close_due`). Before the arrivals are in, a student who has not
//! come yet may still explain a card, and a stranger's card would be named in their place. A
//! card the rule names becomes a mark only if its nearest student in the whole school is
//! that student (a face nearer a student of another class is most likely them, passing the
//! door): approved for its student (reassigned when the door's first candidate was somebody
//! else), by the system, with the note [`NOTE`], audited as `record.named_with_lesson`.
//!
//! What is never touched: a record a teacher decided or the door named (only pending door
//! records are cards), a student marked in any way (by a record, by a teacher, or seen
//! anywhere on site in the lesson's window), a lesson whose register is written (a card
//! arriving after it waits for a teacher, and amends the register as any late record does),
//! and a lesson that shares its room with another at the same time (its arrivals are not one
//! class's). A card from a door unit whose clock was not synchronised, or judged not live,
//! takes part as a rival but is never named.

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;
use rollcall_models::matching::{
    self, Card, Gallery, Match, MatchMode, Thresholds, name_among_unmarked,
};
use rollcall_models::quality::{Grade, QualityGate};
use rollcall_shared::{Embedding, FaceQuality, ModelId, RecordId, StudentId, UnixMillis};
use serde_json::json;
use uuid::Uuid;

use crate::attendance::{self, Rules, Session};
use crate::enrol::grade_record;
use crate::gallery;
use crate::principal::SYSTEM_USER;
use crate::session_rosters::{Loaded, calendar};
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::Source as MarkSource;
use rollcall_store::records::{self, RecordView, Review, Source, Status};
use rollcall_store::timetable::{self, Slot};
use rollcall_store::{Sql, StoreError, register};

/// What a card named with its lesson says, as the reviewer's note.
pub const NOTE: &str = "named with the lesson's other arrivals";

/// What a pass needs besides the transaction.
#[derive(Clone, Copy, Debug)]
pub struct Naming<'a> {
    pub rules: &'a Rules,
    /// The face model whose templates the lesson's students are measured against.
    pub model: &'a ModelId,
    pub now: UnixMillis,
}

/// One card named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub record: RecordId,
    pub student: StudentId,
    pub slot: Uuid,
    pub day: NaiveDate,
}

/// Names what it can of each open lesson that the records which `arrived` (room, capture
/// time) fall in. Each lesson once, however many records arrived in it.
pub fn after_arrivals(
    tx: &dyn Sql,
    arrived: &[(String, UnixMillis)],
    naming: &Naming<'_>,
) -> Result<Vec<Named>, StoreError> {
    let rooms: BTreeSet<(&str, NaiveDate)> = arrived
        .iter()
        .map(|(room, at)| (room.as_str(), naming.rules.local_day(*at)))
        .collect();
    if rooms.is_empty() {
        return Ok(Vec::new());
    }
    // One read of the timetable and the calendar for the whole batch, however many rooms.
    let (slots, calendar) = (timetable::all_slots(tx)?, calendar(tx)?);
    let mut lessons: Vec<Session> = Vec::new();
    for (room, day) in rooms {
        let in_room: Vec<Slot> = slots.iter().filter(|s| s.room == room).cloned().collect();
        for session in attendance::sessions_on(day, &in_room, &calendar) {
            let (from, to) = session.window(naming.rules);
            let holds = |(r, at): &(String, UnixMillis)| r == room && (from..to).contains(at);
            if arrived.iter().any(holds) && !lessons.contains(&session) {
                lessons.push(session);
            }
        }
    }
    let mut named = Vec::new();
    for session in &lessons {
        named.extend(lesson(tx, session, naming)?);
    }
    Ok(named)
}

/// Names what it can of one lesson's cards (see the module docs), once its arrivals are in.
pub fn lesson(
    tx: &dyn Sql,
    session: &Session,
    naming: &Naming<'_>,
) -> Result<Vec<Named>, StoreError> {
    if !arrivals_in(session, naming) {
        return Ok(Vec::new());
    }
    let Some(read) = Read::lesson(tx, session, naming)? else {
        return Ok(Vec::new());
    };
    if shares_its_room(tx, session, naming.rules)? {
        return Ok(Vec::new());
    }
    let thresholds = Thresholds::LESSON.for_searched(read.open);
    let chosen = name_among_unmarked(&read.judged(), |s| read.unmarked.contains(s), &thresholds);
    let chosen: Vec<(&ReadCard, StudentId)> = read
        .cards
        .iter()
        .zip(chosen)
        .filter_map(|(card, student)| Some((card, student?)))
        .collect();
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let school = Gallery::try_from_iter(gallery::of_school(tx, naming.model)?)
        .map_err(|e| StoreError::Corrupt(format!("the school's templates: {e}")))?;
    let mut named = Vec::new();
    for (card, student) in chosen {
        if !nearest_in_school(&school, card, student) {
            tracing::debug!(record = %card.record.id, "nearest another class's student: left");
            continue;
        }
        if mark(tx, &card.record, student, naming.now)? {
            named.push(Named {
                record: card.record.id,
                student,
                slot: session.slot.id,
                day: session.day,
            });
        }
    }
    Ok(named)
}

/// Whether a lesson's arrivals are in at `now`: from `late_after_minutes` after its start, when
/// whoever walks in is late. Before then the students who have not come yet may still explain
/// a card, so none is named.
pub fn arrivals_in(session: &Session, naming: &Naming<'_>) -> bool {
    let rules = naming.rules;
    let late_from = i64::from(rules.late_after_minutes) * 60_000;
    naming.now.0 >= session.starts_at(rules).0.saturating_add(late_from)
}

/// Whether the student nearest `card` in the whole school is `student`: a face nearer a
/// student of another class is most likely that student passing the door.
fn nearest_in_school(school: &Gallery<StudentId>, card: &ReadCard, student: StudentId) -> bool {
    school
        .search(&card.face, 1, MatchMode::Centroid)
        .ok()
        .and_then(|m| m.first().map(|m| m.id == student))
        .unwrap_or(false)
}

/// Names what it can of every lesson of today whose arrivals came in after `since` (the hub's
/// scheduled pass, with `since` its last pass: each lesson once, when its arrivals are in,
/// even if nobody walked in since). Later arrivals name again ([`after_arrivals`]), and so
/// does the last pass before the register is written.
pub fn arrivals_came_in(
    tx: &dyn Sql,
    naming: &Naming<'_>,
    since: UnixMillis,
) -> Result<Vec<Named>, StoreError> {
    let day = naming.rules.local_day(naming.now);
    let (slots, calendar) = (timetable::all_slots(tx)?, calendar(tx)?);
    let mut named = Vec::new();
    for session in attendance::sessions_on(day, &slots, &calendar) {
        let before = Naming {
            now: since,
            ..*naming
        };
        let going = naming.now < session.ends_at(naming.rules);
        if going && arrivals_in(&session, naming) && !arrivals_in(&session, &before) {
            named.extend(lesson(tx, &session, naming)?);
        }
    }
    Ok(named)
}

/// A lesson's remaining cards, each with the student a teacher is offered for it, and its
/// students not yet marked: what the review page shows to confirm in one tap.
#[derive(Clone, Debug)]
pub struct Suggestion {
    /// Each card, oldest first, with the student it most likely is and their distance.
    pub cards: Vec<(RecordView, Option<Match<StudentId>>)>,
    /// The students not yet marked, of those whose faces the lesson is matched against.
    pub unmarked: Vec<StudentId>,
}

/// What [`Suggestion`] the lesson's cards make (`rollcall_models::matching::suggest`, within
/// the closed set's `uncertain` distance); `None` when it has no card or its register is
/// written.
pub fn suggest(
    tx: &dyn Sql,
    session: &Session,
    naming: &Naming<'_>,
) -> Result<Option<Suggestion>, StoreError> {
    let Some(read) = Read::lesson(tx, session, naming)? else {
        return Ok(None);
    };
    let reach = Thresholds::LESSON.uncertain;
    let offered = matching::suggest(&read.judged(), |s| read.unmarked.contains(s), reach);
    let mut cards: Vec<(RecordView, Option<Match<StudentId>>)> = read
        .cards
        .into_iter()
        .zip(offered)
        .map(|(card, student)| {
            let offer = student.and_then(|s| card.matches.iter().find(|m| m.id == s).copied());
            (card.record, offer)
        })
        .collect();
    cards.sort_by_key(|(r, _)| (r.captured_at, r.id));
    let mut unmarked: Vec<StudentId> = read.unmarked.into_iter().collect();
    unmarked.sort();
    Ok(Some(Suggestion { cards, unmarked }))
}

/// One card as read: the record, its face, its grade, its distance to each student of the
/// lesson.
struct ReadCard {
    record: RecordView,
    face: Embedding,
    grade: Grade,
    matches: Vec<Match<StudentId>>,
}

/// What a lesson's pass reads: its cards and who of its students is not yet marked.
struct Read {
    cards: Vec<ReadCard>,
    /// Students of the lesson's gallery not yet marked.
    unmarked: HashSet<StudentId>,
    /// How many they are.
    open: usize,
}

impl Read {
    /// The lesson's cards and students, or `None` when it has no card or is closed.
    fn lesson(
        tx: &dyn Sql,
        session: &Session,
        naming: &Naming<'_>,
    ) -> Result<Option<Read>, StoreError> {
        let rules = naming.rules;
        if register::session(tx, session.slot.id, session.day)?.is_some() {
            return Ok(None);
        }
        let (from, to) = session.window(rules);
        let room = &session.slot.room;
        let pending = records::in_room(tx, Status::Pending, room, from, to)?;
        let records: Vec<RecordView> = pending
            .into_iter()
            .filter(|r| r.source == Source::Door)
            .collect();
        if records.is_empty() {
            return Ok(None);
        }
        let known = gallery::of_class(tx, session.slot.class_id, naming.model)?;
        let pairs = known
            .iter()
            .flat_map(|e| e.embeddings.iter().map(|x| (e.student, *x)));
        let Ok(class) = Gallery::try_from_iter(pairs) else {
            return Ok(None);
        };
        let mut cards = Vec::with_capacity(records.len());
        for record in records {
            // A card whose face retention or a withdrawn consent took is nobody's to name.
            let Ok(face) = records::embedding(tx, record.id) else {
                continue;
            };
            let Ok(matches) = class.search(&face, class.len(), MatchMode::Centroid) else {
                continue;
            };
            let grade = grade(&record);
            cards.push(ReadCard {
                record,
                face,
                grade,
                matches,
            });
        }
        let marked_or_not = unmarked(tx, session, rules, naming.now)?;
        let unmarked: HashSet<StudentId> = known
            .iter()
            .map(|e| e.student)
            .filter(|s| marked_or_not.contains(s))
            .collect();
        Ok(Some(Read {
            cards,
            open: unmarked.len(),
            unmarked,
        }))
    }

    fn judged(&self) -> Vec<Card<'_, StudentId>> {
        self.cards
            .iter()
            .map(|c| Card {
                grade: c.grade,
                matches: &c.matches,
                may_name: may_name(&c.record),
            })
            .collect()
    }
}

/// The lesson's students not marked in any way at `now`: no mark in its roster (or only the
/// absence a lesson that has ended gives), and not seen anywhere on site in its window.
fn unmarked(
    tx: &dyn Sql,
    session: &Session,
    rules: &Rules,
    now: UnixMillis,
) -> Result<HashSet<StudentId>, StoreError> {
    let loaded = Loaded::for_session(tx, session, rules)?;
    let rows = attendance::roster(session, rules, &loaded.evidence(), now);
    Ok(rows
        .into_iter()
        .filter(|row| row.mark.is_none() || row.source == MarkSource::Closed)
        .filter(|row| !loaded.seen_on_site(row.student))
        .map(|row| row.student)
        .collect())
}

/// Whether another lesson is timetabled in the same room at an overlapping time that day.
fn shares_its_room(tx: &dyn Sql, session: &Session, rules: &Rules) -> Result<bool, StoreError> {
    let slots = timetable::slots_in_room(tx, &session.slot.room, session.day)?;
    let (from, to) = session.window(rules);
    Ok(attendance::sessions_on(session.day, &slots, &calendar(tx)?)
        .iter()
        .filter(|other| other.slot.id != session.slot.id)
        .any(|other| {
            let (f, t) = other.window(rules);
            f < to && from < t
        }))
}

/// A card's grade from the figures its door unit sent, at the door's shipped gate (figures
/// that do not read give a face that never names anybody).
fn grade(card: &RecordView) -> Grade {
    match serde_json::from_value::<FaceQuality>(card.quality.clone()) {
        Ok(q) => grade_record(&QualityGate::door(), &q),
        Err(_) => Grade::Unclear,
    }
}

/// Whether a card may be named at all: its time is to be trusted and its face was not judged
/// a photo or a screen.
fn may_name(card: &RecordView) -> bool {
    let clock_trusted = card.clock_synchronised != Some(false);
    let live = !card.liveness.is_some_and(|l| l.suspects_spoof());
    clock_trusted && live
}

/// Marks `card` as `student`'s, unless someone decided it meanwhile. Audited.
fn mark(
    tx: &dyn Sql,
    card: &RecordView,
    student: StudentId,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    let first = card.candidates.first().map(|c| c.student);
    let status = match first == Some(student) {
        true => Status::Approved,
        false => Status::Reassigned,
    };
    let review = Review {
        status,
        final_student: Some(student),
        by: SYSTEM_USER,
        at: now,
        note: Some(NOTE),
    };
    if !records::settle_pending(tx, card.id, &review)? {
        return Ok(false);
    }
    let distance = card
        .candidates
        .iter()
        .find(|c| c.student == student)
        .map(|c| c.distance);
    tracing::info!(record = %card.id, %student, "{NOTE}");
    audit::log(
        tx,
        Change {
            actor: SYSTEM_USER,
            action: "record.named_with_lesson",
            target: format!("record:{}", card.id),
            before: Some(json!({"status": card.status, "final_student": null})),
            after: Some(json!({
                "status": status, "final_student": student, "note": NOTE,
                "door_distance": distance,
            })),
            at: now,
        },
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests;
