//! Who is calling: password hashing, the signing key, access and refresh tokens, and the
//! failed-login limiter. Knows nothing of HTTP; `http::auth` turns headers into a [`Principal`].

pub mod key;
pub mod limiter;
pub mod password;
pub mod tokens;

use serde::Serialize;
use uuid::Uuid;

use crate::store::users::Role;

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The name written to the audit log.
    pub fn actor(&self) -> String {
        format!("user:{}", self.username)
    }
}
