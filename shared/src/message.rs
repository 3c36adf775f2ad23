//! The closed set of messages that cross MQTT, and the small hub → device ones.

use serde::{Deserialize, Serialize};

use crate::gallery::GalleryUpdate;
use crate::ids::{DeviceId, GalleryVersion, RecordId};
use crate::invalid::Invalid;
use crate::record::AttendanceRecord;
use crate::site::SiteSettings;
use crate::status::{DeviceOffline, DeviceStatus};
use crate::unit_settings::{SettingsReport, UnitSettings};

/// Most record ids one acknowledgement names.
pub const MAX_ACK_IDS: usize = 1024;

/// Most records a door unit has published and not yet had acknowledged: past this it sends
/// no new record until acks come (a retry of one already sent may still go). This is the
/// protocol's flow control. A hub that falls behind slows its units' intake instead of
/// queueing without bound; the records waiting stay in the units' outboxes, and the hub
/// holds at most this many per unit, whatever the backlog and however long it lasts.
pub const MAX_IN_FLIGHT: usize = 32;

/// Every message on the wire. Variants only ever grow at the end: their index is the tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Message {
    /// Device → hub, topic `records`.
    Record(AttendanceRecord),
    /// Device → hub, topic `status`.
    Status(DeviceStatus),
    /// Broker → hub on the device's behalf (last will), topic `status`.
    Offline(DeviceOffline),
    /// Device → hub, topic `requests`: send me the gallery (a full snapshot when `have` is
    /// version 0 or the device found a gap or a corrupt update).
    GalleryRequest(GalleryRequest),
    /// Hub → device, topic `acks`.
    Ack(RecordAck),
    /// Hub → device, topic `gallery`.
    Gallery(GalleryUpdate),
    /// Hub → device, topic `commands`.
    Command(DeviceCommand),
    /// Hub → device, topic `gallery`, before every gallery it sends: the school's time zone
    /// and what becomes of faces that match nobody. A door unit from before this message logs
    /// it as undecodable and goes on.
    Site(SiteSettings),
    /// Hub → device, topic `commands`: the settings an admin chose for this unit, on top of
    /// its `edge.toml` (protocol 5; not in version 4, whose units run on `edge.toml` alone).
    UnitSettings(UnitSettings),
    /// Device → hub, topic `status`: the settings version in force and the last refused, on
    /// every connect and after every [`Message::UnitSettings`].
    SettingsReport(SettingsReport),
}

impl Message {
    /// Checks the limits and invariants decoding alone cannot (lengths, finiteness, order).
    pub fn validate(&self) -> Result<(), Invalid> {
        match self {
            Message::Record(r) => r.validate(),
            Message::Status(s) => s.validate(),
            Message::Offline(_) | Message::Command(_) | Message::GalleryRequest(_) => Ok(()),
            Message::Ack(a) => a.validate(),
            Message::Gallery(g) => g.validate(),
            Message::Site(s) => s.validate(),
            Message::UnitSettings(u) => u.validate(),
            Message::SettingsReport(r) => r.validate(),
        }
    }

    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Record(_) => "record",
            Message::Status(_) => "status",
            Message::Offline(_) => "offline",
            Message::GalleryRequest(_) => "gallery-request",
            Message::Ack(_) => "ack",
            Message::Gallery(_) => "gallery",
            Message::Command(_) => "command",
            Message::Site(_) => "site",
            Message::UnitSettings(_) => "unit-settings",
            Message::SettingsReport(_) => "settings-report",
        }
    }
}

/// The hub has durably stored these records; the device may forget them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RecordAck {
    pub records: Vec<RecordId>,
}

impl RecordAck {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.records.len() > MAX_ACK_IDS {
            return Err(Invalid::new(format!(
                "ack names {} records, at most {MAX_ACK_IDS}",
                self.records.len()
            )));
        }
        Ok(())
    }
}

/// A device asking for gallery data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct GalleryRequest {
    pub device: DeviceId,
    /// The version the device holds and trusts (0 = nothing, send a full snapshot).
    pub have: GalleryVersion,
    /// Set when the device refused an update (gap, digest mismatch, wrong model): the hub
    /// must answer with a full snapshot.
    pub full: bool,
}

/// Something the hub asks a device to do. Grows at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DeviceCommand {
    /// Ask the hub for a full gallery snapshot, dropping the local copy once it arrives.
    ResyncGallery,
    /// Publish a heartbeat now.
    SendStatus,
    /// Run one capture burst now, as if the sensor had fired.
    Trigger,
}
