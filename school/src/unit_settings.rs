//! Door units set from the hub (issue 33, point 4). An admin chooses settings for a room (every
//! unit in it) or for one unit (over its room's), as `edge.toml` keys
//! ([`rollcall_shared::unit_settings::SETTABLE`]): matching thresholds and margin, burst,
//! quality gate, the interval trigger, the lamps. Each change is checked here, audited, and
//! gives every unit it reaches a new settings version, sent as a TOML document with the
//! unit's direction from the registry ([`UnitSettings`]). The unit checks it again with its
//! own rules, takes it or refuses it with the reason, and says so ([`SettingsReport`]); a unit
//! behind its version (it was off, or the hub's message was lost) is sent it again when it
//! reports. The rules' floor: the SQL is `rollcall_store::unit_settings`, the routes
//! `rollcall_hub::http::devices::unit_settings`, the keys themselves `rollcall_shared::unit_settings`.

use rollcall_shared::unit_settings::{Kind, settable};
use rollcall_shared::{DeviceId, Direction, SettingsReport, UnitSettings, UnixMillis};
use serde_json::{Value, json};

use rollcall_store::audit::{self, Change};
use rollcall_store::devices;
use rollcall_store::unit_settings::{self as stored, Scope, Values};
use rollcall_store::{Sql, StoreError};

/// Why settings were refused by the hub (before any unit saw them).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct Refused(pub String);

/// Checks every value against the key's kind; all problems at once.
pub fn check(values: &Values) -> Result<(), Refused> {
    let problems: Vec<String> = values
        .iter()
        .filter_map(|(key, value)| check_one(key, value).err())
        .collect();
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Refused(problems.join("; "))),
    }
}

fn check_one(key: &str, value: &Value) -> Result<(), String> {
    if key == "device.direction" {
        return Err(format!(
            "{key}: set with the unit itself (its direction on the Devices page)"
        ));
    }
    let Some(s) = settable(key) else {
        return Err(format!(
            "{key}: not a setting a door unit takes from the hub"
        ));
    };
    let fits = match s.kind {
        Kind::Number { min, max } => value
            .as_f64()
            .map(|v| (min..=max).contains(&v))
            .ok_or("a number"),
        Kind::Count { min, max } => value
            .as_i64()
            .map(|v| (min..=max).contains(&v))
            .ok_or("a whole number"),
        Kind::Duration => value
            .as_str()
            .map(|t| humantime::parse_duration(t).is_ok())
            .ok_or("a duration such as \"150ms\", \"30s\" or \"10m\""),
        Kind::Flag => value.as_bool().map(|_| true).ok_or("true or false"),
        Kind::Choice(words) => value.as_str().map(|w| words.contains(&w)).ok_or("a word"),
    };
    match (fits, s.kind) {
        (Ok(true), _) => Ok(()),
        (Err(what), _) => Err(format!("{key}: {value} is not {what}")),
        (Ok(false), Kind::Number { min, max }) => {
            Err(format!("{key}: {value} is outside {min} to {max}"))
        }
        (Ok(false), Kind::Count { min, max }) => {
            Err(format!("{key}: {value} is outside {min} to {max}"))
        }
        (Ok(false), Kind::Choice(words)) => {
            Err(format!("{key}: {value} is not one of {}", words.join(", ")))
        }
        (Ok(false), _) => Err(format!("{key}: {value} is not a duration such as \"30s\"")),
    }
}

/// What one unit runs with on top of its `edge.toml`: its room's settings, its own over them,
/// and the direction the registry has for it.
pub fn effective(room: &Values, own: &Values, direction: Direction) -> Values {
    let mut all = room.clone();
    all.extend(own.clone());
    all.insert("device.direction".into(), json!(direction.as_str()));
    all
}

/// `values` as the TOML document a unit reads: `[section]` then `key = value`.
pub fn to_toml(values: &Values) -> String {
    let mut doc = toml::Table::new();
    for (key, value) in values {
        let Some((section, name)) = key.split_once('.') else {
            continue;
        };
        let Some(value) = toml_value(value) else {
            continue;
        };
        let table = doc
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = table {
            t.insert(name.to_owned(), value);
        }
    }
    doc.to_string()
}

