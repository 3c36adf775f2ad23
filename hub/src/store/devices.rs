//! Registered door units: their room, whether they may send records, the hash of their MQTT
//! secret, and the last status they reported.

use rollcall_shared::{DeviceId, DeviceStatus, OLDEST_VERSION, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{StoreError, id_col};

const INSERT: &str = "INSERT INTO devices (id, name, room, enabled, credential_hash, created_at)
    VALUES (?1, ?2, ?3, 1, ?4, ?5)";
const SELECT: &str = "SELECT id, name, room, enabled, created_at, online, last_seen_at,
    outbox_depth, gallery_version, software_version, last_error, protocol_version, model,
    free_disk_bytes, clock_offset_ms, clock_synchronised, retired_at, replaced_by FROM devices";
const SET_ENABLED: &str = "UPDATE devices SET enabled = ?2 WHERE id = ?1";
const SET_STATUS: &str = "UPDATE devices SET online = 1, last_seen_at = ?2, outbox_depth = ?3,
    gallery_version = ?4, software_version = ?5, last_error = ?6, protocol_version = ?7,
    model = ?8, free_disk_bytes = ?9, clock_offset_ms = ?10, clock_synchronised = ?11
    WHERE id = ?1";
const SELECT_PROTOCOL: &str = "SELECT protocol_version FROM devices WHERE id = ?1";
const SET_OFFLINE: &str = "UPDATE devices SET online = 0 WHERE id = ?1";
const TOUCH: &str = "UPDATE devices SET online = 1, last_seen_at = ?2 WHERE id = ?1";

/// A registered device as the API shows it (no credential hash).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Device {
    pub id: DeviceId,
    pub name: String,
    pub room: String,
    pub enabled: bool,
    pub created_at: UnixMillis,
    pub online: bool,
    pub last_seen_at: Option<UnixMillis>,
    pub outbox_depth: Option<u32>,
    pub gallery_version: Option<u64>,
    pub software_version: Option<String>,
    pub last_error: Option<String>,
    /// The wire protocol version of its last heartbeat: the hub writes to it in that version.
    pub protocol_version: Option<u16>,
    /// The face model it embeds with (from protocol version 2).
    pub model: Option<String>,
    /// Bytes its outbox can still grow into on its disk (from protocol version 2).
    pub free_disk_bytes: Option<u64>,
    /// Its clock minus the hub's when its last heartbeat arrived (network delay included).
    pub clock_offset_ms: Option<i64>,
    /// Whether its clock was synchronised to network time at its last heartbeat (from
    /// protocol version 3; `None`: it cannot tell).
    pub clock_synchronised: Option<bool>,
    /// When it was retired: disabled for good, its credentials revoked, its records kept.
    pub retired_at: Option<UnixMillis>,
    /// The unit that took over its room.
    pub replaced_by: Option<DeviceId>,
}

