//! What each device's gallery should hold, and which update takes it there. The rules' floor:
//! its SQL is `rollcall_store::gallery`; the hub's ingest pushes the updates (`ingest::push`).
//!
//! A device in room R gets every active student of every class timetabled in R whose consent
//! is given and who has an enrolment embedding of the configured model (templates switched
//! off left out), plus R's timetable. A gate (a device facing in or out) that speaks protocol
//! 7 also gets every active member of staff whose consent is given, with their templates of
//! the model ([`rollcall_store::staff_faces::gallery`]); classroom doors get no staff.
//! [`plan`] is pure: given the state last sent to the device and the state it should have, it
//! picks a delta, a full snapshot or nothing. [`update_for`] runs it against the database and
//! remembers what was sent.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rollcall_shared::gallery::MAX_EMBEDDINGS_PER_STUDENT;
use rollcall_shared::{
    ClassId, DeviceId, Direction, Embedding, GalleryEntry, GalleryRequest, GalleryState,
    GalleryUpdate, GalleryVersion, ModelId, StudentId, TimetableSlot, UnixMillis,
};

use rollcall_store::consent::State;
use rollcall_store::school::Student;
use rollcall_store::{Sql, StoreError, devices, gallery, school, staff_faces, timetable};

/// The first protocol version whose galleries carry staff.
pub const STAFF_SINCE: u16 = 7;

/// Why an update is being computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The device asked.
    Request(GalleryRequest),
    /// Something changed on the hub; only devices that already hold a gallery get a delta.
    Push,
}

/// The update to send and the state to remember, or `None` when nothing needs sending.
pub fn plan(
    last: Option<&GalleryState>,
    mut target: GalleryState,
    trigger: Trigger,
) -> Option<(GalleryUpdate, GalleryState)> {
    let same = |l: &GalleryState| {
        l.entries == target.entries && l.timetable == target.timetable && l.staff == target.staff
    };
    match (trigger, last) {
        (Trigger::Request(req), Some(l)) if !req.full && req.have == l.version => {
            if same(l) {
                return None;
            }
            target.version = l.version.next();
            Some((GalleryUpdate::delta(l, &target), target))
        }
        (Trigger::Request(req), last) => {
            let sent = last.map_or(GalleryVersion(0), |l| l.version);
            target.version = sent.max(req.have).next();
            Some((GalleryUpdate::snapshot(&target), target))
        }
        (Trigger::Push, Some(l)) if !same(l) => {
            target.version = l.version.next();
            Some((GalleryUpdate::delta(l, &target), target))
        }
        (Trigger::Push, _) => None,
    }
}

/// The gallery a device in `room` should hold at `now` (its version is left at 0). Its
/// timetable has the slots still running or yet to start: the door narrows to the union,
/// which is never narrower than the truth.
pub fn target(
    conn: &dyn Sql,
    room: &str,
    model: &ModelId,
    now: UnixMillis,
) -> Result<GalleryState, StoreError> {
    let slots = timetable::slots_in_room(conn, room, ended_before(now))?;
    let room_classes: BTreeSet<ClassId> = slots.iter().map(|s| s.class_id).collect();
    let mut students = BTreeSet::new();
    for class in &room_classes {
        let members = school::members(conn, *class)?.into_iter();
        students.extend(members.filter(matchable).map(|s| s.id));
    }
    let mut state = GalleryState::empty(model.clone());
    for student in students {
        if let Some(entry) = entry(conn, student, &room_classes, model)? {
            state.entries.insert(student, entry);
        }
    }
    state.timetable = slots
        .iter()
        .map(|s| TimetableSlot {
            class: s.class_id,
            weekday: s.weekday,
            start_minute: s.start_minute,
            end_minute: s.end_minute,
        })
        .collect();
    Ok(state)
}

