//! One-time provisioning codes for door units (migration 15), kept by their SHA-256 only. The
//! rules (expiry, single use) live in `rollcall_hub::provisioning`; this module only reads and
//! writes rows.

use rollcall_shared::{DeviceId, UnixMillis};

use super::columns::id_col;
use super::error::StoreError;
use super::sql::{Sql, params};

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
    sql: &dyn Sql,
    digest: &str,
    device: DeviceId,
    actor: &str,
    now: UnixMillis,
    expires_at: UnixMillis,
) -> Result<(), StoreError> {
    let device = device.to_string();
    sql.execute(DROP_UNUSED, params![device])?;
    sql.execute(INSERT, params![digest, device, actor, now, expires_at])?;
    Ok(())
}

pub fn get(sql: &dyn Sql, digest: &str) -> Result<Option<StoredCode>, StoreError> {
    sql.query_opt(SELECT, params![digest], |r| {
        Ok(StoredCode {
            device: id_col(r, "device_id")?,
            expires_at: r.get("expires_at")?,
            used_at: r.get("used_at")?,
        })
    })
}

/// Marks the code used; false when it already was (by a request that won the race).
pub fn spend(
    sql: &dyn Sql,
    digest: &str,
    now: UnixMillis,
    from: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(sql.execute(SPEND, params![digest, now, from])? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::devices::{self, Device};
    use crate::engines::each;
    use crate::sql::Sql;

    fn write<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
        db.write_blocking(f).unwrap()
    }

    #[test]
    fn a_new_code_replaces_the_unused_one_and_a_code_is_spent_once() {
        each(|db| {
            let door = DeviceId::random();
            let device = Device::new(door, "door", "Lab 3", UnixMillis(0));
            write(db, |sql| devices::insert(sql, &device, "hash"));
            let code = |digest| write(db, |sql| get(sql, digest));
            write(db, |sql| {
                replace(sql, "old", door, "ada", UnixMillis(1), UnixMillis(9))
            });
            write(db, |sql| {
                replace(sql, "new", door, "ada", UnixMillis(2), UnixMillis(10))
            });
            assert_eq!(code("old"), None);
            let fresh = StoredCode {
                device: door,
                expires_at: UnixMillis(10),
                used_at: None,
            };
            assert_eq!(code("new"), Some(fresh.clone()));
            assert!(write(db, |sql| spend(
                sql,
                "new",
                UnixMillis(3),
                Some("10.0.0.7")
            )));
            assert!(!write(db, |sql| spend(sql, "new", UnixMillis(4), None)));
            let used = StoredCode {
                used_at: Some(UnixMillis(3)),
                ..fresh
            };
            assert_eq!(code("new"), Some(used.clone()));
            write(db, |sql| {
                replace(sql, "next", door, "ada", UnixMillis(5), UnixMillis(11))
            });
            assert_eq!(code("new"), Some(used));
        });
    }
}
