//! The door units (admins): a unit's life here, from registration to retirement; one-code
//! provisioning (`provision`), its settings set from the hub (`unit_settings`) and the records
//! held in quarantine (`quarantine`) below.
//!
//! A unit is registered, enabled and disabled, asked to fetch its gallery again; listed with
//! what it last reported and whether it has gone silent; renamed and moved to another room
//! (its gallery is re-narrowed and pushed at once); retired (credentials revoked, its broker
//! session cut, its records kept); replaced (a new unit takes over its room, with a set-up
//! code from `provision`).

pub(super) mod provision;
pub(super) mod quarantine;
pub(super) mod unit_settings;

use rollcall_shared::record::validate_room;
use rollcall_shared::topics::Channel;
use rollcall_shared::{DeviceCommand, DeviceId, Direction, Message, UnixMillis};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::accounts::users::hashed;
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use crate::provisioning;
use rollcall_school::accounts::{self, Hashed};
use rollcall_school::principal::Principal;
use rollcall_store::audit::{self, Change};
use rollcall_store::devices::{self, Device};
use rollcall_store::records;
use rollcall_store::{Sql, StoreError};

/// How far back the Devices page counts the faces a unit judged not live.
const NOT_LIVE_WINDOW_MS: i64 = 7 * 86_400_000;

/// A device as the Devices page shows it: what it last reported, for how long it has been
/// silent when that is longer than `[devices] silent_after_minutes`, and how many of its
/// records in the last 7 days were faces judged not live (a possible photo or screen).
#[derive(Serialize)]
struct DeviceView {
    #[serde(flatten)]
    device: Device,
    silent_for_ms: Option<i64>,
    not_live_last_7_days: u64,
    /// Its settings from the hub: the version, the one in force, the last refused.
    settings: rollcall_store::unit_settings::State,
}

/// How long `d` has been silent at `now`, when that is `after_ms` or more and it matters (an
/// enabled unit; one never heard from counts from its registering).
fn silence(d: &Device, now: UnixMillis, after_ms: i64) -> Option<i64> {
    if !d.enabled || d.retired_at.is_some() {
        return None;
    }
    let since = d.last_seen_at.unwrap_or(d.created_at);
    let silent = now.0 - since.0;
    (silent >= after_ms).then_some(silent)
}

/// `GET /devices`.
pub async fn list(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let now = hub.now();
    let after_ms = i64::from(hub.config.devices.silent_after_minutes) * 60_000;
    let since = UnixMillis(now.0 - NOT_LIVE_WINDOW_MS);
    let (all, not_live) = hub
        .read(move |c| {
            let units = devices::list(c)?.into_iter();
            let all = units
                .map(|d| Ok((rollcall_store::unit_settings::state(c, d.id)?, d)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok::<_, StoreError>((all, records::not_live_by_device(c, since)?))
        })
        .await?;
    let views: Vec<DeviceView> = all
        .into_iter()
        .map(|(settings, device)| DeviceView {
            silent_for_ms: silence(&device, now, after_ms),
            not_live_last_7_days: not_live.get(&device.id).copied().unwrap_or(0),
            device,
            settings,
        })
        .collect();
    Reply::ok(views)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    name: Option<String>,
    room: Option<String>,
    direction: Option<Direction>,
}

/// `PATCH /devices/{device}`: a new name, room or direction, or several. A new room re-narrows
/// the unit's gallery to the students timetabled there and pushes it at once; a new direction
/// counts for the records that arrive from then on (the unit's `edge.toml` should say it too).
pub async fn update(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let device: DeviceId = req.id("device", "device")?;
    let body: Update = req.json()?;
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    if let Some(room) = &body.room {
        validate_room(room).map_err(|e| ApiError::bad(format!("room: {e}")))?;
    }
    let (actor, now) = (who.actor(), hub.now());
    let (before, after) = hub
        .write(move |tx| {
            let before = live(tx, device)?;
            let name = body.name.unwrap_or_else(|| before.name.clone());
            let room = body.room.unwrap_or_else(|| before.room.clone());
            let direction = body.direction.unwrap_or(before.direction);
            devices::set_place(tx, device, &name, &room, direction)?;
            let change = Change {
                actor: &actor,
                action: "device.update",
                target: format!("device:{device}"),
                before: Some(json!({
                    "name": before.name, "room": before.room, "direction": before.direction
                })),
                after: Some(json!({"name": name, "room": room, "direction": direction})),
                at: now,
            };
            audit::log(tx, change)?;
            let after = devices::get(tx, device)?.ok_or(ApiError::NotFound("device".into()))?;
            Ok::<_, ApiError>((before, after))
        })
        .await?;
    if before.room != after.room {
        tracing::info!(%device, from = before.room, to = after.room, "door unit moved");
        hub.gallery_changed();
    }
    if (&before.room, before.direction) != (&after.room, after.direction) {
        // Its room's settings and its direction are part of what it runs with.
        let reached = hub
            .write(move |tx| rollcall_school::unit_settings::reached_anew(tx, &[device]))
            .await?;
        unit_settings::send(hub, reached).await;
    }
    Reply::ok(after)
}

/// `POST /devices/{device}/retire`: for good. Its credentials and certificate stop working,
/// its broker session is closed now, its records stay.
pub async fn retire(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let device: DeviceId = req.id("device", "device")?;
    let (actor, now) = (who.actor(), hub.now());
    let retired = hub
        .write(move |tx| {
            live(tx, device)?;
            retire_in(tx, device, None, &actor, now)
        })
        .await?;
    hub.sessions.close(device);
    Reply::ok(retired)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Replacement {
    /// The new unit's name; the old one's room is kept.
    name: String,
}

/// `POST /devices/{device}/replace`: registers a new unit in the old one's room, retires the
/// old one, and answers the new unit with its MQTT password (shown once) and a set-up code.
pub async fn replace(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let old: DeviceId = req.id("device", "device")?;
    let body: Replacement = req.json()?;
    check_name(&body.name)?;
    let (actor, now) = (who.actor(), hub.now());
    let secret = hashed(hub, Hashed::device_secret).await?;
    let code = provisioning::new_code();
    let (digest, expires_at) = (code.digest(), provision::expiry(hub, now));
    let with_code = hub.config.mqtt.mode == crate::config::MqttMode::Embedded;
    let (registered, retired) = hub
        .write(move |tx| {
            let before = live(tx, old)?;
            let registered = accounts::register_device(
                tx,
                &body.name,
                &before.room,
                before.direction,
                secret,
                &actor,
                now,
            )?;
            let retired = retire_in(tx, old, Some(registered.device.id), &actor, now)?;
            if with_code {
                provision::store_code(tx, &registered.device, &digest, &actor, now, expires_at)?;
            }
            Ok::<_, ApiError>((registered, retired))
        })
        .await?;
    hub.sessions.close(old);
    hub.gallery_changed();
    let code = match with_code {
        true => Some(provision::shown(
            hub,
            req,
            &registered.device,
            &code,
            expires_at,
        )?),
        false => None,
    };
    Reply::created(json!({
        "device": registered.device,
        "mqtt_username": registered.mqtt_username,
        "mqtt_password": registered.mqtt_password,
        "provisioning_code": code,
        "replaced": retired,
    }))
}

/// The device, unless it is unknown (404) or retired (409).
fn live(conn: &dyn Sql, device: DeviceId) -> Result<Device, ApiError> {
    let d = devices::get(conn, device)?.ok_or(ApiError::NotFound("device".into()))?;
    if d.retired_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "door unit {} is retired: register a new one",
            d.name
        )));
    }
    Ok(d)
}

