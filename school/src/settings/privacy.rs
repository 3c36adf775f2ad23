//! `[privacy]`: what the school keeps of people's faces beyond its register. Only the settings;
//! door units are told by the hub's ingest (beside each gallery), and `docs/PRIVACY.md` says why
//! the defaults are what they are.

use std::path::PathBuf;

use rollcall_shared::UnknownFaces;
use serde::Deserialize;

/// What the school keeps of faces.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// A face that matches nobody: `"discard"` (the default) drops it on the door unit with
    /// only a count; `"keep"` sends it to review with its crop, grouped with the same
    /// stranger's other visits.
    pub unknown_faces: UnknownFaces,
    /// The file of keys that seal faces at rest (`rollcall_runtime::seal`); none:
    /// `faces.key` in the data directory. Never inside the database, nor in its backups.
    pub face_key_file: Option<PathBuf>,
}
