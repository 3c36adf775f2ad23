//! The hub's typed configuration: defaults, then the TOML file, then `ROLLCALL_HUB_*`
//! environment variables (`ROLLCALL_HUB_HTTP__LISTEN=…`, see [`rollcall_runtime::config`]),
//! then the rules in [`Settings::validate`]. Owns nothing else: no I/O beyond reading the file
//! it is given.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rollcall_models::pipeline::model_id;
use rollcall_models::quality::QualityGate;
use rollcall_runtime::{ConfigError, Settings};
use rollcall_shared::{ModelId, SiteId, SiteZone};
use serde::Deserialize;

mod email;
mod roster;
mod store;
mod webhooks;

pub use email::{DigestConfig, EmailConfig, Security};
pub use roster::RosterConfig;
pub use store::StoreConfig;
pub use webhooks::{Event, WebhookConfig};

/// The commented example, printed by `rollcall-hub --print-default-config`.
pub const DEFAULT_CONFIG: &str = include_str!("../hub.example.toml");

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub site: SiteId,
    /// The school's time zone by IANA name; timetables and register dates are local to it.
    pub timezone: SiteZone,
    pub data_dir: PathBuf,
    /// Where the data is kept: SQLite in `data_dir`, or a shared PostgreSQL database.
    pub store: StoreConfig,
    pub http: HttpConfig,
    pub mqtt: MqttConfig,
    pub auth: AuthConfig,
    pub retention: RetentionConfig,
    pub backup: BackupConfig,
    pub provisioning: ProvisioningConfig,
    pub devices: DevicesConfig,
    pub metrics: MetricsConfig,
    pub ingest: IngestConfig,
    pub attendance: AttendanceConfig,
    pub register: RegisterConfig,
    pub reports: ReportsConfig,
    pub gallery: GalleryConfig,
    pub faces: FacesConfig,
    pub roster: RosterConfig,
    /// Signed HTTP callbacks for events (`[[webhooks]]`, any number).
    pub webhooks: Vec<WebhookConfig>,
    /// The daily e-mail digest (`[email]`); none when absent.
    pub email: Option<EmailConfig>,
    pub secrets: Secrets,
}

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
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub access_token_minutes: u32,
    /// A refresh token unused this many days has expired.
    pub refresh_token_days: u32,
    /// A sign-in ends this many days after its login, however often it is refreshed.
    pub signin_max_days: u32,
    /// Failed logins per user name (from any address) within a minute before 429.
    #[serde(alias = "failed_logins_per_minute")]
    pub failed_logins_per_user: u32,
    /// Failed logins per client address (for any user names) within a minute before 429.
    pub failed_logins_per_address: u32,
    /// Most user names, and most addresses, the login limiter remembers.
    pub limiter_max_tracked: u32,
    /// argon2 computations (logins, password and device-secret hashing, door-unit logins)
    /// running at once; each takes about 19 MiB.
    pub hashing_at_once: u32,
    /// How long a login waits for an argon2 slot before the answer is 503, in milliseconds.
    pub hashing_max_wait_ms: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days a decided record keeps its face crop and embedding.
    pub thumbnail_days: u32,
    /// Days before the rest of a record (who, where, when, the decision) goes.
    pub record_days: u32,
    /// Days a face nobody decided about waits before it is set aside, crop and embedding gone.
    pub undecided_days: u32,
    /// Days after a student left their last class before their enrolment faces are deleted.
    pub leaver_days: u32,
    /// Years the register (closed sessions and amendments) is kept.
    pub register_years: u32,
}

/// Scheduled backups of the database (`crate::backup`); off unless `dir` is set.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where backups are written, as `hub-<UTC time>.sqlite3`.
    pub dir: Option<PathBuf>,
    /// Hours between backups.
    pub every_hours: u32,
    /// How many backups are kept; the oldest beyond this are deleted.
    pub keep: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: None,
            every_hours: 24,
            keep: 7,
        }
    }
}

/// Prometheus metrics on a listener of their own (`crate::prometheus`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served (plain HTTP); unset: nowhere.
    pub listen: Option<SocketAddr>,
    /// Serve it on a non-loopback address (firewall it to the Prometheus server).
    pub allow_remote: bool,
}

