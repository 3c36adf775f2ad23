//! Door units set from the hub (admins): `GET|PUT /devices/{device}/settings` for one unit,
//! `GET|PUT /room-settings?room=` for every unit in a room. A `PUT` replaces the scope's
//! settings with the JSON object it carries (`{"burst.frames": 7}`; `{}` clears them), checked
//! here, audited, and sent at once to every unit it reaches; each unit says whether it took
//! them (`state`). The rules are `rollcall_school::unit_settings`'s.

use rollcall_shared::unit_settings::{Kind, SETTABLE};
use rollcall_shared::{DeviceId, Message, topics::Channel};
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_school::unit_settings::{self, check, effective, message_for};
use rollcall_store::Sql;
use rollcall_store::devices;
use rollcall_store::unit_settings::{self as stored, Scope, Values};

/// `GET /devices/{device}/settings`: its own settings, its room's, what it runs with on top
/// of `edge.toml`, and whether it took them.
pub async fn of_device(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let device: DeviceId = req.id("device", "device")?;
    Reply::ok(hub.read(move |c| device_view(c, device)).await?)
}

/// `PUT /devices/{device}/settings`.
pub async fn set_device(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let device: DeviceId = req.id("device", "device")?;
    let values = body(req)?;
    let (actor, now) = (who.actor(), hub.now());
    let reached = hub
        .write(move |tx| {
            live(tx, device)?;
            let scope = Scope::Device(device);
            Ok::<_, ApiError>(unit_settings::change(tx, &scope, &values, &actor, now)?)
        })
        .await?;
    send(hub, reached).await;
    Reply::ok(hub.read(move |c| device_view(c, device)).await?)
}

/// `GET /room-settings?room=`: the room's settings and its units'.
pub async fn of_room(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let room = room(req)?;
    Reply::ok(hub.read(move |c| room_view(c, &room)).await?)
}

/// `PUT /room-settings?room=`.
pub async fn set_room(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let room = room(req)?;
    let values = body(req)?;
    let (actor, now) = (who.actor(), hub.now());
    let scope = Scope::Room(room.clone());
    let reached = hub
        .write(move |tx| unit_settings::change(tx, &scope, &values, &actor, now))
        .await?;
    send(hub, reached).await;
    Reply::ok(hub.read(move |c| room_view(c, &room)).await?)
}

/// Sends each unit its settings now (a unit offline gets them when it next reports).
pub async fn send(hub: &Hub, units: Vec<DeviceId>) {
    for unit in units {
        let message = hub.read(move |c| message_for(c, unit)).await;
        match message {
            Ok(Some(settings)) => {
                let message = Message::UnitSettings(settings);
                if !hub.publish(unit, Channel::Commands, &message).await {
                    tracing::info!(%unit, "settings not sent now: it gets them when it reports");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(%unit, "reading its settings: {e}"),
        }
    }
}

fn body(req: &Request) -> Result<Values, ApiError> {
    let values: Values = req.json()?;
    check(&values).map_err(|e| ApiError::bad(e.to_string()))?;
    Ok(values)
}

fn room(req: &Request) -> Result<String, ApiError> {
    let room: String = req.require("room")?;
    rollcall_shared::record::validate_room(&room)
        .map_err(|e| ApiError::bad(format!("room: {e}")))?;
    Ok(room)
}

fn live(sql: &dyn Sql, device: DeviceId) -> Result<devices::Device, ApiError> {
    match devices::get(sql, device)? {
        Some(d) if d.retired_at.is_none() => Ok(d),
        Some(_) => Err(ApiError::Conflict("the door unit is retired".into())),
        None => Err(ApiError::NotFound("device".into())),
    }
}

fn device_view(sql: &dyn Sql, device: DeviceId) -> Result<Value, ApiError> {
    let unit = live(sql, device)?;
    let own = stored::values(sql, &Scope::Device(device))?;
    let room = stored::values(sql, &Scope::Room(unit.room.clone()))?;
    let runs_with = effective(&room, &own, unit.direction);
    Ok(json!({
        "device": device,
        "room": unit.room,
        "own": own,
        "from_room": room,
        "effective": runs_with,
        "toml": unit_settings::to_toml(&runs_with),
        "state": stored::state(sql, device)?,
        "settable": settable(),
    }))
}

fn room_view(sql: &dyn Sql, room: &str) -> Result<Value, ApiError> {
    let values = stored::values(sql, &Scope::Room(room.to_owned()))?;
    let mut units = Vec::new();
    for unit in devices::list(sql)? {
        if unit.room == room && unit.retired_at.is_none() {
            let state = stored::state(sql, unit.id)?;
            units.push(json!({"device": unit.id, "name": unit.name, "state": state}));
        }
    }
    Ok(json!({"room": room, "settings": values, "units": units, "settable": settable()}))
}

/// The keys a unit takes from the hub, each with what it changes and the values it takes.
fn settable() -> Vec<Value> {
    SETTABLE
        .iter()
        .map(|s| {
            let kind = match s.kind {
                Kind::Number { min, max } => json!({"type": "number", "min": min, "max": max}),
                Kind::Count { min, max } => json!({"type": "integer", "min": min, "max": max}),
                Kind::Duration => json!({"type": "duration"}),
                Kind::Flag => json!({"type": "boolean"}),
                Kind::Choice(words) => json!({"type": "choice", "choices": words}),
            };
            json!({"key": s.key, "about": s.about, "kind": kind})
        })
        .collect()
}
