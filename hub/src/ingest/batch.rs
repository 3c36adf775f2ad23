//! One batch of messages written in one transaction: each from a registered and enabled
//! device, in order. What a record becomes is the school's rule (`rollcall_school::arrival`:
//! discarded, logged for a member of staff, held, or stored as its unit is registered); here
//! it is done, each record in a savepoint of its own when asked, learned from when it can
//! teach, and counted; what the batch then owes the devices (acks, galleries, settings) is
//! gathered in an [`Outcome`] for after the commit.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;

use rollcall_models::quality::QualityGate;
use rollcall_shared::{
    AttendanceRecord, Decision, DeviceId, Embedding, Envelope, GalleryUpdate, Message, ModelId,
    RecordId, StudentId, UnitSettings, UnixMillis, UnknownFaces,
};

use super::Metrics;
use super::metrics::add;
use crate::notify::{Event, Hooks};
use rollcall_models::learning::CONFIDENT;
use rollcall_school::arrival::{self, Arrival, Judge, Place, Verdict, Window};
use rollcall_school::attendance::Rules;
use rollcall_school::closed_set::{self, Naming};
use rollcall_school::gallery::{Trigger, update_for};
use rollcall_school::learn::{How, Learner, Offered};
use rollcall_school::staff_faces;
use rollcall_school::strangers;
use rollcall_store::quarantine::{self, Reason};
use rollcall_store::records;
use rollcall_store::{Sql, StoreError, consent, devices, school};

/// What a committed batch owes the devices.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// The protocol version each device last wrote in: it is answered in the same.
    pub(super) versions: HashMap<DeviceId, u16>,
    pub(super) acks: BTreeMap<DeviceId, Vec<RecordId>>,
    pub(super) galleries: Vec<(DeviceId, GalleryUpdate)>,
    /// Units behind the settings the hub holds for them, and those settings.
    pub(super) settings: Vec<(DeviceId, UnitSettings)>,
    /// What became of each record, logged once the batch is committed.
    pub(super) fates: Vec<(RecordId, DeviceId, Decision, &'static str)>,
    /// Templates learned from Confident captures.
    pub(super) learned: usize,
    /// The counters to move once the batch is committed (a reader that sees a counter move
    /// must find what it counts).
    pub(super) counted: Vec<Counter>,
    /// The room and capture time of each record stored.
    pub(super) arrived: Vec<(String, UnixMillis)>,
}

/// Picks one of the ingest counters.
pub(super) type Counter = fn(&Metrics) -> &AtomicU64;

impl Outcome {
    /// Owes `device` the ack of `record` again, a copy of one acknowledged a moment ago.
    pub(super) fn repeat(&mut self, device: DeviceId, version: u16, record: &AttendanceRecord) {
        self.versions.insert(device, version);
        self.acks.entry(device).or_default().push(record.id);
        let fate = "acknowledged a moment ago: acknowledged again";
        self.fates.push((record.id, device, record.decision, fate));
        self.counted.push(|m| &m.records_received);
        self.counted.push(|m| &m.records_duplicate);
    }
}

/// One batch being written: what every message in it is judged by.
pub(super) struct Batch<'a> {
    pub(super) model: &'a ModelId,
    pub(super) gate: &'a QualityGate,
    pub(super) now: UnixMillis,
    pub(super) window: Window,
    pub(super) metrics: &'a Metrics,
    pub(super) hooks: &'a Hooks,
    /// What the school does with faces that match nobody.
    pub(super) unknown_faces: UnknownFaces,
    pub(super) savepoints: Savepoints,
    /// The students the batch's records name, with where their consent stands: read once.
    pub(super) roster: HashMap<StudentId, consent::State>,
    /// The school's attendance rules, when a lesson's cards are named together as records
    /// arrive.
    pub(super) lessons: Option<&'a Rules>,
}

/// Whether each record is stored in a savepoint of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Savepoints {
    /// No savepoint: a record the store refuses fails the batch (then written again, record
    /// by record).
    Off,
    /// One around each record: one the store refuses is held in quarantine and the batch goes
    /// on.
    PerRecord,
}