/// What a class photo of `class` is matched against: what a door unit in its room holds of
/// it (active members whose consent is given, with templates of `model`, the newest of each).
pub fn of_class(
    conn: &dyn Sql,
    class: ClassId,
    model: &ModelId,
) -> Result<Vec<GalleryEntry>, StoreError> {
    let classes = BTreeSet::from([class]);
    let mut entries = Vec::new();
    for student in school::members(conn, class)?
        .iter()
        .filter(|s| matchable(s))
    {
        entries.extend(entry(conn, student.id, &classes, model)?);
    }
    Ok(entries)
}

/// Every student's faces a door could match against, as a class's are
/// ([`MAX_EMBEDDINGS_PER_STUDENT`] newest of `model` of each active student whose consent is
/// given): the whole school, in one read.
pub fn of_school(
    conn: &dyn Sql,
    model: &ModelId,
) -> Result<Vec<(StudentId, Embedding)>, StoreError> {
    let all = school::templates_of(conn, model.as_str(), State::Given)?;
    let mut kept = Vec::with_capacity(all.len());
    for run in all.chunk_by(|a, b| a.0 == b.0) {
        let skip = run.len().saturating_sub(MAX_EMBEDDINGS_PER_STUDENT);
        kept.extend_from_slice(&run[skip..]);
    }
    Ok(kept)
}

/// Whether a student's faces are matched against at all: consent given, and active.
fn matchable(s: &Student) -> bool {
    s.consent == State::Given && s.profile.active
}

fn entry(
    conn: &dyn Sql,
    student: StudentId,
    room_classes: &BTreeSet<ClassId>,
    model: &ModelId,
) -> Result<Option<GalleryEntry>, StoreError> {
    let mut embeddings: Vec<Embedding> = school::enrolments(conn, student)?
        .into_iter()
        .filter(|e| e.active && e.model == model.as_str())
        .map(|e| e.embedding)
        .collect();
    if embeddings.is_empty() {
        return Ok(None);
    }
    let skip = embeddings.len().saturating_sub(MAX_EMBEDDINGS_PER_STUDENT);
    embeddings.drain(..skip);
    let classes = school::classes_of(conn, student)?
        .into_iter()
        .filter(|c| room_classes.contains(c))
        .collect();
    Ok(Some(GalleryEntry {
        student,
        classes,
        embeddings,
    }))
}

/// The door units that may still hold `student`'s faces, by name: each whose last gallery
/// named them, and each that has not yet said (in a heartbeat) that it holds the last gallery
/// it was sent. Empty once every unit has confirmed a gallery without them.
pub fn units_holding(
    conn: &dyn Sql,
    student: StudentId,
    model: &ModelId,
) -> Result<Vec<String>, StoreError> {
    let mut holding = Vec::new();
    for device in devices::list(conn)? {
        let Some(last) = gallery::last_sent(conn, device.id, model)? else {
            continue;
        };
        let confirmed = device.gallery_version == Some(last.version.0);
        if !confirmed || last.entries.contains_key(&student) {
            holding.push(device.name);
        }
    }
    Ok(holding)
}

/// Slots whose last day is before this one are left off door units. The gallery does not
/// know the school's zone: a day before the UTC date is before the local date everywhere.
fn ended_before(now: UnixMillis) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_millis(now.0).unwrap_or_default();
    utc.date_naive().pred_opt().unwrap_or(NaiveDate::MIN)
}

