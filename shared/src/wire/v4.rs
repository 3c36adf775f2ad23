//! Protocol version 4, frozen: the messages as door units of that version write and read
//! them. Version 5 added the direction at the end of a record; every other message is the same
//! type in both, so only the record is translated. A version-4 record reads as saying no
//! direction (the hub stores the one its registry has for the device, as it always did).

use serde::{Deserialize, Serialize};

use crate::gallery::GalleryUpdate;
use crate::ids::{DeviceId, GalleryVersion, ModelId, RecordId};
use crate::message::{DeviceCommand, GalleryRequest, Message, RecordAck};
use crate::record::{AttendanceRecord, Candidate, Decision, Embedding, FaceQuality, Thumbnail};
use crate::site::SiteSettings;
use crate::status::{ClockSync, DeviceOffline, DeviceStatus};
use crate::time::UnixMillis;

/// [`Message`] as version 4 encodes it: same variants, same order.
#[derive(Deserialize)]
pub(super) enum MessageV4 {
    Record(RecordV4),
    Status(DeviceStatus),
    Offline(DeviceOffline),
    GalleryRequest(GalleryRequest),
    Ack(RecordAck),
    Gallery(GalleryUpdate),
    Command(DeviceCommand),
    Site(SiteSettings),
}

/// Borrowing twin of [`MessageV4`] for encoding.
#[derive(Serialize)]
pub(super) enum MessageV4Ref<'a> {
    Record(RecordV4Ref<'a>),
    Status(&'a DeviceStatus),
    Offline(&'a DeviceOffline),
    GalleryRequest(&'a GalleryRequest),
    Ack(&'a RecordAck),
    Gallery(&'a GalleryUpdate),
    Command(&'a DeviceCommand),
    Site(&'a SiteSettings),
}

/// The version-4 record: a version-5 one without its direction.
#[derive(Deserialize)]
pub(super) struct RecordV4 {
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
}

#[derive(Serialize)]
pub(super) struct RecordV4Ref<'a> {
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
}

impl From<MessageV4> for Message {
    fn from(m: MessageV4) -> Self {
        match m {
            MessageV4::Record(r) => Message::Record(r.into()),
            MessageV4::Status(s) => Message::Status(s),
            MessageV4::Offline(o) => Message::Offline(o),
            MessageV4::GalleryRequest(g) => Message::GalleryRequest(g),
            MessageV4::Ack(a) => Message::Ack(a),
            MessageV4::Gallery(g) => Message::Gallery(g),
            MessageV4::Command(c) => Message::Command(c),
            MessageV4::Site(s) => Message::Site(s),
        }
    }
}

impl From<RecordV4> for AttendanceRecord {
    fn from(r: RecordV4) -> Self {
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
            direction: None,
        }
    }
}

impl<'a> MessageV4Ref<'a> {
    /// What a version-4 reader can hold of `m`: a record loses its direction; messages
    /// version 4 did not have are `None`.
    pub(super) fn of(m: &'a Message) -> Option<Self> {
        Some(match m {
            Message::Record(r) => MessageV4Ref::Record(RecordV4Ref {
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
            }),
            Message::Status(s) => MessageV4Ref::Status(s),
            Message::Offline(o) => MessageV4Ref::Offline(o),
            Message::GalleryRequest(g) => MessageV4Ref::GalleryRequest(g),
            Message::Ack(a) => MessageV4Ref::Ack(a),
            Message::Gallery(g) => MessageV4Ref::Gallery(g),
            Message::Command(c) => MessageV4Ref::Command(c),
            Message::Site(s) => MessageV4Ref::Site(s),
            Message::UnitSettings(_) | Message::SettingsReport(_) => return None,
        })
    }
}
