//! Who a rule acts for: an authenticated caller, with the role the rules of access read.
//! Made by the hub's sign-in (tokens, sessions, JWT in `rollcall_hub::auth`) and handed down;
//! nothing here reads a header or a token.

use serde::Serialize;
use uuid::Uuid;

use rollcall_shared::StudentId;
use rollcall_store::users::Role;

/// Who the system's own actions name, where a person's would stand (a late record's amendment
/// of the register).
pub const SYSTEM_USER: &str = "system";

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    /// The student a `student` account is; `None` for any other.
    pub student: Option<StudentId>,
    /// The sign-in the caller's access token belongs to.
    #[serde(skip)]
    pub signin: Uuid,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this is the school's staff (an admin or a teacher), not a student or a
    /// guardian.
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    /// The name written to the audit log.
    pub fn actor(&self) -> String {
        format!("user:{}", self.username)
    }
}