impl Batch<'_> {
    /// What the school's rule judges each record by.
    fn judge(&self) -> Judge<'_> {
        Judge {
            now: self.now,
            window: self.window,
            unknown_faces: self.unknown_faces,
            roster: &self.roster,
        }
    }

    /// Writes the batch's messages, each from a registered and enabled device, in order; what
    /// the batch then owes the devices.
    pub(super) fn store(
        mut self,
        tx: &dyn Sql,
        items: Vec<(DeviceId, Envelope)>,
    ) -> Result<Outcome, StoreError> {
        let named = items
            .iter()
            .flat_map(|(_, envelope)| match &envelope.message {
                Message::Record(record) => record.candidates.iter().map(|c| c.student).collect(),
                _ => Vec::new(),
            });
        self.roster = school::on_roster(tx, named)?;
        let mut places = HashMap::new();
        let mut out = Outcome::default();
        for (device, envelope) in items {
            let Some(place) = registered_place(tx, &mut places, device, self.metrics)? else {
                continue;
            };
            out.versions.insert(device, envelope.version);
            self.message(tx, device, envelope, &place, &mut out)?;
        }
        self.name_lessons(tx, &out.arrived);
        Ok(out)
    }

    /// Names the cards of the lessons records arrived in together (`closed_set`), in a
    /// savepoint: should it fail, the records stay stored and their cards wait for a teacher.
    fn name_lessons(&self, tx: &dyn Sql, arrived: &[(String, UnixMillis)]) {
        let Some(rules) = self.lessons.filter(|_| !arrived.is_empty()) else {
            return;
        };
        let naming = Naming {
            rules,
            model: self.model,
            now: self.now,
        };
        if let Err(e) = tx.attempt(|sql| closed_set::after_arrivals(sql, arrived, &naming)) {
            tracing::warn!("the lessons' cards were not named together: {e}");
        }
    }

    /// Writes one message of `device`, registered in `place`.
    fn message(
        &self,
        tx: &dyn Sql,
        device: DeviceId,
        envelope: Envelope,
        place: &Place,
        out: &mut Outcome,
    ) -> Result<(), StoreError> {
        let (Envelope { version, message }, now) = (envelope, self.now);
        match message {
            Message::Record(record) => self.arrival(tx, device, record, place, out)?,
            Message::Status(status) => {
                out.counted.push(|m| &m.status_messages);
                devices::record_status(tx, &status, version, now)?;
            }
            Message::Offline(_) => {
                devices::set_offline(tx, device)?;
                let room = devices::get(tx, device)?.map(|d| (d.name, d.room));
                let (name, room) = room.unwrap_or_default();
                let about = serde_json::json!({"device": device, "name": name, "room": room});
                self.hooks.enqueue(tx, Event::DeviceOffline, &about, now)?;
            }
            Message::GalleryRequest(req) => {
                out.counted.push(|m| &m.gallery_requests);
                devices::touch(tx, device, now)?;
                devices::heard_version(tx, device, version)?;
                let trigger = Trigger::Request(req);
                if let Some(u) = update_for(tx, device, self.model, trigger, version, now)? {
                    out.galleries.push((device, u));
                }
            }
            Message::SettingsReport(report) => {
                if let Some(s) = rollcall_school::unit_settings::reported(tx, &report, now)? {
                    out.settings.push((device, s));
                }
            }
            Message::Ack(_)
            | Message::Gallery(_)
            | Message::Command(_)
            | Message::Site(_)
            | Message::UnitSettings(_) => {}
        }
        Ok(())
    }

    /// One record of `device`, done as the school's rule judges it (`arrival::judge`):
    /// discarded, logged for a member of staff, held, or stored and learned from when it can
    /// teach; acknowledged whatever became of it.
    fn arrival(
        &self,
        tx: &dyn Sql,
        device: DeviceId,
        mut record: AttendanceRecord,
        place: &Place,
        out: &mut Outcome,
    ) -> Result<(), StoreError> {
        let (id, decision) = (record.id, record.decision);
        // Everything said of this record while it is judged, stored, held or learned from
        // carries its id and its door unit's, as the door's lines do.
        let _record = tracing::info_span!("record", %id, %device).entered();
        let fate = match arrival::judge(&mut record, place, &self.judge()) {
            Verdict::Discard => {
                // From a unit too old to be told: dropped here, face and all.
                devices::add_discarded(tx, device, 1)?;
                "matched nobody: discarded, as the school asks"
            }
            Verdict::Staff(seen) => {
                devices::touch(tx, device, self.now)?;
                staff_fate(tx, seen)?
            }
            Verdict::Hold(doubt) => {
                out.counted.push(|m| &m.records_received);
                // A resend of a record stored before (its ack was lost) is a duplicate, even
                // if by now it is too old: only then is the extra lookup paid.
                let kept = match records::exists(tx, id)? {
                    true => Kept::Duplicate,
                    false => self.hold(tx, &record, doubt.code(), &doubt.to_string())?,
                };
                devices::touch(tx, device, self.now)?;
                self.fate(tx, id, kept, None, out)?
            }
            Verdict::Store(arrival) => {
                out.counted.push(|m| &m.records_received);
                let teaches = arrival.teaches.then_some(record.embedding);
                let captured_at = record.captured_at;
                let kept = self.record(tx, record, &arrival)?;
                if matches!(kept, Kept::Stored { .. }) {
                    out.arrived.push((place.room.clone(), captured_at));
                }
                let fate = self.fate(tx, id, kept, teaches, out)?;
                devices::touch(tx, device, self.now)?;
                fate
            }
        };
        out.fates.push((id, device, decision, fate));
        out.acks.entry(device).or_default().push(id);
        Ok(())
    }

    /// What became of record `id`, counted, once it was `kept`: a stored one that can teach
    /// (`teaches` its face) is learned from.
    fn fate(
        &self,
        tx: &dyn Sql,
        id: RecordId,
        kept: Kept,
        teaches: Option<Embedding>,
        out: &mut Outcome,
    ) -> Result<&'static str, StoreError> {
        let counted = &mut out.counted;
        Ok(match kept {
            Kept::Stored {
                room_corrected,
                not_live,
            } => {
                counted.push(|m| &m.records_stored);
                if room_corrected {
                    counted.push(|m| &m.room_corrected);
                }
                if not_live {
                    counted.push(|m| &m.records_not_live);
                }
                let learned = match &teaches {
                    Some(face) => self.learn(tx, id, face)?,
                    None => false,
                };
                match learned {
                    true => {
                        out.learned += 1;
                        "stored, and learned as a template"
                    }
                    false => "stored",
                }
            }
            Kept::Duplicate => {
                counted.push(|m| &m.records_duplicate);
                "stored before: acknowledged again"
            }
            Kept::Held => {
                counted.push(|m| &m.records_quarantined);
                "held in quarantine"
            }
        })
    }

    /// Stores `record`, judged as `arrival` says, or holds it in quarantine should the store
    /// refuse it.
    fn record(
        &self,
        tx: &dyn Sql,
        record: AttendanceRecord,
        arrival: &Arrival,
    ) -> Result<Kept, StoreError> {
        if let Some(claimed) = &arrival.claimed_room {
            tracing::warn!(
                device = %record.device,
                "claims room {claimed:?} but is registered in {room:?}: stored under {room:?}",
                room = record.room
            );
        }
        if let (Some(claimed), Some(direction)) = (arrival.claimed_direction, record.direction) {
            tracing::warn!(
                device = %record.device,
                "claims to face {claimed} but is registered facing {direction}: stored as {direction}"
            );
        }
        let store = |sql: &dyn Sql| arrival::store_with(sql, &record, self.now, arrival.face);
        // On PostgreSQL a refused statement spoils the transaction after it: only in a
        // savepoint may the batch go on after one.
        let stored = match self.savepoints {
            Savepoints::Off => store(tx),
            Savepoints::PerRecord => tx.attempt(store),
        };
        match stored {
            Ok(true) => {
                // A face of a stranger someone dismissed never reaches the review again.
                strangers::dismiss_on_arrival(tx, &record, self.now)?;
                Ok(Kept::Stored {
                    room_corrected: arrival.claimed_room.is_some(),
                    not_live: record.liveness.is_some_and(|l| l.suspects_spoof()),
                })
            }
            Ok(false) => Ok(Kept::Duplicate),
            // The table's CHECKs (migration 4) are the last guard: such a record is held too,
            // rather than failing its whole batch again on every resend.
            Err(e) if e.is_constraint_violation() && self.savepoints == Savepoints::PerRecord => {
                let detail = format!("refused by the store: {e}");
                self.hold(tx, &record, "malformed", &detail)
            }
            Err(e) => Err(e),
        }
    }

    /// Learns a stored Confident record's face for the student it names, when it is close
    /// enough (`rollcall_models::learning::CONFIDENT`). Returns whether a template was added.
    fn learn(&self, tx: &dyn Sql, id: RecordId, face: &Embedding) -> Result<bool, StoreError> {
        let record = records::get(tx, id)?;
        let named = match (record.decision, record.final_student) {
            (Decision::Confident, Some(student)) => student,
            _ => return Ok(false),
        };
        let close = record
            .candidates
            .first()
            .is_some_and(|c| c.student == named && c.distance <= CONFIDENT.band);
        if !close {
            return Ok(false);
        }
        let learner = Learner {
            model: self.model.as_str(),
            gate: self.gate,
        };
        let Some(device) = record.device_id else {
            return Ok(false);
        };
        let actor = format!("device:{device}");
        let face = Offered {
            record: &record,
            embedding: face,
            student: named,
            how: How::Confident,
            actor: &actor,
            now: self.now,
        };
        let learned = learner.learn(tx, &face)?;
        Ok(learned.is_some())
    }

    /// Holds `record` in quarantine with its reason (once: a resent record is a duplicate).
    fn hold(
        &self,
        tx: &dyn Sql,
        record: &AttendanceRecord,
        code: &str,
        detail: &str,
    ) -> Result<Kept, StoreError> {
        tracing::warn!(device = %record.device, "quarantined: {detail}");
        let reason = Reason { code, detail };
        Ok(match quarantine::insert(tx, record, self.now, reason)? {
            true => Kept::Held,
            false => Kept::Duplicate,
        })
    }
}

