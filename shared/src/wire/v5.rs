//! Protocol version 5, frozen: the messages as door units of that version write and read
//! them. Version 6 added the liveness check at the end of a record; every other message is the
//! same type in both, so only the record is translated. A version-5 record reads as not
//! checked (`liveness: None`), which is what it was.

use serde::{Deserialize, Serialize};

use crate::direction::Direction;
use crate::gallery::GalleryUpdate;
use crate::ids::{DeviceId, GalleryVersion, ModelId, RecordId};
use crate::message::{DeviceCommand, GalleryRequest, Message, RecordAck};
use crate::record::{AttendanceRecord, Candidate, Decision, Embedding, FaceQuality, Thumbnail};
use crate::site::SiteSettings;
use crate::status::{ClockSync, DeviceOffline, DeviceStatus};
use crate::time::UnixMillis;
use crate::unit_settings::{SettingsReport, UnitSettings};

/// [`Message`] as version 5 encodes it: same variants, same order.
#[derive(Deserialize)]
pub(super) enum MessageV5 {
    Record(RecordV5),
    Status(DeviceStatus),
    Offline(DeviceOffline),
    GalleryRequest(GalleryRequest),
    Ack(RecordAck),
    Gallery(GalleryUpdate),
    Command(DeviceCommand),
    Site(SiteSettings),
    UnitSettings(UnitSettings),
    SettingsReport(SettingsReport),
}

/// Borrowing twin of [`MessageV5`] for encoding.
#[derive(Serialize)]
pub(super) enum MessageV5Ref<'a> {
    Record(RecordV5Ref<'a>),
    Status(&'a DeviceStatus),
    Offline(&'a DeviceOffline),
    GalleryRequest(&'a GalleryRequest),
    Ack(&'a RecordAck),
    Gallery(&'a GalleryUpdate),
    Command(&'a DeviceCommand),
    Site(&'a SiteSettings),
    UnitSettings(&'a UnitSettings),
    SettingsReport(&'a SettingsReport),
}

/// The version-5 record: a version-6 one without its liveness check.
#[derive(Deserialize)]
pub(super) struct RecordV5 {
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
}

#[derive(Serialize)]
pub(super) struct RecordV5Ref<'a> {
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
}

impl From<MessageV5> for Message {
    fn from(m: MessageV5) -> Self {
        match m {
            MessageV5::Record(r) => Message::Record(r.into()),
            MessageV5::Status(s) => Message::Status(s),
            MessageV5::Offline(o) => Message::Offline(o),
            MessageV5::GalleryRequest(g) => Message::GalleryRequest(g),
            MessageV5::Ack(a) => Message::Ack(a),
            MessageV5::Gallery(g) => Message::Gallery(g),
            MessageV5::Command(c) => Message::Command(c),
            MessageV5::Site(s) => Message::Site(s),
            MessageV5::UnitSettings(u) => Message::UnitSettings(u),
            MessageV5::SettingsReport(r) => Message::SettingsReport(r),
        }
    }
}

impl From<RecordV5> for AttendanceRecord {
    fn from(r: RecordV5) -> Self {
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
            liveness: None,
        }
    }
}

impl<'a> MessageV5Ref<'a> {
    /// What a version-5 reader can hold of `m`: a record loses its liveness check. Version 5
    /// has every message version 6 has; the `Option` is for messages added after it.
    pub(super) fn of(m: &'a Message) -> Option<Self> {
        Some(match m {
            Message::Record(r) => MessageV5Ref::Record(RecordV5Ref {
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
            }),
            Message::Status(s) => MessageV5Ref::Status(s),
            Message::Offline(o) => MessageV5Ref::Offline(o),
            Message::GalleryRequest(g) => MessageV5Ref::GalleryRequest(g),
            Message::Ack(a) => MessageV5Ref::Ack(a),
            Message::Gallery(g) => MessageV5Ref::Gallery(g),
            Message::Command(c) => MessageV5Ref::Command(c),
            Message::Site(s) => MessageV5Ref::Site(s),
            Message::UnitSettings(u) => MessageV5Ref::UnitSettings(u),
            Message::SettingsReport(r) => MessageV5Ref::SettingsReport(r),
        })
    }
}
