//! Protocol version 1, frozen: the messages as door units of that version write and read
//! them. Only the heartbeat differs from version 2 (it had no model and no free disk); every
//! other message is the same type in both, so only the status is translated.

use serde::{Deserialize, Serialize};

use crate::gallery::GalleryUpdate;
use crate::ids::{DeviceId, GalleryVersion};
use crate::message::{DeviceCommand, GalleryRequest, Message, RecordAck};
use crate::record::AttendanceRecord;
use crate::status::{DeviceOffline, DeviceStatus};
use crate::time::UnixMillis;
use crate::zone::SiteSettings;

/// [`Message`] as version 1 encodes it: same variants, same order.
#[derive(Deserialize)]
pub(super) enum MessageV1 {
    Record(AttendanceRecord),
    Status(StatusV1),
    Offline(DeviceOffline),
    GalleryRequest(GalleryRequest),
    Ack(RecordAck),
    Gallery(GalleryUpdate),
    Command(DeviceCommand),
    Site(SiteSettings),
}

/// Borrowing twin of [`MessageV1`] for encoding.
#[derive(Serialize)]
pub(super) enum MessageV1Ref<'a> {
    Record(&'a AttendanceRecord),
    Status(StatusV1Ref<'a>),
    Offline(&'a DeviceOffline),
    GalleryRequest(&'a GalleryRequest),
    Ack(&'a RecordAck),
    Gallery(&'a GalleryUpdate),
    Command(&'a DeviceCommand),
    Site(&'a SiteSettings),
}

/// The version-1 heartbeat.
#[derive(Deserialize)]
pub(super) struct StatusV1 {
    device: DeviceId,
    sent_at: UnixMillis,
    uptime_s: u64,
    outbox_depth: u32,
    gallery_version: GalleryVersion,
    software_version: String,
    last_error: Option<String>,
}

#[derive(Serialize)]
pub(super) struct StatusV1Ref<'a> {
    device: &'a DeviceId,
    sent_at: &'a UnixMillis,
    uptime_s: &'a u64,
    outbox_depth: &'a u32,
    gallery_version: &'a GalleryVersion,
    software_version: &'a str,
    last_error: &'a Option<String>,
}

impl From<MessageV1> for Message {
    fn from(m: MessageV1) -> Self {
        match m {
            MessageV1::Record(r) => Message::Record(r),
            MessageV1::Status(s) => Message::Status(DeviceStatus {
                device: s.device,
                sent_at: s.sent_at,
                uptime_s: s.uptime_s,
                outbox_depth: s.outbox_depth,
                gallery_version: s.gallery_version,
                software_version: s.software_version,
                last_error: s.last_error,
                model: None,
                free_disk_bytes: None,
            }),
            MessageV1::Offline(o) => Message::Offline(o),
            MessageV1::GalleryRequest(g) => Message::GalleryRequest(g),
            MessageV1::Ack(a) => Message::Ack(a),
            MessageV1::Gallery(g) => Message::Gallery(g),
            MessageV1::Command(c) => Message::Command(c),
            MessageV1::Site(s) => Message::Site(s),
        }
    }
}

impl<'a> From<&'a Message> for MessageV1Ref<'a> {
    /// What a version-1 reader can hold of `m`: a status loses its model and free disk.
    fn from(m: &'a Message) -> Self {
        match m {
            Message::Record(r) => MessageV1Ref::Record(r),
            Message::Status(s) => MessageV1Ref::Status(StatusV1Ref {
                device: &s.device,
                sent_at: &s.sent_at,
                uptime_s: &s.uptime_s,
                outbox_depth: &s.outbox_depth,
                gallery_version: &s.gallery_version,
                software_version: &s.software_version,
                last_error: &s.last_error,
            }),
            Message::Offline(o) => MessageV1Ref::Offline(o),
            Message::GalleryRequest(g) => MessageV1Ref::GalleryRequest(g),
            Message::Ack(a) => MessageV1Ref::Ack(a),
            Message::Gallery(g) => MessageV1Ref::Gallery(g),
            Message::Command(c) => MessageV1Ref::Command(c),
            Message::Site(s) => MessageV1Ref::Site(s),
        }
    }
}