/// Looking after door units.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DevicesConfig {
    /// A door unit not heard from for this many minutes is flagged on the Devices page (it
    /// sends a heartbeat every 30 s).
    pub silent_after_minutes: u32,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        Self {
            silent_after_minutes: 10,
        }
    }
}

/// One-code provisioning of door units (`rollcall-edge enrol`, docs/PI.md).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProvisioningConfig {
    /// The hub's address as door units reach it (`https://hub.school.lan:8443`), for the
    /// command shown with a code; unset: the address the admin's browser used.
    pub hub_url: Option<String>,
    /// The broker's address as door units reach it (`mqtts://hub.school.lan:8883`); unset: the
    /// embedded broker's port on the host name the door unit used for the hub, or
    /// `mqtt.broker` with an external broker.
    pub broker_url: Option<String>,
    /// PEM file of the CA door units trust for the broker; unset: the top certificate of
    /// `[mqtt.embedded.tls] cert`, or `[mqtt.transport.tls] ca_file` with an external broker.
    pub broker_ca_file: Option<PathBuf>,
    /// How long a code lasts, in minutes.
    pub code_minutes: u32,
    /// Wrong codes allowed per client address in a minute; then that address waits.
    pub wrong_codes_per_address: u32,
    /// Wrong codes allowed in a minute from all addresses together.
    pub wrong_codes_per_minute: u32,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        Self {
            hub_url: None,
            broker_url: None,
            broker_ca_file: None,
            code_minutes: 15,
            wrong_codes_per_address: 10,
            wrong_codes_per_minute: 100,
        }
    }
}

/// Which records from door units are believed; the rest go to quarantine.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// A record captured longer ago than this when it arrives is quarantined.
    pub max_record_age_hours: u32,
    /// A record captured further ahead of the hub's clock than this is quarantined.
    pub max_clock_skew_minutes: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AttendanceConfig {
    pub late_after_minutes: u32,
    pub early_minutes: u32,
    /// Gone: the fixed offset could not follow daylight saving. Read only to say so.
    #[serde(rename = "utc_offset_minutes")]
    pub retired_utc_offset: Option<i32>,
}

/// When sessions are written into the register, and locked.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterConfig {
    /// Minutes after a session ends before its register is written: records from a door unit
    /// that was briefly offline, and teachers' last marks, still count until then.
    pub close_after_minutes: u32,
    /// Seconds between looks for sessions to close.
    pub check_every_secs: u32,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        Self {
            close_after_minutes: 30,
            check_every_secs: 60,
        }
    }
}

/// What the school-wide reports flag.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// A student whose attendance rate is below this fraction is at risk. England's
    /// persistent absence is attendance below 90 %, hence the default.
    pub at_risk_below: f64,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self { at_risk_below: 0.9 }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GalleryConfig {
    pub model: ModelId,
}

/// Photo enrolment: the face pipeline the hub runs on uploaded photos.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FacesConfig {
    /// Load the face models at start (required for `POST /students/{id}/faces`).
    pub enabled: bool,
    /// Where the weights live; unset means `ROLLCALL_MODELS_DIR`, then the user's data dir.
    pub models_dir: Option<PathBuf>,
    /// What an enrolment photo's face must meet.
    pub gate: QualityGate,
    /// Largest photo accepted, in megapixels (width × height / 1,000,000), read from the
    /// image's header before it is decoded.
    pub max_photo_megapixels: u32,
}

impl Default for FacesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            models_dir: None,
            gate: QualityGate::enrolment(),
            max_photo_megapixels: 40,
        }
    }
}

