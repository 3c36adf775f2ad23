//! Why the hub could not start: one error for every step of starting it.

use rollcall_runtime::tls::TlsError;
use rollcall_school::enrol::LoadError;
use rollcall_store::StoreError;

use crate::auth::key::KeyError;

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Webhooks(String),
    #[error("{0}")]
    Email(String),
    /// `[notices.sms]` cannot be used (its header file, its address).
    #[error("{0}")]
    Notices(String),
    /// `[mis]` cannot be used (its secret file, its address).
    #[error("{0}")]
    Mis(String),
    #[error("{0}")]
    Oidc(String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Faces(#[from] LoadError),
    #[error(transparent)]
    FaceKeys(#[from] rollcall_store::keys::KeysError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("MQTT broker: {0}")]
    BrokerTls(TlsError),
    #[error("cannot listen for MQTT on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}
