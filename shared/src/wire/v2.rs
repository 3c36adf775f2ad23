//! Protocol version 2, frozen: the messages as door units of that version write and read
//! them. A record and a heartbeat in version 2 had no clock state (version 3 added it at the
//! end of each); every other message is the same type in both, so only those two are
//! translated. A version-2 record or heartbeat reads as [`ClockSync::Unknown`].

use serde::{Deserialize, Serialize};

use crate::embedding::Embedding;
use crate::gallery::GalleryUpdate;
use crate::ids::{DeviceId, GalleryVersion, ModelId, RecordId};
use crate::message::{DeviceCommand, GalleryRequest, Message, RecordAck};
use crate::record::{AttendanceRecord, Candidate, Decision, FaceQuality, Thumbnail};
use crate::status::{ClockSync, DeviceOffline, DeviceStatus};
use crate::time::UnixMillis;
use crate::zone::SiteSettings;

/// [`Message`] as version 2 encodes it: same variants, same order.
#[derive(Deserialize)]
pub(super) enum MessageV2 {
    Record(RecordV2),
    Status(StatusV2),
    Offline(DeviceOffline),
    GalleryRequest(GalleryRequest),
    Ack(RecordAck),
    Gallery(GalleryUpdate),
    Command(DeviceCommand),
    Site(SiteSettings),
}

/// Borrowing twin of [`MessageV2`] for encoding.
#[derive(Serialize)]
pub(super) enum MessageV2Ref<'a> {
    Record(RecordV2Ref<'a>),
    Status(StatusV2Ref<'a>),
    Offline(&'a DeviceOffline),
    GalleryRequest(&'a GalleryRequest),
    Ack(&'a RecordAck),
    Gallery(&'a GalleryUpdate),
    Command(&'a DeviceCommand),
    Site(&'a SiteSettings),
}

/// The version-2 record.
#[derive(Deserialize)]
pub(super) struct RecordV2 {
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
}

#[derive(Serialize)]
pub(super) struct RecordV2Ref<'a> {
    id: &'a RecordId,
    device: &'a DeviceId,
    room: &'a str,
    captured_at: &'a UnixMillis,
    model: &'a ModelId,
    gallery_version: &'a GalleryVersion,
    embedding: &'a Embedding,
    candidates: &'a Vec<Candidate>,
    decision: &'a Decision,
    thumbnail: &'a Option<Thumbnail>,
    quality: &'a FaceQuality,
}

/// The version-2 heartbeat.
#[derive(Deserialize)]
pub(super) struct StatusV2 {
    device: DeviceId,
    sent_at: UnixMillis,
    uptime_s: u64,
    outbox_depth: u32,
    gallery_version: GalleryVersion,
    software_version: String,
    last_error: Option<String>,
    model: Option<ModelId>,
    free_disk_bytes: Option<u64>,
}

#[derive(Serialize)]
pub(super) struct StatusV2Ref<'a> {
    device: &'a DeviceId,
    sent_at: &'a UnixMillis,
    uptime_s: &'a u64,
    outbox_depth: &'a u32,
    gallery_version: &'a GalleryVersion,
    software_version: &'a str,
    last_error: &'a Option<String>,
    model: &'a Option<ModelId>,
    free_disk_bytes: &'a Option<u64>,
}

impl From<MessageV2> for Message {
    fn from(m: MessageV2) -> Self {
        match m {
            MessageV2::Record(r) => Message::Record(r.into()),
            MessageV2::Status(s) => Message::Status(s.into()),
            MessageV2::Offline(o) => Message::Offline(o),
            MessageV2::GalleryRequest(g) => Message::GalleryRequest(g),
            MessageV2::Ack(a) => Message::Ack(a),
            MessageV2::Gallery(g) => Message::Gallery(g),
            MessageV2::Command(c) => Message::Command(c),
            MessageV2::Site(s) => Message::Site(s),
        }
    }
}

impl From<RecordV2> for AttendanceRecord {
    fn from(r: RecordV2) -> Self {
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
            clock: ClockSync::Unknown,
        }
    }
}

impl From<StatusV2> for DeviceStatus {
    fn from(s: StatusV2) -> Self {
        DeviceStatus {
            device: s.device,
            sent_at: s.sent_at,
            uptime_s: s.uptime_s,
            outbox_depth: s.outbox_depth,
            gallery_version: s.gallery_version,
            software_version: s.software_version,
            last_error: s.last_error,
            model: s.model,
            free_disk_bytes: s.free_disk_bytes,
            clock: ClockSync::Unknown,
        }
    }
}

impl<'a> From<&'a Message> for MessageV2Ref<'a> {
    /// What a version-2 reader can hold of `m`: a record and a status lose their clock state.
    fn from(m: &'a Message) -> Self {
        match m {
            Message::Record(r) => MessageV2Ref::Record(RecordV2Ref {
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
            }),
            Message::Status(s) => MessageV2Ref::Status(StatusV2Ref {
                device: &s.device,
                sent_at: &s.sent_at,
                uptime_s: &s.uptime_s,
                outbox_depth: &s.outbox_depth,
                gallery_version: &s.gallery_version,
                software_version: &s.software_version,
                last_error: &s.last_error,
                model: &s.model,
                free_disk_bytes: &s.free_disk_bytes,
            }),
            Message::Offline(o) => MessageV2Ref::Offline(o),
            Message::GalleryRequest(g) => MessageV2Ref::GalleryRequest(g),
            Message::Ack(a) => MessageV2Ref::Ack(a),
            Message::Gallery(g) => MessageV2Ref::Gallery(g),
            Message::Command(c) => MessageV2Ref::Command(c),
            Message::Site(s) => MessageV2Ref::Site(s),
        }
    }
}
