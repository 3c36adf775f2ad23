//! Registered door units: their room and direction, whether they may send records, the hash of their MQTT
//! secret, and the last status they reported.

use rollcall_shared::{DeviceId, DeviceStatus, Direction, OLDEST_VERSION, UnixMillis};
use serde::Serialize;

use super::columns::id_col;
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str = "INSERT INTO devices (id, name, room, direction, enabled, credential_hash,
    created_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)";
const SELECT: &str = "SELECT id, name, room, direction, enabled, created_at, online, last_seen_at,
    outbox_depth, gallery_version, software_version, last_error, protocol_version, model,
    free_disk_bytes, clock_offset_ms, clock_synchronised, retired_at, replaced_by,
    unknown_discarded FROM devices";
const SET_ENABLED: &str = "UPDATE devices SET enabled = ?2 WHERE id = ?1";
const SET_STATUS: &str = "UPDATE devices SET online = 1, last_seen_at = ?2, outbox_depth = ?3,
    gallery_version = ?4, software_version = ?5, last_error = ?6, protocol_version = ?7,
    model = ?8, free_disk_bytes = ?9, clock_offset_ms = ?10, clock_synchronised = ?11,
    unknown_discarded = unknown_discarded + CASE
        WHEN ?12 >= COALESCE(discarded_since_start, 0) THEN ?12 - COALESCE(discarded_since_start, 0)
        ELSE ?12 END,
    discarded_since_start = ?12
    WHERE id = ?1";
const ADD_DISCARDED: &str =
    "UPDATE devices SET unknown_discarded = unknown_discarded + ?2 WHERE id = ?1";
const SELECT_PROTOCOL: &str = "SELECT protocol_version FROM devices WHERE id = ?1";
const SET_PROTOCOL: &str = "UPDATE devices SET protocol_version = ?2 WHERE id = ?1";
const SET_OFFLINE: &str = "UPDATE devices SET online = 0 WHERE id = ?1";
const TOUCH: &str = "UPDATE devices SET online = 1, last_seen_at = ?2 WHERE id = ?1";

/// A registered device as the API shows it (no credential hash).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Device {
    pub id: DeviceId,
    pub name: String,
    pub room: String,
    /// Which way its camera faces: what its records mean (the one it claims is overruled).
    pub direction: Direction,
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
    /// Faces that matched nobody and were discarded (on the unit, or by the hub on arrival)
    /// as the school's `[privacy] unknown_faces` asks, over the unit's life.
    pub unknown_discarded: u64,
}

impl Device {
    /// A device just registered: enabled, never heard from.
    pub fn new(id: DeviceId, name: &str, room: &str, created_at: UnixMillis) -> Self {
        Self {
            id,
            name: name.to_owned(),
            room: room.to_owned(),
            direction: Direction::Both,
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
            unknown_discarded: 0,
        }
    }
}

fn from_row(r: &Row) -> ReadResult<Device> {
    Ok(Device {
        id: id_col(r, "id")?,
        name: r.get("name")?,
        room: r.get("room")?,
        direction: id_col(r, "direction")?,
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
            .get::<Option<String>>("replaced_by")?
            .and_then(|id| id.parse().ok()),
        unknown_discarded: r.get::<i64>("unknown_discarded")?.max(0) as u64,
    })
}

pub fn insert(sql: &dyn Sql, device: &Device, credential_hash: &str) -> Result<(), StoreError> {
    sql.execute(
        INSERT,
        params![
            device.id.to_string(),
            device.name,
            device.room,
            device.direction.as_str(),
            credential_hash,
            device.created_at
        ],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "device name"))?;
    Ok(())
}