/// What became of a member of staff's record: logged at the gate, logged before, or not
/// (why is said in the log).
fn staff_fate(
    tx: &dyn Sql,
    seen: Result<staff_faces::Seen, arrival::Doubt>,
) -> Result<&'static str, StoreError> {
    Ok(match seen {
        Ok(seen) => match staff_faces::recognised(tx, seen)? {
            Ok(true) => "a member of staff: logged at the gate",
            Ok(false) => "a member of staff, logged before: acknowledged again",
            Err(why) => {
                tracing::warn!(member = %seen.member.member, "staff not logged: {why}");
                "a member of staff: not logged"
            }
        },
        Err(doubt) => {
            tracing::warn!("staff not logged: {doubt}");
            "a member of staff at a doubtful time: not logged"
        }
    })
}

/// What became of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kept {
    Stored {
        room_corrected: bool,
        /// The door unit judged its face not live.
        not_live: bool,
    },
    /// Stored or held before: a door unit resending after a lost ack.
    Duplicate,
    /// In quarantine.
    Held,
}

/// Where `device` is registered, when it may send: registered and enabled. Looked up once per
/// batch; refusals are counted and logged.
fn registered_place(
    conn: &dyn Sql,
    cache: &mut HashMap<DeviceId, Option<(bool, Place)>>,
    device: DeviceId,
    metrics: &Metrics,
) -> Result<Option<Place>, StoreError> {
    let known = match cache.entry(device) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(slot) => slot.insert(devices::get(conn, device)?.map(|d| {
            let place = Place {
                device,
                room: d.room,
                direction: d.direction,
            };
            (d.enabled, place)
        })),
    };
    match known.clone() {
        Some((true, place)) => Ok(Some(place)),
        Some((false, _)) => {
            add(&metrics.disabled_device, 1);
            tracing::warn!(%device, "refused: device is disabled");
            Ok(None)
        }
        None => {
            add(&metrics.unknown_device, 1);
            tracing::warn!(%device, "refused: device is not registered");
            Ok(None)
        }
    }
}