impl Device {
    /// A device just registered: enabled, never heard from.
    pub fn new(id: DeviceId, name: &str, room: &str, created_at: UnixMillis) -> Self {
        Self {
            id,
            name: name.to_owned(),
            room: room.to_owned(),
            enabled: true,
            created_at,
            online: false,
            last_seen_at: None,
            outbox_depth: None,
            gallery_version: None,
            software_version: None,
            last_error: None,
            protocol_version: None,
            model: None,
            free_disk_bytes: None,
            clock_offset_ms: None,
            clock_synchronised: None,
            retired_at: None,
            replaced_by: None,
        }
    }
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: id_col(r, "id")?,
        name: r.get("name")?,
        room: r.get("room")?,
        enabled: r.get("enabled")?,
        created_at: r.get("created_at")?,
        online: r.get("online")?,
        last_seen_at: r.get("last_seen_at")?,
        outbox_depth: r.get("outbox_depth")?,
        gallery_version: r.get("gallery_version")?,
        software_version: r.get("software_version")?,
        last_error: r.get("last_error")?,
        protocol_version: r.get("protocol_version")?,
        model: r.get("model")?,
        free_disk_bytes: r.get("free_disk_bytes")?,
        clock_offset_ms: r.get("clock_offset_ms")?,
        clock_synchronised: r.get("clock_synchronised")?,
        retired_at: r.get("retired_at")?,
        replaced_by: r
            .get::<_, Option<String>>("replaced_by")?
            .and_then(|id| id.parse().ok()),
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

/// Renames `id` and moves it to `room` (both already checked).
pub fn set_name_and_room(
    conn: &Connection,
    id: DeviceId,
    name: &str,
    room: &str,
) -> Result<(), StoreError> {
    let sql = "UPDATE devices SET name = ?2, room = ?3 WHERE id = ?1";
    match conn
        .execute(sql, params![id.to_string(), name, room])
        .map_err(|e| StoreError::conflict_on_unique(e, "device name"))?
    {
        0 => Err(StoreError::NotFound("device")),
        _ => Ok(()),
    }
}

/// Retires `id` for good at `at`: disabled, its secret replaced by one no password matches,
/// its unused provisioning codes dropped.
pub fn retire(
    conn: &Connection,
    id: DeviceId,
    at: UnixMillis,
    replaced_by: Option<DeviceId>,
) -> Result<(), StoreError> {
    let sql = "UPDATE devices SET enabled = 0, online = 0, credential_hash = 'retired',
        retired_at = ?2, replaced_by = ?3 WHERE id = ?1 AND retired_at IS NULL";
    let replaced_by = replaced_by.map(|d| d.to_string());
    match conn.execute(sql, params![id.to_string(), at, replaced_by])? {
        0 => Err(StoreError::NotFound("device")),
        _ => {
            let drop = "DELETE FROM provisioning_codes WHERE device_id = ?1 AND used_at IS NULL";
            conn.execute(drop, [id.to_string()])?;
            Ok(())
        }
    }
}

/// Replaces the argon2 hash of `id`'s MQTT secret: the old secret stops working at the unit's
/// next CONNECT.
pub fn set_credential(conn: &Connection, id: DeviceId, hash: &str) -> Result<(), StoreError> {
    let sql = "UPDATE devices SET credential_hash = ?2 WHERE id = ?1";
    match conn.execute(sql, params![id.to_string(), hash])? {
        0 => Err(StoreError::NotFound("device")),
        _ => Ok(()),
    }
}

pub fn set_enabled(conn: &Connection, id: DeviceId, enabled: bool) -> Result<(), StoreError> {
    match conn.execute(SET_ENABLED, params![id.to_string(), enabled])? {
        0 => Err(StoreError::NotFound("device")),
        _ => Ok(()),
    }
}

/// Stores the heartbeat `s`, written in protocol `version`, that arrived at `at`.
pub fn record_status(
    conn: &Connection,
    s: &DeviceStatus,
    version: u16,
    at: UnixMillis,
) -> Result<(), StoreError> {
    conn.execute(
        SET_STATUS,
        params![
            s.device.to_string(),
            at,
            s.outbox_depth,
            s.gallery_version.0,
            s.software_version,
            s.last_error,
            version,
            s.model.as_ref().map(|m| m.as_str()),
            s.free_disk_bytes
                .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
            s.sent_at.millis_since(at),
            s.clock.as_option(),
        ],
    )?;
    Ok(())
}

/// The protocol version to write to `id` in: that of its last heartbeat, else the oldest
/// this hub speaks (which every door unit it may meet reads).
pub fn protocol_version(conn: &Connection, id: DeviceId) -> Result<u16, StoreError> {
    let mut stmt = conn.prepare_cached(SELECT_PROTOCOL)?;
    let v: Option<Option<u16>> = stmt
        .query_row([id.to_string()], |r| r.get("protocol_version"))
        .optional()?;
    Ok(v.flatten().unwrap_or(OLDEST_VERSION))
}

pub fn set_offline(conn: &Connection, id: DeviceId) -> Result<(), StoreError> {
    conn.execute(SET_OFFLINE, [id.to_string()])?;
    Ok(())
}

/// Notes that the device was heard from (a record or request arrived).
pub fn touch(conn: &Connection, id: DeviceId, at: UnixMillis) -> Result<(), StoreError> {
    conn.execute(TOUCH, params![id.to_string(), at])?;
    Ok(())
}

/// Whether `id` is enabled, and the argon2 hash of its MQTT secret; `None` when unknown.
pub fn credential(conn: &Connection, id: DeviceId) -> Result<Option<(bool, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT enabled, credential_hash FROM devices WHERE id = ?1")?;
    let row = stmt.query_row([id.to_string()], |r| {
        Ok((r.get("enabled")?, r.get("credential_hash")?))
    });
    Ok(row.optional()?)
}
