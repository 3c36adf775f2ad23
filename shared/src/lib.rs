//! `rollcall-shared`: what the edge daemon and the hub must agree on.
//!
//! Ids as newtypes, the domain types that cross the wire, the versioned postcard [`Envelope`],
//! and the MQTT topic layout. Nothing here does I/O: no tokio, no database, no HTTP (the
//! optional `rusqlite` feature only adds column conversions for [`UnixMillis`]). Both sides
//! depend on this crate, so it stays small and its encoding is pinned by golden-bytes tests.
//!
//! Compatibility rules for the wire types (postcard is not self-describing):
//! - enums only ever grow at the end; a variant is never removed or reordered;
//! - structs never change: a new field means a new message variant or a protocol version bump;
//! - serde's self-describing attributes (`skip_serializing_if`, `flatten`, `untagged`) are never used.

pub mod direction;
pub mod embedding;
pub mod gallery;
pub mod ids;
pub mod invalid;
pub mod liveness;
pub mod message;
pub mod provisioning;
pub mod record;
pub mod site;
pub mod status;
pub mod time;
pub mod topics;
pub mod unit_settings;
pub mod wire;
pub mod zone;

pub use direction::Direction;
pub use embedding::{EMBEDDING_DIM, Embedding, WrongLength};
pub use gallery::{
    GalleryDigest, GalleryEntry, GalleryError, GalleryState, GalleryUpdate, StaffEntry,
    TimetableSlot,
};
pub use ids::{
    ClassId, DeviceId, GalleryVersion, IdError, ModelId, RecordId, SiteId, StaffId, StudentId,
};
pub use liveness::LivenessCheck;
pub use message::{DeviceCommand, GalleryRequest, MAX_IN_FLIGHT, Message, RecordAck};
pub use provisioning::{BrokerAccess, ProvisionRequest, Provisioned, ProvisioningCode};
pub use record::{AttendanceRecord, Candidate, Decision, FaceQuality, StaffMatch, Thumbnail};
pub use site::{SiteSettings, UnknownFaces};
pub use status::{ClockSync, DeviceOffline, DeviceStatus};
pub use time::UnixMillis;
pub use unit_settings::{Refusal, SettingsReport, UnitSettings};
pub use wire::{
    DecodeError, EncodeError, Envelope, Limits, OLDEST_VERSION, PROTOCOL_VERSION, decode,
    decode_envelope, encode, encode_as,
};
pub use zone::{LocalTime, SiteZone, ZoneError};
