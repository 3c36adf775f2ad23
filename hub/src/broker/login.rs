//! Checking a door unit's MQTT login against the device table: the client id must be a
//! registered, enabled device, the user name must be that same id, and the password must match
//! the argon2 hash `rollcall-hub device add` stored.
//!
//! A door unit that presented a client certificate (`[mqtt.embedded.tls] client_auth`) proves
//! who it is with that instead: the device the certificate names must be the client id, and the
//! device must still be registered and enabled, so disabling a device revokes its certificate.
//! Its password, if it sends one, is not checked.
//!
//! argon2 is deliberately slow, so a door unit that reconnects often would cost the hub a
//! hash per reconnect. After one successful check the SHA-256 of the secret is remembered,
//! keyed by the device and the stored hash it was checked against: re-registering the device
//! (a new hash) or a different secret falls back to argon2, through the hub's one argon2 gate
//! (`auth::hashing`, shared with HTTP sign-ins): each run takes about 19 MiB, and a hundred
//! door units reconnecting together after a hub restart must not each get a blocking thread
//! and an allocator arena of their own. Door units wait their turn rather than being refused.

use std::collections::HashMap;
use std::sync::Mutex;

use super::cert::ClientCert;
use crate::auth::hashing::Hashing;
use rollcall_school::accounts::password;
use rollcall_school::clip::clip;
use rollcall_shared::DeviceId;
use rollcall_store::{Db, StoreError, devices};
use sha2::{Digest, Sha256};

/// Why a login was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("client id {0:?} is not a device id")]
    NotADevice(String),
    #[error("no user name and password")]
    NoLogin,
    #[error("user name {user:?} is not the client id")]
    UserMismatch { user: String },
    #[error("device {0} is not registered")]
    Unknown(DeviceId),
    #[error("device {0} is disabled")]
    Disabled(DeviceId),
    #[error("wrong secret for device {0}")]
    WrongSecret(DeviceId),
    #[error("the client certificate names device {cert}, not the client id {client}")]
    CertMismatch { cert: DeviceId, client: DeviceId },
    #[error("the client certificate names no device")]
    CertUnnamed,
    #[error("cannot check the login: {0}")]
    Store(String),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e.to_string())
    }
}

/// The login checker, shared by every connection.
#[derive(Debug)]
pub struct Logins {
    db: Db,
    verified: Mutex<HashMap<DeviceId, Verified>>,
    hashing: Hashing,
}

#[derive(Debug, Clone)]
struct Verified {
    stored_hash: String,
    secret_sha256: [u8; 32],
}

impl Logins {
    pub fn new(db: Db, hashing: Hashing) -> Self {
        Self {
            db,
            verified: Mutex::new(HashMap::new()),
            hashing,
        }
    }

    /// The device `client_id` names, when its certificate or else its login proves it is that
    /// device.
    pub async fn check(
        &self,
        client_id: &str,
        login: Option<(&str, &str)>,
        cert: ClientCert,
    ) -> Result<DeviceId, Refused> {
        let device: DeviceId = client_id
            .parse()
            .map_err(|_| Refused::NotADevice(clip(client_id)))?;
        let named = match cert {
            ClientCert::Absent => return self.check_secret(device, client_id, login).await,
            ClientCert::Unnamed => return Err(Refused::CertUnnamed),
            ClientCert::Device(named) => named,
        };
        if named != device {
            return Err(Refused::CertMismatch {
                cert: named,
                client: device,
            });
        }
        if let Some((user, _)) = login.filter(|(user, _)| *user != client_id) {
            return Err(Refused::UserMismatch { user: clip(user) });
        }
        self.registered(device).await?;
        Ok(device)
    }

    /// The password login: user name = client id, and the secret matching the stored hash.
    async fn check_secret(
        &self,
        device: DeviceId,
        client_id: &str,
        login: Option<(&str, &str)>,
    ) -> Result<DeviceId, Refused> {
        let (user, secret) = login.ok_or(Refused::NoLogin)?;
        if user != client_id {
            return Err(Refused::UserMismatch { user: clip(user) });
        }
        let stored_hash = self.registered(device).await?;
        let secret_sha256: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if self.remembered(device, &stored_hash, &secret_sha256) {
            return Ok(device);
        }
        let (secret, hash) = (secret.to_owned(), stored_hash.clone());
        let ok = self
            .hashing
            .run_waiting(move || password::verify(&secret, &hash))
            .await
            .map_err(|e| Refused::Store(e.to_string()))?;
        if !ok {
            return Err(Refused::WrongSecret(device));
        }
        let verified = Verified {
            stored_hash,
            secret_sha256,
        };
        self.lock().insert(device, verified);
        Ok(device)
    }

    /// The stored secret hash of `device`, when it is registered and enabled.
    async fn registered(&self, device: DeviceId) -> Result<String, Refused> {
        let stored = self
            .db
            .read(move |sql| devices::credential(sql, device))
            .await?;
        let (enabled, stored_hash) = stored.ok_or(Refused::Unknown(device))?;
        if !enabled {
            return Err(Refused::Disabled(device));
        }
        Ok(stored_hash)
    }

    fn remembered(&self, device: DeviceId, stored_hash: &str, secret_sha256: &[u8; 32]) -> bool {
        self.lock()
            .get(&device)
            .is_some_and(|v| v.stored_hash == stored_hash && &v.secret_sha256 == secret_sha256)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DeviceId, Verified>> {
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }
}