/// Credentials, kept apart from the tunables; `Debug` never prints them.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Secrets {
    pub mqtt_username: Option<String>,
    pub mqtt_password: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("Secrets")
            .field("mqtt_username", &self.mqtt_username)
            .field("mqtt_password", &redact(&self.mqtt_password))
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            site: SiteId::new("school").expect("valid default site"),
            timezone: SiteZone::system().unwrap_or_else(|_| SiteZone::utc()),
            data_dir: PathBuf::from("/var/lib/rollcall-hub"),
            store: StoreConfig::default(),
            http: HttpConfig::default(),
            mqtt: MqttConfig::default(),
            auth: AuthConfig::default(),
            retention: RetentionConfig::default(),
            backup: BackupConfig::default(),
            provisioning: ProvisioningConfig::default(),
            devices: DevicesConfig::default(),
            metrics: MetricsConfig::default(),
            ingest: IngestConfig::default(),
            attendance: AttendanceConfig::default(),
            register: RegisterConfig::default(),
            reports: ReportsConfig::default(),
            gallery: GalleryConfig::default(),
            faces: FacesConfig::default(),
            roster: RosterConfig::default(),
            webhooks: Vec::new(),
            email: None,
            secrets: Secrets::default(),
        }
    }
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
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_minutes: 15,
            refresh_token_days: 7,
            signin_max_days: 30,
            failed_logins_per_user: 10,
            failed_logins_per_address: 20,
            limiter_max_tracked: 10_000,
            hashing_at_once: 2,
            hashing_max_wait_ms: 2_000,
        }
    }
}

impl AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let within = |name: &str, value: u32, range: std::ops::RangeInclusive<u32>| {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::invalid(format!(
                    "auth.{name} must be {} to {} (it is {value})",
                    range.start(),
                    range.end()
                )))
            }
        };
        within("access_token_minutes", self.access_token_minutes, 1..=1440)?;
        within("refresh_token_days", self.refresh_token_days, 1..=365)?;
        within("signin_max_days", self.signin_max_days, 1..=365)?;
        within(
            "failed_logins_per_user",
            self.failed_logins_per_user,
            1..=10_000,
        )?;
        within(
            "failed_logins_per_address",
            self.failed_logins_per_address,
            1..=10_000,
        )?;
        within(
            "limiter_max_tracked",
            self.limiter_max_tracked,
            1..=1_000_000,
        )?;
        within("hashing_at_once", self.hashing_at_once, 1..=64)?;
        within("hashing_max_wait_ms", self.hashing_max_wait_ms, 0..=60_000)
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            thumbnail_days: 30,
            record_days: 400,
            undecided_days: 14,
            leaver_days: 30,
            register_years: 6,
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_record_age_hours: 7 * 24,
            max_clock_skew_minutes: 10,
        }
    }
}

impl Default for AttendanceConfig {
    fn default() -> Self {
        Self {
            late_after_minutes: 10,
            early_minutes: 10,
            retired_utc_offset: None,
        }
    }
}

impl Default for GalleryConfig {
    fn default() -> Self {
        Self { model: model_id() }
    }
}

impl Config {
    /// Defaults, then `path`, then the environment; validated.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        rollcall_runtime::config::load(path)
    }

    /// How sessions and marks are computed.
    pub fn rules(&self) -> crate::attendance::Rules {
        crate::attendance::Rules {
            zone: self.timezone.clone(),
            late_after_minutes: self.attendance.late_after_minutes,
            early_minutes: self.attendance.early_minutes,
        }
    }

    /// `text` over the defaults, without the environment or the rules (tests, examples).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        rollcall_runtime::config::parse(text, "hub.toml")
    }
}