/// Computes and remembers the update for `device`, which speaks protocol `version`; `None`
/// when it needs nothing (or is unknown or disabled).
pub fn update_for(
    conn: &dyn Sql,
    device: DeviceId,
    model: &ModelId,
    trigger: Trigger,
    version: u16,
    now: UnixMillis,
) -> Result<Option<GalleryUpdate>, StoreError> {
    let Some(dev) = devices::get(conn, device)?.filter(|d| d.enabled) else {
        return Ok(None);
    };
    let last = gallery::last_sent(conn, device, model)?;
    let mut target = target(conn, &dev.room, model, now)?;
    if dev.direction != Direction::Both && version >= STAFF_SINCE {
        let staff = staff_faces::gallery(conn, model.as_str())?;
        target.staff = staff.into_iter().map(|e| (e.member, e)).collect();
    }
    let Some((update, state)) = plan(last.as_ref(), target, trigger) else {
        return Ok(None);
    };
    gallery::save_sent(conn, device, &state, now)?;
    Ok(Some(update))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(version: u64, students: &[u8]) -> GalleryState {
        let mut s = GalleryState::empty(ModelId::new("m").unwrap());
        s.version = GalleryVersion(version);
        for &b in students {
            let student = StudentId(uuid::Uuid::from_bytes([b; 16]));
            let embeddings = vec![Embedding([f32::from(b); rollcall_shared::EMBEDDING_DIM])];
            let classes = Vec::new();
            s.entries.insert(
                student,
                GalleryEntry {
                    student,
                    classes,
                    embeddings,
                },
            );
        }
        s
    }

    fn request(have: u64, full: bool) -> Trigger {
        Trigger::Request(GalleryRequest {
            device: DeviceId::random(),
            have: GalleryVersion(have),
            full,
        })
    }

    #[test]
    fn only_active_students_with_consent_given_and_their_templates_in_use_reach_a_door_unit() {
        use rollcall_store::sql::params;
        rollcall_store::engines::each(|db| {
            let (class, ada, bo) = (ClassId::random(), StudentId::random(), StudentId::random());
            let (cy, di) = (StudentId::random(), StudentId::random());
            let model = ModelId::new("m").unwrap();
            let target = db
                .write_blocking(|sql| {
                    let c = class.to_string();
                    sql.execute(
                        "INSERT INTO classes (id, name, created_at) VALUES (?1, '7B', 0)",
                        params![c],
                    )?;
                    sql.execute(
                        "INSERT INTO timetable (id, class_id, room, weekday, start_minute,
                         end_minute) VALUES (?1, ?2, 'Lab 3', 1, 540, 600)",
                        params![uuid::Uuid::now_v7().to_string(), c],
                    )?;
                    // Bo's face is from before consent was recorded: kept, never sent. Cy is
                    // inactive; one of Di's two photos is switched off.
                    let students = [
                        (ada, "given", 1, [1, 1]),
                        (bo, "not_asked", 1, [1, 1]),
                        (cy, "given", 0, [1, 1]),
                        (di, "given", 1, [1, 0]),
                    ];
                    for (s, consent, active, faces) in students {
                        sql.execute(
                            "INSERT INTO students (id, name, created_at, consent, active)
                             VALUES (?1, 'x', 0, ?2, ?3)",
                            params![s.to_string(), consent, active],
                        )?;
                        school::add_member(sql, class, s, None)?;
                        for face in faces {
                            sql.execute(
                                "INSERT INTO embeddings
                                 (id, student_id, model, embedding, created_at, active)
                                 VALUES (?1, ?2, 'm', ?3, 0, ?4)",
                                params![
                                    uuid::Uuid::now_v7().to_string(),
                                    s.to_string(),
                                    vec![0_u8; 4 * rollcall_shared::EMBEDDING_DIM],
                                    face
                                ],
                            )?;
                        }
                    }
                    let photo = of_class(sql, class, &model)?;
                    let photo: BTreeSet<StudentId> = photo.iter().map(|e| e.student).collect();
                    assert_eq!(photo, BTreeSet::from([ada, di]), "a class photo's gallery");
                    target(sql, "Lab 3", &model, UnixMillis(1_790_000_000_000))
                })
                .unwrap();
            let sent: BTreeSet<StudentId> = target.entries.keys().copied().collect();
            assert_eq!(sent, BTreeSet::from([ada, di]));
            let held = |s: StudentId| target.entries[&s].embeddings.len();
            assert_eq!(
                (held(ada), held(di)),
                (2, 1),
                "Di's photo switched off is not sent"
            );
        });
    }

    #[test]
    fn only_gates_speaking_protocol_7_hold_staff_and_only_those_who_consented_and_are_active() {
        use rollcall_store::sql::params;
        rollcall_store::engines::each(|db| {
            let model = ModelId::new("m").unwrap();
            let (gate, old_gate, classroom) =
                (DeviceId::random(), DeviceId::random(), DeviceId::random());
            let (ann, bob, cy) = (
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4(),
            );
            let held = db
                .write_blocking(|sql| {
                    for (device, direction) in
                        [(gate, "in"), (old_gate, "out"), (classroom, "both")]
                    {
                        sql.execute(
                            "INSERT INTO devices (id, name, room, credential_hash, created_at,
                             direction) VALUES (?1, ?1, 'Main gate', 'hash', 0, ?2)",
                            params![device.to_string(), direction],
                        )?;
                    }
                    // Ann consented; Bob refused (a face from before is never sent); Cy
                    // consented but has left (inactive).
                    let staff = [
                        (ann, "A1", "given", 1),
                        (bob, "B2", "refused", 1),
                        (cy, "C3", "given", 0),
                    ];
                    for (id, code, consent, active) in staff {
                        sql.execute(
                            "INSERT INTO staff (id, code, name, active, created_at, consent)
                             VALUES (?1, ?2, 'x', ?3, 0, ?4)",
                            params![id.to_string(), code, active, consent],
                        )?;
                        sql.execute(
                            "INSERT INTO staff_faces (id, staff_id, model, embedding,
                             photo_sha256, created_at) VALUES (?1, ?2, 'm', ?3, ?2, 0)",
                            params![
                                uuid::Uuid::now_v7().to_string(),
                                id.to_string(),
                                vec![0_u8; 4 * rollcall_shared::EMBEDDING_DIM]
                            ],
                        )?;
                    }
                    let now = UnixMillis(1_790_000_000_000);
                    let mut held = Vec::new();
                    for (device, version) in [(gate, 7), (old_gate, 6), (classroom, 7)] {
                        let trigger = request(0, false);
                        let update = update_for(sql, device, &model, trigger, version, now)?;
                        let staff: Vec<_> = update
                            .unwrap()
                            .staff_upserts
                            .iter()
                            .map(|e| e.member.0)
                            .collect();
                        held.push(staff);
                    }
                    Ok::<_, StoreError>(held)
                })
                .unwrap();
            assert_eq!(
                held,
                [vec![ann], vec![], vec![]],
                "gate, gate of protocol 6, classroom"
            );
        });
    }

    #[test]
    fn a_first_request_gets_a_snapshot_that_applies() {
        let (update, sent) = plan(None, state(0, &[1, 2]), request(0, false)).unwrap();
        assert_eq!(update.base, None);
        let empty = GalleryState::empty(ModelId::new("m").unwrap());
        assert_eq!(empty.apply(&update).unwrap(), sent);
    }

    #[test]
    fn a_known_base_gets_a_delta_and_an_unknown_one_a_newer_snapshot() {
        let last = state(4, &[1, 2]);
        let (delta, next) = plan(Some(&last), state(0, &[2, 3]), request(4, false)).unwrap();
        assert_eq!(delta.base, Some(GalleryVersion(4)));
        assert_eq!(last.apply(&delta).unwrap(), next);
        let (snap, _) = plan(Some(&last), state(0, &[2]), request(9, false)).unwrap();
        assert_eq!((snap.base, snap.version), (None, GalleryVersion(10)));
        assert!(plan(Some(&last), state(0, &[1, 2]), request(4, false)).is_none());
    }

    #[test]
    fn pushes_go_only_to_devices_holding_a_gallery_that_changed() {
        let last = state(2, &[1]);
        assert!(plan(None, state(0, &[1]), Trigger::Push).is_none());
        assert!(plan(Some(&last), state(0, &[1]), Trigger::Push).is_none());
        let (delta, _) = plan(Some(&last), state(0, &[]), Trigger::Push).unwrap();
        assert_eq!(delta.removals.len(), 1);
    }
}