pub fn list(sql: &dyn Sql) -> Result<Vec<Device>, StoreError> {
    let rows = sql.query_map(&format!("{SELECT} ORDER BY name"), &[], from_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

pub fn get(sql: &dyn Sql, id: DeviceId) -> Result<Option<Device>, StoreError> {
    let query = format!("{SELECT} WHERE id = ?1");
    sql.query_opt(&query, params![id.to_string()], from_row)
}

/// Renames `id`, moves it to `room` and turns it to `direction` (all already checked).
pub fn set_place(
    sql: &dyn Sql,
    id: DeviceId,
    name: &str,
    room: &str,
    direction: Direction,
) -> Result<(), StoreError> {
    let update = "UPDATE devices SET name = ?2, room = ?3, direction = ?4 WHERE id = ?1";
    match sql
        .execute(
            update,
            params![id.to_string(), name, room, direction.as_str()],
        )
        .map_err(|e| StoreError::conflict_on_unique(e, "device name"))?
    {
        0 => Err(StoreError::NotFound("device")),
        _ => Ok(()),
    }
}

/// Retires `id` for good at `at`: disabled, its secret replaced by one no password matches,
/// its unused provisioning codes dropped.
pub fn retire(
    sql: &dyn Sql,
    id: DeviceId,
    at: UnixMillis,
    replaced_by: Option<DeviceId>,
) -> Result<(), StoreError> {
    let retire = "UPDATE devices SET enabled = 0, online = 0, credential_hash = 'retired',
        retired_at = ?2, replaced_by = ?3 WHERE id = ?1 AND retired_at IS NULL";
    let replaced_by = replaced_by.map(|d| d.to_string());
    match sql.execute(retire, params![id.to_string(), at, replaced_by])? {
        0 => Err(StoreError::NotFound("device")),
        _ => {
            let drop = "DELETE FROM provisioning_codes WHERE device_id = ?1 AND used_at IS NULL";
            sql.execute(drop, params![id.to_string()])?;
            Ok(())
        }
    }
}

/// Replaces the argon2 hash of `id`'s MQTT secret: the old secret stops working at the unit's
/// next CONNECT.
pub fn set_credential(sql: &dyn Sql, id: DeviceId, hash: &str) -> Result<(), StoreError> {
    let update = "UPDATE devices SET credential_hash = ?2 WHERE id = ?1";
    match sql.execute(update, params![id.to_string(), hash])? {
        0 => Err(StoreError::NotFound("device")),
        _ => Ok(()),
    }
}

pub fn set_enabled(sql: &dyn Sql, id: DeviceId, enabled: bool) -> Result<(), StoreError> {
    match sql.execute(SET_ENABLED, params![id.to_string(), enabled])? {
        0 => Err(StoreError::NotFound("device")),
        _ => Ok(()),
    }
}

/// Stores the heartbeat `s`, written in protocol `version`, that arrived at `at`.
pub fn record_status(
    sql: &dyn Sql,
    s: &DeviceStatus,
    version: u16,
    at: UnixMillis,
) -> Result<(), StoreError> {
    sql.execute(
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
            i64::try_from(s.unknown_discarded).unwrap_or(i64::MAX),
        ],
    )?;
    Ok(())
}

/// Counts `n` faces that matched nobody which the hub dropped on arrival from `id`.
pub fn add_discarded(sql: &dyn Sql, id: DeviceId, n: u64) -> Result<(), StoreError> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    sql.execute(ADD_DISCARDED, params![id.to_string(), n])?;
    Ok(())
}

/// The protocol version to write to `id` in: that of its last heartbeat, else the oldest
/// Remembers that `id` spoke protocol `version` (its gallery request's), so a push before its
/// first heartbeat is written in what it reads and holds what it asked for.
pub fn heard_version(sql: &dyn Sql, id: DeviceId, version: u16) -> Result<(), StoreError> {
    sql.execute(SET_PROTOCOL, params![id.to_string(), version])?;
    Ok(())
}

/// this hub speaks (which every door unit it may meet reads).
pub fn protocol_version(sql: &dyn Sql, id: DeviceId) -> Result<u16, StoreError> {
    let v: Option<Option<u16>> = sql.query_opt(SELECT_PROTOCOL, params![id.to_string()], |r| {
        r.get("protocol_version")
    })?;
    Ok(v.flatten().unwrap_or(OLDEST_VERSION))
}

pub fn set_offline(sql: &dyn Sql, id: DeviceId) -> Result<(), StoreError> {
    sql.execute(SET_OFFLINE, params![id.to_string()])?;
    Ok(())
}

/// Notes that the device was heard from (a record or request arrived).
pub fn touch(sql: &dyn Sql, id: DeviceId, at: UnixMillis) -> Result<(), StoreError> {
    sql.execute(TOUCH, params![id.to_string(), at])?;
    Ok(())
}

/// Whether `id` is enabled, and the argon2 hash of its MQTT secret; `None` when unknown.
pub fn credential(sql: &dyn Sql, id: DeviceId) -> Result<Option<(bool, String)>, StoreError> {
    let select = "SELECT enabled, credential_hash FROM devices WHERE id = ?1";
    sql.query_opt(select, params![id.to_string()], |r| {
        Ok((r.get("enabled")?, r.get("credential_hash")?))
    })
}

#[cfg(test)]
mod tests {
    use rollcall_shared::{ClockSync, GalleryVersion, ModelId};

    use super::*;
    use crate::db::Db;
    use crate::engines::{each, read, write};
    use crate::provisioning;

    fn register(db: &Db, name: &str) -> Result<Device, StoreError> {
        let device = Device::new(DeviceId::random(), name, "Lab 3", UnixMillis(5));
        write(db, |sql| insert(sql, &device, "hash"))?;
        Ok(device)
    }

