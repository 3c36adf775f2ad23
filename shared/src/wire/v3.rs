//! Protocol version 3, frozen: the messages as door units of that version write and read
//! them. Version 4 added the count of discarded unknown faces at the end of a heartbeat and
//! the unknown-faces setting at the end of the site settings; every other message is the same
//! type in both, so only those two are translated. A version-3 heartbeat reads as having
//! discarded nothing; a version-3 unit is told only the time zone (and keeps unknown faces, as
//! it always did: the hub drops them on arrival when the school discards them).

use serde::{Deserialize, Serialize};

use crate::gallery::GalleryUpdate;
use crate::ids::{DeviceId, GalleryVersion, ModelId};
use crate::message::{DeviceCommand, GalleryRequest, Message, RecordAck};
use crate::record::AttendanceRecord;
use crate::site::{SiteSettings, UnknownFaces};
use crate::status::{ClockSync, DeviceOffline, DeviceStatus};
use crate::time::UnixMillis;

/// [`Message`] as version 3 encodes it: same variants, same order.
#[derive(Deserialize)]
pub(super) enum MessageV3 {
    Record(AttendanceRecord),
    Status(StatusV3),
    Offline(DeviceOffline),
    GalleryRequest(GalleryRequest),
    Ack(RecordAck),
    Gallery(GalleryUpdate),
    Command(DeviceCommand),
    Site(SiteV3),
}

/// Borrowing twin of [`MessageV3`] for encoding.
#[derive(Serialize)]
pub(super) enum MessageV3Ref<'a> {
    Record(&'a AttendanceRecord),
    Status(StatusV3Ref<'a>),
    Offline(&'a DeviceOffline),
    GalleryRequest(&'a GalleryRequest),
    Ack(&'a RecordAck),
    Gallery(&'a GalleryUpdate),
    Command(&'a DeviceCommand),
    Site(SiteV3Ref<'a>),
}

/// The version-3 heartbeat.
#[derive(Deserialize)]
pub(super) struct StatusV3 {
    device: DeviceId,
    sent_at: UnixMillis,
    uptime_s: u64,
    outbox_depth: u32,
    gallery_version: GalleryVersion,
    software_version: String,
    last_error: Option<String>,
    model: Option<ModelId>,
    free_disk_bytes: Option<u64>,
    clock: ClockSync,
}

#[derive(Serialize)]
pub(super) struct StatusV3Ref<'a> {
    device: &'a DeviceId,
    sent_at: &'a UnixMillis,
    uptime_s: &'a u64,
    outbox_depth: &'a u32,
    gallery_version: &'a GalleryVersion,
    software_version: &'a str,
    last_error: &'a Option<String>,
    model: &'a Option<ModelId>,
    free_disk_bytes: &'a Option<u64>,
    clock: &'a ClockSync,
}

/// The version-3 site settings: the time zone alone.
#[derive(Deserialize)]
pub(super) struct SiteV3 {
    timezone: String,
}

#[derive(Serialize)]
pub(super) struct SiteV3Ref<'a> {
    timezone: &'a str,
}

impl From<MessageV3> for Message {
    fn from(m: MessageV3) -> Self {
        match m {
            MessageV3::Record(r) => Message::Record(r),
            MessageV3::Status(s) => Message::Status(s.into()),
            MessageV3::Offline(o) => Message::Offline(o),
            MessageV3::GalleryRequest(g) => Message::GalleryRequest(g),
            MessageV3::Ack(a) => Message::Ack(a),
            MessageV3::Gallery(g) => Message::Gallery(g),
            MessageV3::Command(c) => Message::Command(c),
            MessageV3::Site(s) => Message::Site(SiteSettings {
                timezone: s.timezone,
                unknown_faces: UnknownFaces::Keep,
            }),
        }
    }
}

impl From<StatusV3> for DeviceStatus {
    fn from(s: StatusV3) -> Self {
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
            clock: s.clock,
            unknown_discarded: 0,
        }
    }
}

impl<'a> From<&'a Message> for MessageV3Ref<'a> {
    /// What a version-3 reader can hold of `m`: a heartbeat loses its discard count, the site
    /// settings their unknown-faces setting.
    fn from(m: &'a Message) -> Self {
        match m {
            Message::Record(r) => MessageV3Ref::Record(r),
            Message::Status(s) => MessageV3Ref::Status(StatusV3Ref {
                device: &s.device,
                sent_at: &s.sent_at,
                uptime_s: &s.uptime_s,
                outbox_depth: &s.outbox_depth,
                gallery_version: &s.gallery_version,
                software_version: &s.software_version,
                last_error: &s.last_error,
                model: &s.model,
                free_disk_bytes: &s.free_disk_bytes,
                clock: &s.clock,
            }),
            Message::Offline(o) => MessageV3Ref::Offline(o),
            Message::GalleryRequest(g) => MessageV3Ref::GalleryRequest(g),
            Message::Ack(a) => MessageV3Ref::Ack(a),
            Message::Gallery(g) => MessageV3Ref::Gallery(g),
            Message::Command(c) => MessageV3Ref::Command(c),
            Message::Site(s) => MessageV3Ref::Site(SiteV3Ref {
                timezone: &s.timezone,
            }),
        }
    }
}