impl Settings for Config {
    const ENV_PREFIX: &'static str = "ROLLCALL_HUB_";
    const ENV_ALIASES: &'static [(&'static str, &'static str)] = &[
        ("ROLLCALL_HUB_HTTP_LISTEN", "HTTP__LISTEN"),
        ("ROLLCALL_HUB_MQTT_LISTEN", "MQTT__EMBEDDED__LISTEN"),
        ("ROLLCALL_HUB_MQTT_BROKER", "MQTT__BROKER"),
        ("ROLLCALL_HUB_MQTT_USERNAME", "SECRETS__MQTT_USERNAME"),
        ("ROLLCALL_HUB_MQTT_PASSWORD", "SECRETS__MQTT_PASSWORD"),
    ];

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::invalid(m));
        if !self.site.is_valid() || !self.gallery.model.is_valid() {
            return invalid(
                "site and gallery.model must be 1 to 48 (64) characters of a-z, 0-9, '-', '_' or '.'",
            );
        }
        let plain = self.http.tls.is_none();
        if plain && !self.http.listen.ip().is_loopback() && !self.http.allow_plain_http {
            return invalid(
                "http.listen is not a loopback address: set [http.tls] cert and key for HTTPS \
                 (or http.allow_plain_http = true behind a TLS-terminating proxy)",
            );
        }
        let embedded = &self.mqtt.embedded;
        if self.mqtt.mode == MqttMode::Embedded
            && embedded.tls.is_none()
            && !embedded.listen.ip().is_loopback()
            && !embedded.allow_plain_mqtt
        {
            return invalid(
                "mqtt.embedded.listen is not a loopback address: set [mqtt.embedded.tls] cert and \
                 key for MQTT over TLS (or mqtt.embedded.allow_plain_mqtt = true on an isolated network)",
            );
        }
        if let Some(tls) = &embedded.tls
            && tls.client_auth == ClientAuth::Off
            && tls.client_ca.is_some()
        {
            return invalid(
                "mqtt.embedded.tls.client_ca is set but client_auth is \"off\": set client_auth = \
                 \"optional\" or \"required\" to accept door units' client certificates",
            );
        }
        self.validate_limits()?;
        if self.mqtt.mode == MqttMode::External
            && self.mqtt_nodes().len() != 1 + self.mqtt.other_nodes.len()
        {
            return invalid("mqtt.broker and each of mqtt.other_nodes must be HOST:PORT");
        }
        if self.mqtt.mode == MqttMode::Embedded && !self.mqtt.other_nodes.is_empty() {
            return invalid(
                "mqtt.other_nodes lists an external broker's nodes: it needs mode = \"external\"",
            );
        }
        self.auth.validate()?;
        self.roster.validate()?;
        let ingest = &self.ingest;
        if ingest.max_record_age_hours == 0
            || ingest.max_record_age_hours > self.retention.record_days.saturating_mul(24)
        {
            return invalid(
                "ingest.max_record_age_hours must be positive and at most 24 × retention.record_days \
                 (older records would be deleted as they arrive)",
            );
        }
        if ingest.max_clock_skew_minutes > 24 * 60 {
            return invalid("ingest.max_clock_skew_minutes must be at most 1440 (a day)");
        }
        let r = &self.retention;
        if r.undecided_days.saturating_mul(24) < ingest.max_record_age_hours
            || r.undecided_days > r.record_days
        {
            return invalid(
                "retention.undecided_days must be at least ingest.max_record_age_hours / 24 (a \
                 late record would be set aside as it arrives) and at most retention.record_days",
            );
        }
        if !(1..=100).contains(&r.register_years) {
            return invalid("retention.register_years must be 1 to 100");
        }
        let b = &self.backup;
        if !(1..=24 * 31).contains(&b.every_hours) || !(1..=400).contains(&b.keep) {
            return invalid("backup.every_hours must be 1 to 744 and backup.keep 1 to 400");
        }
        if let Some(listen) = self.metrics.listen
            && !listen.ip().is_loopback()
            && !self.metrics.allow_remote
        {
            return invalid(
                "metrics.listen is not a loopback address: metrics are served without a password, \
                 so set metrics.allow_remote = true only where a firewall lets the Prometheus server \
                 alone reach it",
            );
        }
        if !(1..=7 * 24 * 60).contains(&self.devices.silent_after_minutes) {
            return invalid("devices.silent_after_minutes must be 1 to 10080 (a week)");
        }
        let p = &self.provisioning;
        if !(1..=7 * 24 * 60).contains(&p.code_minutes)
            || !(1..=10_000).contains(&p.wrong_codes_per_address)
            || !(1..=100_000).contains(&p.wrong_codes_per_minute)
        {
            return invalid(
                "provisioning.code_minutes must be 1 to 10080, wrong_codes_per_address 1 to \
                 10000 and wrong_codes_per_minute 1 to 100000",
            );
        }
        if let Some(url) = &p.hub_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return invalid("provisioning.hub_url must start with https:// (or http://)");
        }
        if let Some(url) = &p.broker_url
            && !(url.starts_with("mqtts://") || url.starts_with("mqtt://"))
        {
            return invalid("provisioning.broker_url must start with mqtts:// (or mqtt://)");
        }
        for hook in &self.webhooks {
            hook.validate().map_err(ConfigError::invalid)?;
        }
        if let Some(email) = &self.email {
            email.validate().map_err(ConfigError::invalid)?;
        }
        self.store.validate().map_err(ConfigError::invalid)?;
        if self.store.url.is_some() && self.backup.dir.is_some() {
            return invalid(
                "backup.dir copies the SQLite file; with store.url, back PostgreSQL up with its \
                 own tools (pg_dump, continuous archiving) and leave backup.dir out",
            );
        }
        if self.register.close_after_minutes > 24 * 60 {
            return invalid("register.close_after_minutes must be at most 1440 (a day)");
        }
        if !(1..=3600).contains(&self.register.check_every_secs) {
            return invalid("register.check_every_secs must be 1 to 3600");
        }
        let at_risk = self.reports.at_risk_below;
        if !(at_risk > 0.0 && at_risk <= 1.0) {
            return invalid(
                "reports.at_risk_below must be a fraction above 0 and at most 1 (0.9 is 90 %)",
            );
        }
        if self.attendance.retired_utc_offset.is_some() {
            return invalid(
                "attendance.utc_offset_minutes is no longer read (a fixed offset cannot follow \
                 daylight saving): delete it and set timezone = \"Area/City\" at the top of \
                 the file, e.g. timezone = \"Europe/London\"",
            );
        }
        if self.mqtt.client_id.is_empty() || self.mqtt.keep_alive_secs < 5 {
            return invalid("mqtt.client_id must be set and mqtt.keep_alive_secs at least 5");
        }
        if self.faces.enabled && self.gallery.model != model_id() {
            return invalid(&format!(
                "photo enrolment makes {} embeddings: set gallery.model to it, or faces.enabled = false",
                model_id()
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Connection caps, timeouts and the photo budget: each within its accepted range.
    fn validate_limits(&self) -> Result<(), ConfigError> {
        let (http, embedded) = (&self.http, &self.mqtt.embedded);
        let max = u64::from(MAX_CONNECTIONS);
        within("http.max_connections", http.max_connections.into(), 1, max)?;
        within("http.header_timeout_secs", http.header_timeout_secs, 1, 300)?;
        within("http.idle_timeout_secs", http.idle_timeout_secs, 1, 3600)?;
        within(
            "http.request_timeout_secs",
            http.request_timeout_secs,
            1,
            3600,
        )?;
        let mqtt_max = embedded.max_connections.into();
        within("mqtt.embedded.max_connections", mqtt_max, 1, max)?;
        let connect = embedded.connect_timeout_secs;
        within("mqtt.embedded.connect_timeout_secs", connect, 1, 300)?;
        let megapixels = self.faces.max_photo_megapixels.into();
        within(
            "faces.max_photo_megapixels",
            megapixels,
            1,
            MAX_PHOTO_MEGAPIXELS,
        )
    }

    /// `mqtt.broker`, then `mqtt.other_nodes`, as host and port, leaving out any that is
    /// not `HOST:PORT`: the nodes of the external broker in the order they are tried.
    pub fn mqtt_nodes(&self) -> Vec<(String, u16)> {
        std::iter::once(&self.mqtt.broker)
            .chain(&self.mqtt.other_nodes)
            .filter_map(|node| host_port(node))
            .collect()
    }

    /// The CA door units' client certificates must chain to, and whether they must present
    /// one; `None` when the embedded broker asks for none.
    pub fn broker_client_ca(&self) -> Option<(PathBuf, ClientAuth)> {
        let tls = self.mqtt.embedded.tls.as_ref()?;
        if tls.client_auth == ClientAuth::Off {
            return None;
        }
        let ca = tls.client_ca.clone();
        let ca = ca.unwrap_or_else(|| crate::device_ca::ca_cert_path(&self.data_dir));
        Some((ca, tls.client_auth))
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(crate::store::DATABASE_FILE)
    }
}

fn host_port(node: &str) -> Option<(String, u16)> {
    let (host, port) = node.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?)).filter(|(host, _)| !host.is_empty())
}

