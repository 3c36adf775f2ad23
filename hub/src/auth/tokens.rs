//! Access tokens: HS256 JWTs signed with the hub's key, naming the sign-in they belong to so
//! that ending the sign-in ends them (`http::accounts::auth` checks it on every request). Refresh tokens
//! are opaque and stored (`auth::signin`). Expiry is checked against the hub's injected clock,
//! not by the JWT library, so tests can age tokens.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::key::SigningKey;
use rollcall_store::users::{Role, User};

/// Which kind of token; only access tokens are issued now (refresh JWTs of earlier versions
/// are refused by kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Access,
    Refresh,
}

/// The claims inside a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub name: String,
    pub role: Role,
    pub kind: Kind,
    /// The sign-in (refresh-token family) this token belongs to.
    pub sid: Uuid,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token is malformed or its signature does not check")]
    Invalid,
    #[error("token has expired")]
    Expired,
    #[error("wrong kind of token")]
    WrongKind,
}

/// A pair handed out at login and refresh.
#[derive(Clone, Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// Issues and checks access tokens.
#[derive(Clone, Debug)]
pub struct Tokens {
    key: SigningKey,
    access_secs: i64,
}

impl Tokens {
    pub fn new(key: SigningKey, access_minutes: u32) -> Self {
        Self {
            key,
            access_secs: i64::from(access_minutes) * 60,
        }
    }

    /// An access token for `user` in sign-in `sid`, paired with that sign-in's refresh token.
    pub fn issue(&self, user: &User, sid: Uuid, refresh_token: String, now_ms: i64) -> TokenPair {
        TokenPair {
            access_token: self.sign(user, sid, now_ms.div_euclid(1000)),
            refresh_token,
            token_type: "Bearer",
            expires_in: self.access_secs,
        }
    }

    fn sign(&self, user: &User, sid: Uuid, now: i64) -> String {
        let claims = Claims {
            sub: user.id,
            name: user.username.clone(),
            role: user.role,
            kind: Kind::Access,
            sid,
            iat: now,
            exp: now.saturating_add(self.access_secs),
        };
        let key = EncodingKey::from_secret(&self.key.0);
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// The claims of a valid, unexpired token of `kind`.
    pub fn verify(&self, token: &str, kind: Kind, now_ms: i64) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let key = DecodingKey::from_secret(&self.key.0);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.kind != kind {
            return Err(TokenError::WrongKind);
        }
        if now_ms.div_euclid(1000) >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: Uuid::now_v7(),
            username: "ann".into(),
            display_name: "Ann".into(),
            role: Role::Teacher,
            password_hash: String::new(),
            disabled: false,
            created_at: rollcall_shared::UnixMillis(0),
            email: None,
            pastoral: false,
            choices: Default::default(),
            student_id: None,
        }
    }

    #[test]
    fn tokens_verify_until_they_expire_and_only_as_their_kind() {
        let tokens = Tokens::new(SigningKey::random(), 15);
        let sid = Uuid::now_v7();
        let pair = tokens.issue(&user(), sid, "opaque".into(), 1_000_000);
        let claims = tokens
            .verify(&pair.access_token, Kind::Access, 1_000_000)
            .unwrap();
        assert_eq!((claims.name.as_str(), claims.sid), ("ann", sid));
        let late = 1_000_000 + 15 * 60 * 1000;
        assert_eq!(
            tokens.verify(&pair.access_token, Kind::Access, late),
            Err(TokenError::Expired)
        );
        assert_eq!(
            tokens.verify(&pair.access_token, Kind::Refresh, 1_000_000),
            Err(TokenError::WrongKind)
        );
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let pair = Tokens::new(SigningKey::random(), 15).issue(&user(), Uuid::nil(), "r".into(), 0);
        let other = Tokens::new(SigningKey::random(), 15);
        assert_eq!(
            other.verify(&pair.access_token, Kind::Access, 0),
            Err(TokenError::Invalid)
        );
    }
}