fn retire_in(
    tx: &dyn Sql,
    device: DeviceId,
    replaced_by: Option<DeviceId>,
    actor: &str,
    now: UnixMillis,
) -> Result<Device, ApiError> {
    devices::retire(tx, device, now, replaced_by)?;
    let change = Change {
        actor,
        action: "device.retire",
        target: format!("device:{device}"),
        before: None,
        after: Some(json!({"replaced_by": replaced_by})),
        at: now,
    };
    audit::log(tx, change)?;
    devices::get(tx, device)?.ok_or(ApiError::NotFound("device".into()))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::bad("name: 1 to 64 characters"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    name: String,
    room: String,
    /// Which way its camera faces (`both` when not said).
    #[serde(default)]
    direction: Direction,
}

pub async fn register_device(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: DeviceBody = req.json()?;
    let (actor, now) = (who.actor(), hub.now());
    let secret = hashed(hub, Hashed::device_secret).await?;
    let registered = hub
        .write(move |tx| {
            let (name, room) = (&body.name, &body.room);
            accounts::register_device(tx, name, room, body.direction, secret, &actor, now)
                .map_err(ApiError::from)
        })
        .await?;
    Reply::created(registered)
}

pub async fn enable(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    set_enabled(hub, who, req.id("device", "device")?, true).await
}

pub async fn disable(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    set_enabled(hub, who, req.id("device", "device")?, false).await
}

async fn set_enabled(
    hub: &Hub,
    who: &Principal,
    device: DeviceId,
    enabled: bool,
) -> Result<Reply, ApiError> {
    let (actor, now) = (who.actor(), hub.now());
    let after = hub
        .write(move |tx| {
            let before = devices::get(tx, device)?.ok_or(ApiError::NotFound("device".into()))?;
            if before.retired_at.is_some() {
                return Err(ApiError::Conflict(format!(
                    "door unit {} is retired: register a new one",
                    before.name
                )));
            }
            devices::set_enabled(tx, device, enabled)?;
            let change = Change {
                actor: &actor,
                action: if enabled {
                    "device.enable"
                } else {
                    "device.disable"
                },
                target: format!("device:{device}"),
                before: Some(json!({"enabled": before.enabled})),
                after: Some(json!({"enabled": enabled})),
                at: now,
            };
            audit::log(tx, change)?;
            Ok::<_, ApiError>(devices::get(tx, device)?)
        })
        .await?;
    if enabled {
        hub.gallery_changed();
    } else {
        hub.sessions.close(device);
    }
    Reply::ok(after)
}

pub async fn resync(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let device: DeviceId = req.id("device", "device")?;
    hub.read(move |c| devices::get(c, device))
        .await?
        .ok_or(ApiError::NotFound("device".into()))?;
    let command = Message::Command(DeviceCommand::ResyncGallery);
    let queued = hub.publish(device, Channel::Commands, &command).await;
    Reply::ok(json!({"queued": queued}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(last_seen: Option<i64>) -> Device {
        let mut d = Device::new(DeviceId::random(), "door", "Lab 3", UnixMillis(1_000));
        d.last_seen_at = last_seen.map(UnixMillis);
        d
    }

    #[test]
    fn a_unit_is_silent_once_unheard_for_the_setting() {
        let after = 600_000;
        assert_eq!(
            silence(&unit(Some(100_000)), UnixMillis(699_999), after),
            None
        );
        assert_eq!(
            silence(&unit(Some(100_000)), UnixMillis(700_000), after),
            Some(600_000)
        );
        assert_eq!(
            silence(&unit(None), UnixMillis(601_000), after),
            Some(600_000),
            "never heard from: counted from registering"
        );
        let mut off = unit(None);
        off.enabled = false;
        assert_eq!(silence(&off, UnixMillis(10_000_000), after), None);
    }
}
