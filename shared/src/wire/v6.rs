//! Protocol version 6, frozen: the messages as door units of that version write and read
//! them. Version 7 added staff at gates: a record may name a member of staff (`staff`, at its
//! end) and a gallery update may carry staff (`staff_upserts`, `staff_removals`, at its end).
//! Every other message is the same type in both, so only those two are translated. A
//! version-6 record names no member of staff, which is what it was; a gallery update with
//! staff cannot be written in version 6 (the hub sends none to a version-6 unit).

use serde::{Deserialize, Serialize};

use crate::direction::Direction;
use crate::gallery::{GalleryDigest, GalleryEntry, GalleryUpdate, TimetableSlot};
use crate::ids::{DeviceId, GalleryVersion, ModelId, RecordId, StudentId};
use crate::liveness::LivenessCheck;
use crate::message::{DeviceCommand, GalleryRequest, Message, RecordAck};
use crate::record::{AttendanceRecord, Candidate, Decision, Embedding, FaceQuality, Thumbnail};
use crate::site::SiteSettings;
use crate::status::{ClockSync, DeviceOffline, DeviceStatus};
use crate::time::UnixMillis;
use crate::unit_settings::{SettingsReport, UnitSettings};

/// [`Message`] as version 6 encodes it: same variants, same order.
#[derive(Deserialize)]
pub(super) enum MessageV6 {
    Record(RecordV6),
    Status(DeviceStatus),
    Offline(DeviceOffline),
    GalleryRequest(GalleryRequest),
    Ack(RecordAck),
    Gallery(GalleryV6),
    Command(DeviceCommand),
    Site(SiteSettings),
    UnitSettings(UnitSettings),
    SettingsReport(SettingsReport),
}