/// Most connections one listener may be allowed (far above any open-file limit in use).
pub const MAX_CONNECTIONS: u32 = 1_000_000;
/// The largest photo budget: 12,000 × 12,000, the most a side may have.
const MAX_PHOTO_MEGAPIXELS: u64 = 144;

/// `value` of setting `name` within `min..=max`, or an error naming both.
fn within(name: &str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(ConfigError::invalid(format!(
        "{name} is {value}; it must be between {min} and {max}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let parsed = Config::parse(DEFAULT_CONFIG).unwrap();
        assert_eq!(parsed, Config::default());
        parsed.validate().unwrap();
    }

    #[test]
    fn the_time_zone_is_a_tz_database_name() {
        let c = Config::parse("timezone = \"America/New_York\"").unwrap();
        assert_eq!(c.timezone.name(), "America/New_York");
        assert_eq!(c.rules().zone, c.timezone);
        let e = Config::parse("timezone = \"+01:00\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Area/City"), "{e}");
        let london = with_env("", &[("ROLLCALL_HUB_TIMEZONE", "Europe/London")]).unwrap();
        assert_eq!(london.timezone.name(), "Europe/London");
        assert!(with_env("", &[("ROLLCALL_HUB_TIMEZONE", "Europe")]).is_err());
    }

    #[test]
    fn an_external_brokers_nodes_are_each_host_and_port() {
        let c = Config::parse(
            "[mqtt]\nmode = \"external\"\nbroker = \"mqtt-1.lan:8883\"\n\
             other_nodes = [\"mqtt-2.lan:8883\", \"10.0.0.3:8883\"]",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(
            c.mqtt_nodes(),
            [
                ("mqtt-1.lan".to_owned(), 8883),
                ("mqtt-2.lan".to_owned(), 8883),
                ("10.0.0.3".to_owned(), 8883)
            ]
        );
        let embedded = Config::parse("[mqtt]\nother_nodes = [\"mqtt-2.lan:8883\"]").unwrap();
        let e = embedded.validate().unwrap_err().to_string();
        assert!(e.contains("mode = \"external\""), "{e}");
        for bad in ["mqtt-2.lan", ":8883", "mqtt-2.lan:port"] {
            let c = Config::parse(&format!(
                "[mqtt]\nmode = \"external\"\nother_nodes = [\"{bad}\"]"
            ))
            .unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("mqtt.other_nodes"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_at_risk_threshold_is_a_fraction() {
        let c = Config::parse("[reports]\nat_risk_below = 0.8").unwrap();
        assert_eq!(c.reports.at_risk_below, 0.8);
        c.validate().unwrap();
        for bad in ["0.0", "1.5", "-0.1", "90.0", "nan"] {
            let c = Config::parse(&format!("[reports]\nat_risk_below = {bad}")).unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("reports.at_risk_below"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_retired_fixed_offset_says_what_replaced_it() {
        let old = Config::parse("[attendance]\nutc_offset_minutes = 60").unwrap();
        let e = old.validate().unwrap_err().to_string();
        assert!(
            e.contains("timezone = ") && e.contains("utc_offset_minutes"),
            "{e}"
        );
    }

    #[test]
    fn a_typo_is_an_error() {
        assert!(Config::parse("sitee = \"x\"").is_err());
        assert!(Config::parse("[http]\nlisten_addr = \"127.0.0.1:1\"").is_err());
        let bad_site = Config::parse("site = \"Main School\"").unwrap();
        assert!(bad_site.validate().is_err());
    }

    #[test]
    fn limits_out_of_range_name_the_setting_and_the_range() {
        for (toml, name) in [
            ("[http]\nmax_connections = 0", "http.max_connections"),
            (
                "[http]\nheader_timeout_secs = 0",
                "http.header_timeout_secs",
            ),
            (
                "[http]\nrequest_timeout_secs = 86400",
                "http.request_timeout_secs",
            ),
            (
                "[mqtt.embedded]\nconnect_timeout_secs = 0",
                "mqtt.embedded.connect_timeout_secs",
            ),
            (
                "[faces]\nmax_photo_megapixels = 145",
                "faces.max_photo_megapixels",
            ),
        ] {
            let message = Config::parse(toml)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string();
            assert!(
                message.contains(name) && message.contains("between"),
                "{message}"
            );
        }
    }

    #[test]
    fn plain_http_off_loopback_needs_consent() {
        let mut c = Config::parse("[http]\nlisten = \"0.0.0.0:8080\"").unwrap();
        assert!(c.validate().is_err());
        c.http.allow_plain_http = true;
        c.validate().unwrap();
        let tls =
            "[http]\nlisten = \"0.0.0.0:8443\"\n[http.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"";
        Config::parse(tls).unwrap().validate().unwrap();
    }

    #[test]
    fn the_embedded_broker_is_the_default_and_needs_tls_off_loopback() {
        let mut c = Config::default();
        assert_eq!(c.mqtt.mode, MqttMode::Embedded);
        c.mqtt.embedded.listen = "0.0.0.0:8883".parse().unwrap();
        assert!(c.validate().is_err());
        c.mqtt.embedded.allow_plain_mqtt = true;
        c.validate().unwrap();
        let tls = "[mqtt.embedded]\nlisten = \"0.0.0.0:8883\"\n[mqtt.embedded.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"";
        Config::parse(tls).unwrap().validate().unwrap();
        let external = Config::parse("[mqtt]\nmode = \"external\"\nbroker = \"nope\"").unwrap();
        assert!(external.validate().is_err());
        assert!(Config::parse("[mqtt]\nmode = \"cloud\"").is_err());
    }

    #[test]
    fn client_certificates_default_to_the_hubs_own_device_ca() {
        let base = "[mqtt.embedded]\nlisten = \"0.0.0.0:8883\"\n[mqtt.embedded.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
        let off = Config::parse(base).unwrap();
        assert_eq!(off.broker_client_ca(), None);
        let required = Config::parse(&format!("{base}client_auth = \"required\"")).unwrap();
        required.validate().unwrap();
        let expected = required.data_dir.join("device-ca.pem");
        assert_eq!(
            required.broker_client_ca(),
            Some((expected, ClientAuth::Required))
        );
        let own = format!("{base}client_auth = \"optional\"\nclient_ca = \"/etc/school-ca.pem\"");
        let own = Config::parse(&own).unwrap();
        assert_eq!(
            own.broker_client_ca(),
            Some(("/etc/school-ca.pem".into(), ClientAuth::Optional))
        );
        let unused = Config::parse(&format!("{base}client_ca = \"ca.pem\"")).unwrap();
        let message = unused.validate().unwrap_err().to_string();
        assert!(message.contains("client_auth"), "{message}");
        assert!(Config::parse(&format!("{base}client_auth = \"yes\"")).is_err());
    }

    #[test]
    fn the_broker_transport_is_tcp_or_a_tls_table() {
        let tls = "[mqtt.transport.tls]\nca_file = \"ca.pem\"\nclient_cert = \"c.pem\"\nclient_key = \"k.pem\"";
        let c = Config::parse(tls).unwrap();
        assert!(matches!(
            c.mqtt.transport,
            MqttTransport::Tls {
                client_cert: Some(_),
                ..
            }
        ));
        assert!(Config::parse("[mqtt.transport.tls]\nca = \"x\"").is_err());
        assert!(Config::parse("[mqtt]\ntransport = \"quic\"").is_err());
    }

    #[test]
    fn photo_enrolment_needs_the_pipeline_model_in_the_gallery() {
        let mut c = Config::default();
        c.gallery.model = ModelId::new("dlib-resnet-v1").unwrap();
        assert!(c.validate().is_err());
        c.faces.enabled = false;
        c.validate().unwrap();
    }

    /// `text` with the environment `vars`, validated, as `serve` reads its file.
    fn with_env(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        rollcall_runtime::config::load_str(text, "hub.toml", vars)
    }

    #[test]
    fn environment_overrides_the_file_and_secrets_are_redacted() {
        let c = with_env(
            "site = \"main\"\n[http]\nlisten = \"127.0.0.1:9000\"",
            &[
                ("ROLLCALL_HUB_SITE", "north"),
                ("ROLLCALL_HUB_HTTP__LISTEN", "127.0.0.1:9001"),
                ("ROLLCALL_HUB_MQTT__EMBEDDED__LISTEN", "127.0.0.1:9883"),
                ("ROLLCALL_HUB_MQTT_PASSWORD", "hunter2"),
            ],
        )
        .unwrap();
        assert_eq!(c.site.as_str(), "north");
        assert_eq!(c.http.listen.port(), 9001);
        assert_eq!(c.mqtt.embedded.listen.port(), 9883);
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("redacted"));
        assert!(with_env("", &[("ROLLCALL_HUB_SITE", "Bad Site")]).is_err());
        assert!(with_env("", &[("ROLLCALL_HUB_HTTP__LISTN", "127.0.0.1:1")]).is_err());
    }
}