fn toml_value(value: &Value) -> Option<toml::Value> {
    match value {
        Value::Bool(b) => Some(toml::Value::Boolean(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(toml::Value::Integer)
            .or(n.as_f64().map(toml::Value::Float)),
        Value::String(s) => Some(toml::Value::String(s.clone())),
        _ => None,
    }
}

/// What `device` should run with, as the message that tells it; `None` for a unit no
/// setting has reached yet (its `edge.toml` alone).
pub fn message_for(sql: &dyn Sql, device: DeviceId) -> Result<Option<UnitSettings>, StoreError> {
    let state = stored::state(sql, device)?;
    let Some(unit) = devices::get(sql, device)? else {
        return Ok(None);
    };
    if state.version == 0 {
        return Ok(None);
    }
    let room = stored::values(sql, &Scope::Room(unit.room.clone()))?;
    let own = stored::values(sql, &Scope::Device(device))?;
    Ok(Some(UnitSettings {
        version: state.version,
        toml: to_toml(&effective(&room, &own, unit.direction)),
    }))
}

/// Sets `values` for `scope` (audited with before and after) and gives every unit it reaches
/// a new version; those units, to be sent their settings.
pub fn change(
    sql: &dyn Sql,
    scope: &Scope,
    values: &Values,
    actor: &str,
    now: UnixMillis,
) -> Result<Vec<DeviceId>, StoreError> {
    let before = stored::values(sql, scope)?;
    stored::set_values(sql, scope, values, actor, now)?;
    let (target, reached) = match scope {
        Scope::Room(room) => {
            let units = devices::list(sql)?.into_iter();
            let here = units.filter(|d| &d.room == room && d.retired_at.is_none());
            (format!("room:{room}"), here.map(|d| d.id).collect())
        }
        Scope::Device(device) => (format!("device:{device}"), vec![*device]),
    };
    audit::log(
        sql,
        Change {
            actor,
            action: "unit_settings.update",
            target,
            before: Some(json!(before)),
            after: Some(json!(values)),
            at: now,
        },
    )?;
    reached_anew(sql, &reached)
}

/// A new settings version for each of `units` (their room or direction changed, or their
/// settings did); the units, to be sent their settings.
pub fn reached_anew(sql: &dyn Sql, units: &[DeviceId]) -> Result<Vec<DeviceId>, StoreError> {
    for unit in units {
        stored::bump(sql, *unit)?;
    }
    Ok(units.to_vec())
}

/// Keeps what a unit said of its settings; the settings to send it when it is behind and has
/// not refused them.
pub fn reported(
    sql: &dyn Sql,
    report: &SettingsReport,
    now: UnixMillis,
) -> Result<Option<UnitSettings>, StoreError> {
    stored::record_report(sql, report, now)?;
    let version = stored::state(sql, report.device)?.version;
    let refused_it = report
        .refused
        .as_ref()
        .is_some_and(|r| r.version == version);
    if version == 0 || report.in_force == version || refused_it {
        return Ok(None);
    }
    message_for(sql, report.device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, Value)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn values_are_checked_against_each_keys_kind_all_problems_at_once() {
        let good = values(&[
            ("matching.confident", json!(0.29)),
            ("burst.frames", json!(7)),
            ("burst.spacing", json!("120ms")),
            ("indicator.lamps", json!(false)),
        ]);
        assert_eq!(check(&good), Ok(()));
        let bad = values(&[
            ("broker.url", json!("mqtt://x")),
            ("burst.frames", json!(70)),
            ("burst.spacing", json!("soon")),
            ("matching.confident", json!("tight")),
            ("device.direction", json!("up")),
        ]);
        let Refused(why) = check(&bad).unwrap_err();
        for part in [
            "broker.url: not a setting",
            "burst.frames: 70 is outside 1 to 10",
            "burst.spacing: \"soon\" is not a duration",
            "matching.confident: \"tight\" is not a number",
            "device.direction: set with the unit itself",
        ] {
            assert!(why.contains(part), "{part}: {why}");
        }
    }

    #[test]
    fn a_unit_behind_its_settings_is_sent_them_again_unless_it_refused_them() {
        use rollcall_shared::Refusal;
        rollcall_store::engines::each(|db| {
            let unit = DeviceId::random();
            db.write_blocking(|sql| {
                rollcall_store::register_device_in(sql, unit);
                let report = |in_force, refused: Option<u64>| SettingsReport {
                    device: unit,
                    in_force,
                    refused: refused.map(|version| Refusal {
                        version,
                        reason: "no".into(),
                    }),
                };
                let at = UnixMillis(1);
                assert_eq!(
                    reported(sql, &report(0, None), at)?,
                    None,
                    "nothing set yet"
                );
                let own = values(&[("burst.frames", json!(3))]);
                let reached = change(sql, &Scope::Device(unit), &own, "user:admin", at)?;
                assert_eq!(reached, [unit]);
                let again = reported(sql, &report(0, None), at)?.expect("behind: sent again");
                assert_eq!(again.version, 1);
                assert!(again.toml.contains("frames = 3") && again.toml.contains("direction"));
                assert_eq!(
                    reported(sql, &report(0, Some(1)), at)?,
                    None,
                    "refused: not resent"
                );
                assert_eq!(reported(sql, &report(1, None), at)?, None, "in force");
                let room = Scope::Room("Lab 3".into());
                change(
                    sql,
                    &room,
                    &values(&[("indicator.lamps", json!(false))]),
                    "a",
                    at,
                )?;
                let both = message_for(sql, unit)?.unwrap();
                assert_eq!(both.version, 2);
                assert!(both.toml.contains("lamps = false") && both.toml.contains("frames = 3"));
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }

    #[test]
    fn a_units_own_settings_lie_over_its_rooms_and_become_a_toml_document() {
        let room = values(&[
            ("burst.frames", json!(5)),
            ("indicator.lamps", json!(false)),
        ]);
        let own = values(&[
            ("burst.frames", json!(7)),
            ("matching.confident", json!(0.29)),
        ]);
        let all = effective(&room, &own, Direction::In);
        let doc = to_toml(&all);
        let parsed: toml::Table = doc.parse().unwrap();
        assert_eq!(parsed["burst"]["frames"].as_integer(), Some(7));
        assert_eq!(parsed["indicator"]["lamps"].as_bool(), Some(false));
        assert_eq!(parsed["matching"]["confident"].as_float(), Some(0.29));
        assert_eq!(parsed["device"]["direction"].as_str(), Some("in"), "{doc}");
    }
}