/// Borrowing twin of [`MessageV6`] for encoding.
#[derive(Serialize)]
pub(super) enum MessageV6Ref<'a> {
    Record(RecordV6Ref<'a>),
    Status(&'a DeviceStatus),
    Offline(&'a DeviceOffline),
    GalleryRequest(&'a GalleryRequest),
    Ack(&'a RecordAck),
    Gallery(GalleryV6Ref<'a>),
    Command(&'a DeviceCommand),
    Site(&'a SiteSettings),
    UnitSettings(&'a UnitSettings),
    SettingsReport(&'a SettingsReport),
}

/// The version-6 record: a version-7 one that names no member of staff.
#[derive(Deserialize)]
pub(super) struct RecordV6 {
    id: RecordId,
    device: DeviceId,
    room: String,
    captured_at: UnixMillis,
    model: ModelId,
    gallery_version: GalleryVersion,
    embedding: Embedding,
    candidates: Vec<Candidate>,
    decision: Decision,
    thumbnail: Option<Thumbnail>,
    quality: FaceQuality,
    clock: ClockSync,
    direction: Option<Direction>,
    liveness: Option<LivenessCheck>,
}

#[derive(Serialize)]
pub(super) struct RecordV6Ref<'a> {
    id: &'a RecordId,
    device: &'a DeviceId,
    room: &'a str,
    captured_at: &'a UnixMillis,
    model: &'a ModelId,
    gallery_version: &'a GalleryVersion,
    embedding: &'a Embedding,
    candidates: &'a [Candidate],
    decision: &'a Decision,
    thumbnail: &'a Option<Thumbnail>,
    quality: &'a FaceQuality,
    clock: &'a ClockSync,
    direction: &'a Option<Direction>,
    liveness: &'a Option<LivenessCheck>,
}

/// The version-6 gallery update: a version-7 one without staff.
#[derive(Deserialize)]
pub(super) struct GalleryV6 {
    model: ModelId,
    version: GalleryVersion,
    base: Option<GalleryVersion>,
    upserts: Vec<GalleryEntry>,
    removals: Vec<StudentId>,
    timetable: Option<Vec<TimetableSlot>>,
    digest: GalleryDigest,
}

#[derive(Serialize)]
pub(super) struct GalleryV6Ref<'a> {
    model: &'a ModelId,
    version: &'a GalleryVersion,
    base: &'a Option<GalleryVersion>,
    upserts: &'a [GalleryEntry],
    removals: &'a [StudentId],
    timetable: &'a Option<Vec<TimetableSlot>>,
    digest: &'a GalleryDigest,
}

impl From<MessageV6> for Message {
    fn from(m: MessageV6) -> Self {
        match m {
            MessageV6::Record(r) => Message::Record(r.into()),
            MessageV6::Status(s) => Message::Status(s),
            MessageV6::Offline(o) => Message::Offline(o),
            MessageV6::GalleryRequest(g) => Message::GalleryRequest(g),
            MessageV6::Ack(a) => Message::Ack(a),
            MessageV6::Gallery(g) => Message::Gallery(g.into()),
            MessageV6::Command(c) => Message::Command(c),
            MessageV6::Site(s) => Message::Site(s),
            MessageV6::UnitSettings(u) => Message::UnitSettings(u),
            MessageV6::SettingsReport(r) => Message::SettingsReport(r),
        }
    }
}

impl From<RecordV6> for AttendanceRecord {
    fn from(r: RecordV6) -> Self {
        AttendanceRecord {
            id: r.id,
            device: r.device,
            room: r.room,
            captured_at: r.captured_at,
            model: r.model,
            gallery_version: r.gallery_version,
            embedding: r.embedding,
            candidates: r.candidates,
            decision: r.decision,
            thumbnail: r.thumbnail,
            quality: r.quality,
            clock: r.clock,
            direction: r.direction,
            liveness: r.liveness,
            staff: None,
        }
    }
}

impl From<GalleryV6> for GalleryUpdate {
    fn from(g: GalleryV6) -> Self {
        GalleryUpdate {
            model: g.model,
            version: g.version,
            base: g.base,
            upserts: g.upserts,
            removals: g.removals,
            timetable: g.timetable,
            digest: g.digest,
            staff_upserts: Vec::new(),
            staff_removals: Vec::new(),
        }
    }
}

impl<'a> MessageV6Ref<'a> {
    /// What a version-6 reader can hold of `m`; `None` for what it cannot: a record naming a
    /// member of staff, a gallery update carrying staff.
    pub(super) fn of(m: &'a Message) -> Option<Self> {
        Some(match m {
            Message::Record(r) if r.staff.is_some() => return None,
            Message::Record(r) => MessageV6Ref::Record(RecordV6Ref {
                id: &r.id,
                device: &r.device,
                room: &r.room,
                captured_at: &r.captured_at,
                model: &r.model,
                gallery_version: &r.gallery_version,
                embedding: &r.embedding,
                candidates: &r.candidates,
                decision: &r.decision,
                thumbnail: &r.thumbnail,
                quality: &r.quality,
                clock: &r.clock,
                direction: &r.direction,
                liveness: &r.liveness,
            }),
            Message::Gallery(g) if !g.staff_upserts.is_empty() || !g.staff_removals.is_empty() => {
                return None;
            }
            Message::Gallery(g) => MessageV6Ref::Gallery(GalleryV6Ref {
                model: &g.model,
                version: &g.version,
                base: &g.base,
                upserts: &g.upserts,
                removals: &g.removals,
                timetable: &g.timetable,
                digest: &g.digest,
            }),
            Message::Status(s) => MessageV6Ref::Status(s),
            Message::Offline(o) => MessageV6Ref::Offline(o),
            Message::GalleryRequest(g) => MessageV6Ref::GalleryRequest(g),
            Message::Ack(a) => MessageV6Ref::Ack(a),
            Message::Command(c) => MessageV6Ref::Command(c),
            Message::Site(s) => MessageV6Ref::Site(s),
            Message::UnitSettings(u) => MessageV6Ref::UnitSettings(u),
            Message::SettingsReport(r) => MessageV6Ref::SettingsReport(r),
        })
    }
}
