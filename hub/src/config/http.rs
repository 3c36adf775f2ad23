//! `[http]`: the listener of the pages and the API, its TLS files, and its connection
//! limits. Only the settings and their checks; serving them is `crate::server`.

use std::net::SocketAddr;
use std::path::PathBuf;

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::{MAX_CONNECTIONS, invalid, within};

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    pub allow_plain_http: bool,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<TlsFiles>,
    /// Most connections open at once; more are closed as soon as they are accepted.
    pub max_connections: u32,
    /// How long a client may take to send a request's headers (also the wait for the next
    /// request on a kept-alive HTTP/1.1 connection).
    pub header_timeout_secs: u64,
    /// How long a connection may stay open with no request in progress.
    pub idle_timeout_secs: u64,
    /// How long one request may take, body upload included, before it is answered 503.
    pub request_timeout_secs: u64,
}

/// A PEM certificate chain and its private key.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allow_plain_http: false,
            tls: None,
            max_connections: 4096,
            header_timeout_secs: 10,
            idle_timeout_secs: 60,
            request_timeout_secs: 60,
        }
    }
}

impl HttpConfig {
    /// Plain HTTP only on loopback (or with consent); caps and timeouts within range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tls.is_none() && !self.listen.ip().is_loopback() && !self.allow_plain_http {
            return invalid(
                "http.listen is not a loopback address: set [http.tls] cert and key for HTTPS \
                 (or http.allow_plain_http = true behind a TLS-terminating proxy)",
            );
        }
        let max = u64::from(MAX_CONNECTIONS);
        within("http.max_connections", self.max_connections.into(), 1, max)?;
        within("http.header_timeout_secs", self.header_timeout_secs, 1, 300)?;
        within("http.idle_timeout_secs", self.idle_timeout_secs, 1, 3600)?;
        within(
            "http.request_timeout_secs",
            self.request_timeout_secs,
            1,
            3600,
        )
    }
}
