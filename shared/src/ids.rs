//! Identifiers. Every id is a newtype so a student id can never be passed where a device id is
//! expected. UUID-based ids serialise as 16 raw bytes in postcard.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not a valid id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("not a UUID: {0:?}")]
    NotUuid(String),
    #[error("{kind} must be 1 to {max} characters of a-z, 0-9, '-', '_' or '.', got {value:?}")]
    BadName {
        kind: &'static str,
        max: usize,
        value: String,
    },
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) id.
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Uuid::parse_str(s).map(Self).map_err(|_| IdError::NotUuid(s.to_owned()))
            }
        }
    };
}

uuid_id!(
    /// A door unit. Also its MQTT client id and the device segment of its topics.
    DeviceId
);
uuid_id!(
    /// An enrolled student.
    StudentId
);
uuid_id!(
    /// A member of staff. Only gates (units facing in or out) hold staff's faces.
    StaffId
);
uuid_id!(
    /// A class (a group of students that meets by the timetable).
    ClassId
);
uuid_id!(
    /// One attendance record, minted on the device when the record is created. Time-ordered
    /// (UUID v7) so records sort by creation and the hub's index stays append-mostly.
    RecordId
);

impl RecordId {
    /// A new time-ordered id (UUID v7) for a record created now.
    pub fn now_v7() -> Self {
        Self(Uuid::now_v7())
    }
}

/// Monotonic version of a device's gallery. Version 0 is "no gallery yet".
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct GalleryVersion(pub u64);

impl GalleryVersion {
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for GalleryVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Checks the short names used for models and sites: they appear in MQTT topics and file names.
fn check_name(kind: &'static str, max: usize, value: &str) -> Result<(), IdError> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    if value.is_empty() || value.len() > max || !value.chars().all(ok_char) {
        return Err(IdError::BadName {
            kind,
            max,
            value: value.to_owned(),
        });
    }
    Ok(())
}

macro_rules! name_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name(String);

        impl $name {
            /// Longest accepted name, in bytes.
            pub const MAX_LEN: usize = $max;

            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_name($kind, $max, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether a decoded value obeys the naming rules (decoding does not check).
            pub fn is_valid(&self) -> bool {
                check_name($kind, $max, &self.0).is_ok()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
    };
}

name_id!(
    /// Which face pipeline produced an embedding (detector, alignment and embedder together).
    /// Embeddings of different models are never compared.
    ModelId, "model id", 64
);
name_id!(
    /// A school site: the first variable segment of every MQTT topic.
    SiteId, "site id", 48
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reject_topic_wildcards_and_separators() {
        for bad in ["", "a/b", "a+b", "#", "Upper", "x".repeat(49).as_str()] {
            assert!(SiteId::new(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            SiteId::new("north-campus.1").unwrap().as_str(),
            "north-campus.1"
        );
    }

    #[test]
    fn record_ids_are_time_ordered() {
        let a = RecordId::now_v7();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = RecordId::now_v7();
        assert!(a < b);
        assert_eq!(a.0.get_version_num(), 7);
    }

    #[test]
    fn uuid_ids_parse_and_display() {
        let id: StudentId = "0191e2a4-8c1e-7d3a-9b1f-2c3d4e5f6a7b".parse().unwrap();
        assert_eq!(id.to_string(), "0191e2a4-8c1e-7d3a-9b1f-2c3d4e5f6a7b");
        assert!("nope".parse::<DeviceId>().is_err());
    }
}
