//! `[mqtt]`: who runs the broker the door units talk to: the hub's embedded broker (its
//! listener, TLS and client certificates) or an external one (its nodes and transport), and
//! the hub's own client settings. Only the settings and their checks; the broker is
//! `crate::broker`, the client `crate::ingest`.

use std::net::SocketAddr;
use std::path::PathBuf;

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::{MAX_CONNECTIONS, invalid, within};

/// Who runs the broker the door units talk to.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MqttMode {
    /// The hub is the broker: door units connect to `[mqtt.embedded] listen`.
    #[default]
    Embedded,
    /// The hub is a client of an external broker (Mosquitto, EMQX) at `mqtt.broker`.
    External,
}

/// The broker inside the hub (`mode = "embedded"`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedBroker {
    /// Where door units connect.
    pub listen: SocketAddr,
    /// Serve plain MQTT on a non-loopback address (only on a trusted, isolated network).
    pub allow_plain_mqtt: bool,
    /// Serve MQTT over TLS with this certificate chain and key (PEM files), and optionally
    /// accept door units' client certificates.
    pub tls: Option<BrokerTls>,
    /// Most door units connected at once; more are refused until one leaves.
    pub max_connections: u32,
    /// How long a client may take over its TLS handshake and its CONNECT packet, together.
    pub connect_timeout_secs: u64,
}

impl Default for EmbeddedBroker {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 1883)),
            allow_plain_mqtt: false,
            tls: None,
            max_connections: 1024,
            connect_timeout_secs: 10,
        }
    }
}

/// The embedded broker's TLS: its certificate chain and key, and whether door units log in
/// with client certificates.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrokerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// The CA door units' client certificates must chain to; unset means the hub's own
    /// door-unit CA in the data directory (`device-ca.pem`, made when the hub starts).
    pub client_ca: Option<PathBuf>,
}

impl BrokerTls {
    /// Server TLS only: door units log in with their passwords.
    pub fn new(cert: PathBuf, key: PathBuf) -> Self {
        Self {
            cert,
            key,
            client_auth: ClientAuth::Off,
            client_ca: None,
        }
    }
}

/// Whether door units present client certificates to the embedded broker.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// None are asked for: every door unit logs in with its password.
    #[default]
    Off,
    /// A door unit may present one (then its password is not needed) or log in with its
    /// password.
    Optional,
    /// Every door unit must present one; a connection without is refused at the handshake.
    Required,
}

/// How the hub reaches an external broker: `transport = "tcp"`, or a `[mqtt.transport.tls]`
/// table.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum MqttTransport {
    Tcp,
    /// TLS trusting only `ca_file`; a client certificate when the broker requires one.
    Tls {
        ca_file: PathBuf,
        client_cert: Option<PathBuf>,
        client_key: Option<PathBuf>,
    },
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    pub mode: MqttMode,
    pub embedded: EmbeddedBroker,
    /// The external broker's `HOST:PORT` (`mode = "external"`).
    pub broker: String,
    /// The other nodes of a clustered external broker, each `HOST:PORT`: when the node in use
    /// cannot be reached, the next is tried (`broker` first, then these in turn, round).
    pub other_nodes: Vec<String>,
    pub transport: MqttTransport,
    pub client_id: String,
    pub keep_alive_secs: u64,
    /// The school's hubs take the door units' records through one shared subscription, so
    /// that the broker hands each record to one hub (`mode = "external"`, a broker with MQTT
    /// shared subscriptions: Mosquitto 2, not NATS 2.9). Off: every hub receives every record
    /// and keeps those of the door units it answers.
    pub shared_subscriptions: bool,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            mode: MqttMode::Embedded,
            embedded: EmbeddedBroker::default(),
            broker: "127.0.0.1:1883".into(),
            other_nodes: Vec::new(),
            transport: MqttTransport::Tcp,
            client_id: "rollcall-hub".into(),
            keep_alive_secs: 30,
            shared_subscriptions: false,
        }
    }
}

impl MqttConfig {
    /// The embedded broker's listener, TLS and limits, the external broker's nodes, and the
    /// hub's client settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.embedded.validate(self.mode)?;
        self.validate_nodes()?;
        if self.client_id.is_empty() || self.keep_alive_secs < 5 {
            return invalid("mqtt.client_id must be set and mqtt.keep_alive_secs at least 5");
        }
        if self.shared_subscriptions && self.mode != MqttMode::External {
            return invalid(
                "mqtt.shared_subscriptions shares records between hubs on an external broker: \
                 it needs mode = \"external\"",
            );
        }
        Ok(())
    }

    /// Every node of an external broker is `HOST:PORT`; an embedded broker has none.
    fn validate_nodes(&self) -> Result<(), ConfigError> {
        if self.mode == MqttMode::External && self.nodes().len() != 1 + self.other_nodes.len() {
            return invalid("mqtt.broker and each of mqtt.other_nodes must be HOST:PORT");
        }
        if self.mode == MqttMode::Embedded && !self.other_nodes.is_empty() {
            return invalid(
                "mqtt.other_nodes lists an external broker's nodes: it needs mode = \"external\"",
            );
        }
        Ok(())
    }

    /// `broker`, then `other_nodes`, as host and port, leaving out any that is not
    /// `HOST:PORT`: the nodes of the external broker in the order they are tried.
    pub fn nodes(&self) -> Vec<(String, u16)> {
        std::iter::once(&self.broker)
            .chain(&self.other_nodes)
            .filter_map(|node| host_port(node))
            .collect()
    }
}

impl EmbeddedBroker {
    /// Plain MQTT only on loopback (or with consent), a client CA only with client
    /// certificates, caps and timeouts within range. `mode`: whether it runs at all.
    fn validate(&self, mode: MqttMode) -> Result<(), ConfigError> {
        if mode == MqttMode::Embedded
            && self.tls.is_none()
            && !self.listen.ip().is_loopback()
            && !self.allow_plain_mqtt
        {
            return invalid(
                "mqtt.embedded.listen is not a loopback address: set [mqtt.embedded.tls] cert and \
                 key for MQTT over TLS (or mqtt.embedded.allow_plain_mqtt = true on an isolated network)",
            );
        }
        if let Some(tls) = &self.tls
            && tls.client_auth == ClientAuth::Off
            && tls.client_ca.is_some()
        {
            return invalid(
                "mqtt.embedded.tls.client_ca is set but client_auth is \"off\": set client_auth = \
                 \"optional\" or \"required\" to accept door units' client certificates",
            );
        }
        let max = u64::from(MAX_CONNECTIONS);
        let mqtt_max = self.max_connections.into();
        within("mqtt.embedded.max_connections", mqtt_max, 1, max)?;
        let connect = self.connect_timeout_secs;
        within("mqtt.embedded.connect_timeout_secs", connect, 1, 300)
    }
}

fn host_port(node: &str) -> Option<(String, u16)> {
    let (host, port) = node.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?)).filter(|(host, _)| !host.is_empty())
}
