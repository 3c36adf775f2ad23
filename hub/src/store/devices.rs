//! Registered door units: their room, whether they may send records, the hash of their MQTT
//! secret, and the last status they reported.

use rollcall_shared::{DeviceId, DeviceStatus};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{StoreError, id_col};

const INSERT: &str = "INSERT INTO devices (id, name, room, enabled, credential_hash, created_at)
    VALUES (?1, ?2, ?3, 1, ?4, ?5)";
const SELECT: &str = "SELECT id, name, room, enabled, created_at, online, last_seen_at,
    outbox_depth, gallery_version, software_version, last_error FROM devices";
const SET_ENABLED: &str = "UPDATE devices SET enabled = ?2 WHERE id = ?1";
const SET_STATUS: &str = "UPDATE devices SET online = 1, last_seen_at = ?2, outbox_depth = ?3,
    gallery_version = ?4, software_version = ?5, last_error = ?6 WHERE id = ?1";
const SET_OFFLINE: &str = "UPDATE devices SET online = 0 WHERE id = ?1";
const TOUCH: &str = "UPDATE devices SET online = 1, last_seen_at = ?2 WHERE id = ?1";

/// A registered device as the API shows it (no credential hash).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Device {
    pub id: DeviceId,
    pub name: String,
    pub room: String,
    pub enabled: bool,
    pub created_at: i64,
    pub online: bool,
    pub last_seen_at: Option<i64>,
    pub outbox_depth: Option<u32>,
    pub gallery_version: Option<u64>,
    pub software_version: Option<String>,
    pub last_error: Option<String>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: id_col(r, 0)?,
        name: r.get(1)?,
        room: r.get(2)?,
        enabled: r.get(3)?,
        created_at: r.get(4)?,
        online: r.get(5)?,
        last_seen_at: r.get(6)?,
        outbox_depth: r.get(7)?,
        gallery_version: r.get(8)?,
        software_version: r.get(9)?,
        last_error: r.get(10)?,
    })
}

pub fn insert(conn: &Connection, device: &Device, credential_hash: &str) -> Result<(), StoreError> {
    conn.execute(
        INSERT,
        params![
            device.id.to_string(),
            device.name,
            device.room,
            credential_hash,
            device.created_at
        ],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "device name"))?;
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<Device>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, id: DeviceId) -> Result<Option<Device>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?;
    Ok(stmt.query_row([id.to_string()], from_row).optional()?)
}

pub fn set_enabled(conn: &Connection, id: DeviceId, enabled: bool) -> Result<(), StoreError> {
    match conn.execute(SET_ENABLED, params![id.to_string(), enabled])? {
        0 => Err(StoreError::NotFound("device")),
        _ => Ok(()),
    }
}

pub fn record_status(conn: &Connection, s: &DeviceStatus, at: i64) -> Result<(), StoreError> {
    conn.execute(
        SET_STATUS,
        params![
            s.device.to_string(),
            at,
            s.outbox_depth,
            s.gallery_version.0,
            s.software_version,
            s.last_error
        ],
    )?;
    Ok(())
}

pub fn set_offline(conn: &Connection, id: DeviceId) -> Result<(), StoreError> {
    conn.execute(SET_OFFLINE, [id.to_string()])?;
    Ok(())
}

/// Notes that the device was heard from (a record or request arrived).
pub fn touch(conn: &Connection, id: DeviceId, at: i64) -> Result<(), StoreError> {
    conn.execute(TOUCH, params![id.to_string(), at])?;
    Ok(())
}

/// Whether `id` is enabled, and the argon2 hash of its MQTT secret; `None` when unknown.
pub fn credential(conn: &Connection, id: DeviceId) -> Result<Option<(bool, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT enabled, credential_hash FROM devices WHERE id = ?1")?;
    let row = stmt.query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)));
    Ok(row.optional()?)
}