    #[test]
    fn devices_are_registered_renamed_disabled_and_retired() {
        each(|db| {
            let door = register(db, "door").unwrap();
            let gate = register(db, "gate").unwrap();
            let e = register(db, "door").unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            assert_eq!(read(db, list), [door.clone(), gate.clone()]);
            assert_eq!(read(db, |sql| get(sql, door.id)), Some(door.clone()));
            assert_eq!(read(db, |sql| get(sql, DeviceId::random())), None);

            let both = Direction::Both;
            let e = write(db, |sql| set_place(sql, gate.id, "door", "Hall", both)).unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            write(db, |sql| {
                set_place(sql, gate.id, "gate 2", "Hall", Direction::Out)
            })
            .unwrap();
            let missing = write(db, |sql| set_enabled(sql, DeviceId::random(), false));
            assert!(matches!(missing, Err(StoreError::NotFound("device"))));
            write(db, |sql| set_enabled(sql, gate.id, false)).unwrap();
            write(db, |sql| set_credential(sql, gate.id, "new")).unwrap();
            let credential_of = |id| read(db, |sql| credential(sql, id));
            assert_eq!(credential_of(gate.id), Some((false, "new".into())));
            assert_eq!(credential_of(DeviceId::random()), None);

            write(db, |sql| {
                provisioning::replace(sql, "d", door.id, "admin", UnixMillis(6), UnixMillis(9))
            })
            .unwrap();
            write(db, |sql| retire(sql, door.id, UnixMillis(7), Some(gate.id))).unwrap();
            let again = write(db, |sql| retire(sql, door.id, UnixMillis(8), None));
            assert!(matches!(again, Err(StoreError::NotFound("device"))));
            let retired = read(db, |sql| get(sql, door.id)).unwrap();
            assert_eq!(
                (retired.enabled, retired.retired_at, retired.replaced_by),
                (false, Some(UnixMillis(7)), Some(gate.id))
            );
            assert_eq!(credential_of(door.id), Some((false, "retired".into())));
            assert_eq!(read(db, |sql| provisioning::get(sql, "d")), None);
            let renamed = read(db, |sql| get(sql, gate.id)).unwrap();
            assert_eq!(
                (
                    renamed.name.as_str(),
                    renamed.room.as_str(),
                    renamed.direction
                ),
                ("gate 2", "Hall", Direction::Out)
            );
        });
    }

    #[test]
    fn a_heartbeat_is_stored_and_read_back() {
        each(|db| {
            let door = register(db, "door").unwrap();
            let version = |db: &Db| read(db, |sql| protocol_version(sql, door.id));
            assert_eq!(version(db), OLDEST_VERSION);
            let status = DeviceStatus {
                device: door.id,
                sent_at: UnixMillis(1_250),
                uptime_s: 60,
                outbox_depth: 3,
                gallery_version: GalleryVersion(4),
                software_version: "1.2.3".into(),
                last_error: Some("camera".into()),
                model: Some(ModelId::new("m").unwrap()),
                free_disk_bytes: Some(u64::MAX),
                clock: ClockSync::Synchronised,
                unknown_discarded: 5,
            };
            write(db, |sql| record_status(sql, &status, 3, UnixMillis(1_000))).unwrap();
            assert_eq!(version(db), 3);
            let seen = read(db, |sql| get(sql, door.id)).unwrap();
            let expected = Device {
                online: true,
                last_seen_at: Some(UnixMillis(1_000)),
                outbox_depth: Some(3),
                gallery_version: Some(4),
                software_version: Some("1.2.3".into()),
                last_error: Some("camera".into()),
                protocol_version: Some(3),
                model: Some("m".into()),
                free_disk_bytes: Some(i64::MAX as u64),
                clock_offset_ms: Some(250),
                clock_synchronised: Some(true),
                unknown_discarded: 5,
                ..door.clone()
            };
            assert_eq!(seen, expected);

            // The unit counts from its start: growth adds the difference, a restart (a smaller
            // count) adds all it has counted since; the hub's own drops add to the same total.
            let discarded = |db: &Db| read(db, |sql| get(sql, door.id)).unwrap().unknown_discarded;
            for (reported, total) in [(5, 5), (7, 7), (2, 9), (2, 9)] {
                let status = DeviceStatus {
                    unknown_discarded: reported,
                    ..status.clone()
                };
                write(db, |sql| record_status(sql, &status, 4, UnixMillis(1_000))).unwrap();
                assert_eq!(discarded(db), total, "after reporting {reported}");
            }
            write(db, |sql| add_discarded(sql, door.id, 3)).unwrap();
            assert_eq!(discarded(db), 12);

            write(db, |sql| set_offline(sql, door.id)).unwrap();
            assert!(!read(db, |sql| get(sql, door.id)).unwrap().online);
            write(db, |sql| touch(sql, door.id, UnixMillis(2_000))).unwrap();
            let touched = read(db, |sql| get(sql, door.id)).unwrap();
            assert_eq!(
                (touched.online, touched.last_seen_at),
                (true, Some(UnixMillis(2_000)))
            );
        });
    }
}
