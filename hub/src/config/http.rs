//! `[http]`: the listener of the pages and the API, its TLS files, its connection limits, the
//! limits per caller (`[http.limits]`) and the other sites' pages that may call the API
//! (`cors_origins`). Only the settings and their checks; serving them is `crate::server` and
//! `crate::http`.

use std::net::SocketAddr;
use std::path::PathBuf;

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::limits::LimitsConfig;
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
    /// How fast one caller may call the API.
    pub limits: LimitsConfig,
    /// The origins (`https://portal.school.example`) whose pages may call the API from a
    /// browser (CORS); none: only the hub's own pages.
    pub cors_origins: Vec<String>,
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
            limits: LimitsConfig::default(),
            cors_origins: Vec::new(),
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
        )?;
        self.limits.validate()?;
        self.cors_origins.iter().try_for_each(|o| origin(o))
    }
}

/// An origin as browsers send it: `http` or `https`, a host in lower case, a port if not the
/// scheme's own, and nothing after it (no path, not even `/`). `*` is refused: the API's
/// answers are about children, and each site that may read them is named.
fn origin(text: &str) -> Result<(), ConfigError> {
    let refuse = |why: &str| {
        invalid(format!(
            "http.cors_origins: {text:?} is not an origin ({why}); write it as a browser sends \
             it, like \"https://portal.school.example\" or \"http://localhost:3000\""
        ))
    };
    let Some((scheme, rest)) = text.split_once("://") else {
        return refuse("no scheme");
    };
    if scheme != "http" && scheme != "https" {
        return refuse("the scheme is neither http nor https");
    }
    match rest.parse::<warp::http::uri::Authority>() {
        _ if text != text.to_ascii_lowercase() => refuse("capital letters"),
        Ok(authority) if authority.as_str() == rest && !rest.contains('@') => Ok(()),
        _ => refuse("only a host and a port may follow the scheme"),
    }
}
