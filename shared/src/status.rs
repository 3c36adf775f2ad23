//! Device health: the periodic heartbeat and the last-will message the broker publishes when a
//! device drops off without saying goodbye.

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, GalleryVersion, ModelId};
use crate::invalid::Invalid;
use crate::time::UnixMillis;

/// Longest software version string.
pub const MAX_VERSION_LEN: usize = 32;
/// Longest last-error text; longer errors are cut by [`DeviceStatus::set_last_error`].
pub const MAX_ERROR_LEN: usize = 512;

/// Heartbeat, published every few tens of seconds and on connect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct DeviceStatus {
    pub device: DeviceId,
    /// The device's clock when it sent this: the hub compares it with its own.
    pub sent_at: UnixMillis,
    pub uptime_s: u64,
    /// Records committed on the device and not yet acknowledged by the hub.
    pub outbox_depth: u32,
    pub gallery_version: GalleryVersion,
    pub software_version: String,
    pub last_error: Option<String>,
    /// The face model the device embeds with (protocol 2; `None` from a version-1 device).
    pub model: Option<ModelId>,
    /// Bytes its outbox can still grow into on its disk (protocol 2).
    pub free_disk_bytes: Option<u64>,
    /// Whether its clock is synchronised to network time (protocol 3).
    pub clock: ClockSync,
    /// Faces that matched nobody and were dropped on the unit since it started, as the school's
    /// [`crate::UnknownFaces::Discard`] asks (protocol 4): the only trace such a face leaves.
    pub unknown_discarded: u64,
}

/// Whether a door unit's clock was synchronised to network time (by systemd-timesyncd or
/// chrony) when it said so. Variants only ever grow at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ClockSync {
    /// The unit cannot tell, or it is older than protocol 3.
    #[default]
    Unknown,
    Synchronised,
    /// Times it reports may be wrong.
    Unsynchronised,
}

impl ClockSync {
    /// `Some(true)` synchronised, `Some(false)` not, `None` unknown (as JSON and SQL hold it).
    pub fn as_option(self) -> Option<bool> {
        match self {
            ClockSync::Unknown => None,
            ClockSync::Synchronised => Some(true),
            ClockSync::Unsynchronised => Some(false),
        }
    }

    pub fn from_option(synchronised: Option<bool>) -> Self {
        match synchronised {
            None => ClockSync::Unknown,
            Some(true) => ClockSync::Synchronised,
            Some(false) => ClockSync::Unsynchronised,
        }
    }
}

impl DeviceStatus {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.software_version.len() > MAX_VERSION_LEN {
            return Err(Invalid::new("software version is too long"));
        }
        match &self.last_error {
            Some(e) if e.len() > MAX_ERROR_LEN => Err(Invalid::new("last error is too long")),
            _ => Ok(()),
        }
    }

    /// Records an error, cut to [`MAX_ERROR_LEN`] bytes on a character boundary.
    pub fn set_last_error(&mut self, error: &str) {
        let mut end = error.len().min(MAX_ERROR_LEN);
        while !error.is_char_boundary(end) {
            end -= 1;
        }
        self.last_error = Some(error[..end].to_owned());
    }
}

/// The MQTT last will: the broker publishes it on the status topic if the device vanishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct DeviceOffline {
    pub device: DeviceId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_error_is_cut_on_a_char_boundary() {
        let mut s = DeviceStatus {
            device: DeviceId::random(),
            sent_at: UnixMillis(0),
            uptime_s: 0,
            outbox_depth: 0,
            gallery_version: GalleryVersion(0),
            software_version: "0.1.0".into(),
            last_error: None,
            model: None,
            free_disk_bytes: None,
            clock: ClockSync::Unknown,
            unknown_discarded: 0,
        };
        s.set_last_error(&"é".repeat(400));
        let e = s.last_error.as_ref().unwrap();
        assert!(e.len() <= MAX_ERROR_LEN && e.chars().all(|c| c == 'é'));
        assert!(s.validate().is_ok());
    }
}
