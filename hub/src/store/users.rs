//! Users (admins and teachers) and their password hashes. Hashing itself lives in
//! `auth::password`; this module only stores the result.

use rollcall_shared::UnixMillis;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{StoreError, id_col};

const INSERT: &str =
    "INSERT INTO users (id, username, display_name, role, password_hash, created_at, email)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const SELECT: &str = "SELECT id, username, display_name, role, password_hash, disabled, created_at,
    email FROM users";
const UPDATE_PASSWORD: &str = "UPDATE users SET password_hash = ?2 WHERE id = ?1";
const UPDATE: &str =
    "UPDATE users SET display_name = ?2, role = ?3, disabled = ?4, email = ?5 WHERE id = ?1";
const DELETE: &str = "DELETE FROM users WHERE id = ?1";
/// A deleted teacher's classes keep going without a teacher until an admin names one.
const CLEAR_TEACHER: &str = "UPDATE classes SET teacher_id = NULL WHERE teacher_id = ?1";
const COUNT_ENABLED_ADMINS: &str =
    "SELECT COUNT(*) AS admins FROM users WHERE role = 'admin' AND disabled = 0";
const COUNT: &str = "SELECT COUNT(*) AS users FROM users";

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Teacher,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Teacher => "teacher",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "teacher" => Some(Role::Teacher),
            _ => None,
        }
    }
}

/// A stored user. The hash never leaves the hub: it is skipped when serialised.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: UnixMillis,
    /// Where the e-mail digest goes; checked as an address where it enters (API, CLI).
    pub email: Option<String>,
}

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get("role")?;
    Ok(User {
        id: id_col(row, "id")?,
        username: row.get("username")?,
        display_name: row.get("display_name")?,
        role: Role::parse(&role).unwrap_or(Role::Teacher),
        password_hash: row.get("password_hash")?,
        disabled: row.get("disabled")?,
        created_at: row.get("created_at")?,
        email: row.get("email")?,
    })
}

pub fn insert(conn: &Connection, user: &User) -> Result<(), StoreError> {
    conn.execute(
        INSERT,
        params![
            user.id.to_string(),
            user.username,
            user.display_name,
            user.role.as_str(),
            user.password_hash,
            user.created_at,
            user.email
        ],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "user name"))?;
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY username"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn by_username(conn: &Connection, username: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("{SELECT} WHERE username = ?1");
    Ok(conn.query_row(&sql, [username], from_row).optional()?)
}

pub fn by_id(conn: &Connection, id: Uuid) -> Result<User, StoreError> {
    let sql = format!("{SELECT} WHERE id = ?1");
    conn.query_row(&sql, [id.to_string()], from_row)
        .optional()?
        .ok_or(StoreError::NotFound("user"))
}

pub fn set_password(conn: &Connection, id: Uuid, hash: &str) -> Result<(), StoreError> {
    match conn.execute(UPDATE_PASSWORD, params![id.to_string(), hash])? {
        0 => Err(StoreError::NotFound("user")),
        _ => Ok(()),
    }
}

pub fn count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(COUNT, [], |r| r.get("users"))?)
}

/// Stores `user`'s display name, role, disabled flag and e-mail address.
pub fn update(conn: &Connection, user: &User) -> Result<(), StoreError> {
    let row = params![
        user.id.to_string(),
        user.display_name,
        user.role.as_str(),
        user.disabled,
        user.email
    ];
    match conn.execute(UPDATE, row)? {
        0 => Err(StoreError::NotFound("user")),
        _ => Ok(()),
    }
}

/// Deletes the user; their classes are left without a teacher.
pub fn delete(conn: &Connection, id: Uuid) -> Result<(), StoreError> {
    conn.execute(CLEAR_TEACHER, [id.to_string()])?;
    match conn.execute(DELETE, [id.to_string()])? {
        0 => Err(StoreError::NotFound("user")),
        _ => Ok(()),
    }
}

pub fn count_enabled_admins(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(COUNT_ENABLED_ADMINS, [], |r| r.get("admins"))?)
}
