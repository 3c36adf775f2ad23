//! Door units' settings as the hub holds them (migration 28): what an admin chose for a room or
//! for one unit, and for each unit the version of its settings, the version it says is in
//! force and the last it refused. The rules are in `crate::unit_settings`.

use std::collections::BTreeMap;

use rollcall_shared::{DeviceId, SettingsReport, UnixMillis};
use serde::Serialize;

use super::error::StoreError;
use super::sql::{Sql, params};

const SELECT: &str = "SELECT settings FROM unit_settings WHERE scope = ?1";
const UPSERT: &str = "INSERT INTO unit_settings (scope, settings, changed_by, changed_at)
    VALUES (?1, ?2, ?3, ?4) ON CONFLICT (scope) DO UPDATE SET settings = excluded.settings,
    changed_by = excluded.changed_by, changed_at = excluded.changed_at";
const DELETE: &str = "DELETE FROM unit_settings WHERE scope = ?1";
const BUMP: &str = "INSERT INTO unit_settings_state (device_id, version) VALUES (?1, 1)
    ON CONFLICT (device_id) DO UPDATE SET version = unit_settings_state.version + 1";
const STATE: &str = "SELECT version, in_force, refused_version, refused_reason, reported_at
    FROM unit_settings_state WHERE device_id = ?1";
const REPORT: &str = "INSERT INTO unit_settings_state
    (device_id, version, in_force, refused_version, refused_reason, reported_at)
    VALUES (?1, 0, ?2, ?3, ?4, ?5) ON CONFLICT (device_id) DO UPDATE SET
    in_force = excluded.in_force, refused_version = excluded.refused_version,
    refused_reason = excluded.refused_reason, reported_at = excluded.reported_at";

/// Settings by `edge.toml` key (`burst.frames`), as the API takes and shows them.
pub type Values = BTreeMap<String, serde_json::Value>;

/// Whose settings: a room's (every unit in it) or one unit's (over its room's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Room(String),
    Device(DeviceId),
}

impl Scope {
    fn key(&self) -> String {
        match self {
            Scope::Room(room) => format!("room:{room}"),
            Scope::Device(device) => format!("device:{device}"),
        }
    }
}

/// Where one unit's settings stand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct State {
    /// The version of the settings the hub holds for it (0: never set).
    pub version: u64,
    /// The version it last said is in force (`None`: it has not said).
    pub in_force: Option<u64>,
    pub refused: Option<Refused>,
    pub reported_at: Option<UnixMillis>,
}

/// Settings a unit would not run with, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub version: u64,
    pub reason: String,
}

/// What an admin chose for `scope` (empty: nothing).
pub fn values(sql: &dyn Sql, scope: &Scope) -> Result<Values, StoreError> {
    let text: Option<String> =
        sql.query_opt(SELECT, params![scope.key()], |r| r.get("settings"))?;
    match text {
        None => Ok(Values::new()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("settings of {}: {e}", scope.key()))),
    }
}

/// Sets what an admin chose for `scope`; nothing left removes the row.
pub fn set_values(
    sql: &dyn Sql,
    scope: &Scope,
    values: &Values,
    by: &str,
    at: UnixMillis,
) -> Result<(), StoreError> {
    if values.is_empty() {
        sql.execute(DELETE, params![scope.key()])?;
        return Ok(());
    }
    let text = serde_json::to_string(values).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sql.execute(UPSERT, params![scope.key(), text, by, at])?;
    Ok(())
}

/// One more version of `device`'s settings; the new version.
pub fn bump(sql: &dyn Sql, device: DeviceId) -> Result<u64, StoreError> {
    sql.execute(BUMP, params![device.to_string()])?;
    Ok(state(sql, device)?.version)
}

/// Where `device`'s settings stand.
pub fn state(sql: &dyn Sql, device: DeviceId) -> Result<State, StoreError> {
    let row = sql.query_opt(STATE, params![device.to_string()], |r| {
        let refused_version: Option<i64> = r.get("refused_version")?;
        let reason: Option<String> = r.get("refused_reason")?;
        Ok(State {
            version: r.get::<i64>("version")?.max(0) as u64,
            in_force: r.get::<Option<i64>>("in_force")?.map(|v| v.max(0) as u64),
            refused: refused_version.zip(reason).map(|(v, reason)| Refused {
                version: v.max(0) as u64,
                reason,
            }),
            reported_at: r.get("reported_at")?,
        })
    })?;
    Ok(row.unwrap_or_default())
}

/// Keeps what a unit said of its settings.
pub fn record_report(
    sql: &dyn Sql,
    report: &SettingsReport,
    at: UnixMillis,
) -> Result<(), StoreError> {
    let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let refused = report.refused.as_ref();
    sql.execute(
        REPORT,
        params![
            report.device.to_string(),
            as_i64(report.in_force),
            refused.map(|r| as_i64(r.version)),
            refused.map(|r| r.reason.clone()),
            at
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rollcall_shared::Refusal;
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_are_kept_by_scope_and_each_unit_has_its_versions() {
        crate::engines::each(|db| {
            let device = DeviceId::random();
            db.write_blocking(|sql| {
                crate::fixtures::register_device_in(sql, device);
                let room = Scope::Room("Lab 3".into());
                assert!(values(sql, &room)?.is_empty());
                let chosen = Values::from([("burst.frames".to_owned(), json!(7))]);
                set_values(sql, &room, &chosen, "user:admin", UnixMillis(1))?;
                assert_eq!(values(sql, &room)?, chosen);
                assert!(values(sql, &Scope::Device(device))?.is_empty());
                set_values(sql, &room, &Values::new(), "user:admin", UnixMillis(2))?;
                assert!(values(sql, &room)?.is_empty(), "cleared");

                assert_eq!(state(sql, device)?, State::default());
                assert_eq!((bump(sql, device)?, bump(sql, device)?), (1, 2));
                let report = SettingsReport {
                    device,
                    in_force: 1,
                    refused: Some(Refusal {
                        version: 2,
                        reason: "burst.frames: too many".into(),
                    }),
                };
                record_report(sql, &report, UnixMillis(3))?;
                let held = state(sql, device)?;
                assert_eq!((held.version, held.in_force), (2, Some(1)));
                assert_eq!(held.refused.unwrap().reason, "burst.frames: too many");
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}
