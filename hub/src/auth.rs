//! Who is calling: password hashing and its gate, the password rule, the signing key, access
//! tokens, sign-ins with their rotating refresh tokens, the failed-login limiter, and signing
//! in with the school's accounts (`oidc`). Knows nothing of HTTP; `http::auth` turns headers
//! into a [`Principal`].

pub mod hashing;
pub mod key;
pub mod limiter;
pub mod oidc;
pub mod password;
pub mod signin;
pub mod tokens;

use serde::Serialize;
use uuid::Uuid;

use rollcall_store::users::Role;

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    /// The sign-in the caller's access token belongs to.
    #[serde(skip)]
    pub signin: Uuid,
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
