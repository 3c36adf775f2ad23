//! Changing and removing users: display name, role, disabled, the pastoral permission,
//! password, deletion. Shared by the admin API and the command line (`user reset-password`).
//! Every change is audited in the same transaction, never leaves the hub without an enabled
//! admin, and a change that should lock someone out (disabling, deleting, a new password)
//! ends all their sign-ins, which ends their access tokens too.

use rollcall_shared::UnixMillis;
use serde_json::json;
use uuid::Uuid;

use super::{AccountError, Hashed};
use rollcall_store::audit::{self, Change};
use rollcall_store::users::{self, Role, User};
use rollcall_store::{Sql, signins};

/// What an admin may change about a user; `None` leaves it as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Whether a teacher sees and hears of the whole school's missing pupils
    /// (`crate::missing`); an admin always does.
    pub pastoral: Option<bool>,
    /// `Some(None)` clears the address.
    pub email: Option<Option<String>>,
}

/// Applies `patch` to user `id`.
pub fn update(
    conn: &dyn Sql,
    id: Uuid,
    patch: UserPatch,
    actor: &str,
    now: UnixMillis,
) -> Result<User, AccountError> {
    let before = users::by_id(conn, id)?;
    let mut after = before.clone();
    after.display_name = patch.display_name.unwrap_or(after.display_name);
    after.role = patch.role.unwrap_or(after.role);
    after.disabled = patch.disabled.unwrap_or(after.disabled);
    after.pastoral = patch.pastoral.unwrap_or(after.pastoral);
    after.email = patch.email.unwrap_or(after.email);
    if before.role != after.role && !(before.role.is_staff() && after.role.is_staff()) {
        return Err(AccountError::Invalid(
            "a student's or a guardian's account stays one, and no other becomes one".into(),
        ));
    }
    if after.pastoral && !after.role.is_staff() {
        return Err(AccountError::Invalid(
            "the pastoral permission is for the school's staff".into(),
        ));
    }
    if after.role == Role::Guardian && after.email.is_none() {
        return Err(AccountError::Invalid(
            "a guardian's account is found by its address: it cannot be cleared".into(),
        ));
    }
    keeps_an_admin(conn, &before, Some(&after))?;
    users::update(conn, &after)?;
    if after.disabled && !before.disabled {
        signins::revoke_user(conn, id, now)?;
    }
    audited(conn, actor, "user.update", &before, Some(&after), now)?;
    Ok(after)
}

/// Gives user `id` a new password and ends all their sign-ins.
pub fn set_password(
    conn: &dyn Sql,
    id: Uuid,
    password: &Hashed,
    actor: &str,
    now: UnixMillis,
) -> Result<User, AccountError> {
    let user = users::by_id(conn, id)?;
    users::set_password(conn, id, &password.phc)?;
    let ended = signins::revoke_user(conn, id, now)?;
    audit::log(
        conn,
        Change {
            actor,
            action: "user.password",
            target: format!("user:{id}"),
            before: None,
            after: Some(json!({"username": user.username, "signins_ended": ended})),
            at: now,
        },
    )?;
    Ok(user)
}

/// Deletes user `id`; the audit entry keeps their name, their classes lose their teacher.
pub fn delete(conn: &dyn Sql, id: Uuid, actor: &str, now: UnixMillis) -> Result<(), AccountError> {
    let before = users::by_id(conn, id)?;
    keeps_an_admin(conn, &before, None)?;
    signins::revoke_user(conn, id, now)?;
    users::delete(conn, id)?;
    audited(conn, actor, "user.delete", &before, None, now)
}

/// Refuses a change that would take away the last enabled admin.
fn keeps_an_admin(conn: &dyn Sql, before: &User, after: Option<&User>) -> Result<(), AccountError> {
    let enabled_admin = |u: &User| u.role == Role::Admin && !u.disabled;
    if !enabled_admin(before) || after.is_some_and(enabled_admin) {
        return Ok(());
    }
    if users::count_enabled_admins(conn)? <= 1 {
        return Err(AccountError::LastAdmin(before.username.clone()));
    }
    Ok(())
}

fn audited(
    conn: &dyn Sql,
    actor: &str,
    action: &str,
    before: &User,
    after: Option<&User>,
    now: UnixMillis,
) -> Result<(), AccountError> {
    let change = Change {
        actor,
        action,
        target: format!("user:{}", before.id),
        before: Some(json!(before)),
        after: after.map(|u| json!(u)),
        at: now,
    };
    Ok(audit::log(conn, change)?)
}
