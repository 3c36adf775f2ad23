//! One-time provisioning codes for door units (migration 15), kept by their SHA-256 only. The
//! rules (expiry, single use) live in `crate::provisioning`; this module only reads and
//! writes rows.

use rollcall_shared::{DeviceId, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, id_col};

const INSERT: &str = "INSERT INTO provisioning_codes
    (digest, device_id, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
/// A new code replaces the device's unused ones: only the newest code an admin was shown works.
const DROP_UNUSED: &str = "DELETE FROM provisioning_codes WHERE device_id = ?1 AND used_at IS NULL";
const SELECT: &str = "SELECT device_id, expires_at, used_at FROM provisioning_codes
    WHERE digest = ?1";
const SPEND: &str = "UPDATE provisioning_codes SET used_at = ?2, used_from = ?3
    WHERE digest = ?1 AND used_at IS NULL";

/// A stored code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCode {
    pub device: DeviceId,
    pub expires_at: UnixMillis,
    pub used_at: Option<UnixMillis>,
}

/// Stores a new code for `device`, dropping the device's unused ones.
pub fn replace(
    conn: &Connection,
    digest: &str,
    device: DeviceId,
    actor: &str,
    now: UnixMillis,
    expires_at: UnixMillis,
) -> Result<(), StoreError> {
    let device = device.to_string();
    conn.execute(DROP_UNUSED, [&device])?;
    conn.execute(INSERT, params![digest, device, actor, now, expires_at])?;
    Ok(())
}

pub fn get(conn: &Connection, digest: &str) -> Result<Option<StoredCode>, StoreError> {
    let mut stmt = conn.prepare_cached(SELECT)?;
    let row = stmt.query_row([digest], |r| {
        Ok(StoredCode {
            device: id_col(r, "device_id")?,
            expires_at: r.get("expires_at")?,
            used_at: r.get("used_at")?,
        })
    });
    Ok(row.optional()?)
}

/// Marks the code used; false when it already was (by a request that won the race).
pub fn spend(
    conn: &Connection,
    digest: &str,
    now: UnixMillis,
    from: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(conn.execute(SPEND, params![digest, now, from])? == 1)
}
