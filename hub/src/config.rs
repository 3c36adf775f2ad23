//! The hub's typed configuration: defaults, then the TOML file, then `ROLLCALL_HUB_*`
//! environment variables (`ROLLCALL_HUB_HTTP__LISTEN=…`, see [`rollcall_runtime::config`]),
//! then the rules in [`Settings::validate`]. Each section (`[http]`, `[mqtt]`, …) is a file of
//! its own under `config/` with its struct, its defaults and the rules that concern it alone
//! (the sections the school's rules read are `rollcall_school::settings`, used here as they are);
//! this file holds the whole, the environment's names, and the rules that tie sections
//! together. Owns nothing else: no I/O beyond reading the file it is given.

use std::path::{Path, PathBuf};

use rollcall_models::pipeline::model_id;
use rollcall_runtime::logging::LoggingConfig;
use rollcall_runtime::{ConfigError, Settings};
use rollcall_shared::{SiteId, SiteZone};
use serde::Deserialize;

mod auth;
mod backup;
mod devices;
mod district;
mod email;
mod faces;
mod gallery;
mod http;
mod ingest;
mod limits;
mod metrics;
mod mis;
mod mqtt;
mod notices;
mod provisioning;
mod rules;
pub mod schools;
mod secrets;
mod store;
mod web_url;
mod webhooks;

use rules::invalid;

pub use auth::{AuthConfig, OidcConfig};
pub use backup::BackupConfig;
pub use devices::DevicesConfig;
pub use district::DistrictConfig;
pub use email::{DigestConfig, EmailConfig, Security};
pub use faces::FacesConfig;
pub use gallery::GalleryConfig;
pub use http::{HttpConfig, TlsFiles};
pub use ingest::IngestConfig;
pub use limits::{Bucket, LimitsConfig};
pub use metrics::MetricsConfig;
pub use mis::{EdFiConfig, MisConfig, WondeConfig};
pub use mqtt::{BrokerTls, ClientAuth, EmbeddedBroker, MqttConfig, MqttMode, MqttTransport};
pub use notices::{Channel, NoticesConfig, SMS_PLACEHOLDERS, SmsConfig};
pub use provisioning::ProvisioningConfig;
pub use rollcall_school::settings::{
    AttendanceConfig, PrivacyConfig, RegisterConfig, ReportsConfig, RetentionConfig, RosterConfig,
};
pub use schools::{School, SchoolConfig};
pub use secrets::Secrets;
pub use store::StoreConfig;
pub use web_url::https_or_loopback;
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
    pub privacy: PrivacyConfig,
    /// Signed HTTP callbacks for events (`[[webhooks]]`, any number).
    pub webhooks: Vec<WebhookConfig>,
    /// The daily e-mail digest (`[email]`); none when absent.
    pub email: Option<EmailConfig>,
    /// Families told the same morning (`[notices]`); off unless enabled.
    pub notices: NoticesConfig,
    /// The register written back to the school's MIS (`[mis]`); off unless a connector is set.
    pub mis: MisConfig,
    pub secrets: Secrets,
    /// The schools this process serves when it serves several (`[[schools]]`); none: it is
    /// the one school the rest of the file describes.
    pub schools: Vec<SchoolConfig>,
    /// Who manages those schools (`[district]`).
    pub district: DistrictConfig,
    /// How log lines are written (`[logging] format = "json"`); the whole process's.
    pub logging: LoggingConfig,
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
            privacy: PrivacyConfig::default(),
            webhooks: Vec::new(),
            email: None,
            notices: NoticesConfig::default(),
            mis: MisConfig::default(),
            secrets: Secrets::default(),
            schools: Vec::new(),
            district: DistrictConfig::default(),
            logging: LoggingConfig::default(),
        }
    }
}

impl Config {
    /// Defaults, then `path`, then the environment; validated.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        rollcall_runtime::config::load(path)
    }

    /// How sessions and marks are computed.
    pub fn rules(&self) -> rollcall_school::attendance::Rules {
        rollcall_school::attendance::Rules {
            zone: self.timezone.clone(),
            late_after_minutes: self.attendance.late_after_minutes,
            early_minutes: self.attendance.early_minutes,
        }
    }

    /// `text` over the defaults, without the environment or the rules (tests, examples).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        rollcall_runtime::config::parse(text, "hub.toml")
    }

    /// Each school this process serves, with its whole configuration: the file's, or for each
    /// of `[[schools]]` the file's with that school's own settings over it.
    pub fn schools(&self) -> Result<Vec<School>, ConfigError> {
        if self.schools.is_empty() {
            let whole = School {
                config: self.clone(),
                hosts: Vec::new(),
            };
            return Ok(vec![whole]);
        }
        self.schools.iter().map(|s| self.school_of(s)).collect()
    }

    /// The configuration of the school whose site is `site`: the whole file when it lists no
    /// schools (and `site` is its own), else that school's of `[[schools]]`.
    pub fn school(&self, site: &str) -> Result<Self, ConfigError> {
        let schools = self.schools()?;
        let names = || {
            let names: Vec<_> = schools.iter().map(|s| s.config.site.to_string()).collect();
            names.join(", ")
        };
        match schools.iter().find(|s| s.config.site.as_str() == site) {
            Some(school) => Ok(school.config.clone()),
            None => Err(ConfigError::invalid(format!(
                "no school {site:?} in this configuration (it has: {})",
                names()
            ))),
        }
    }

    /// The one school a command works on: `site` when given, else the only one there is.
    pub fn one_school(&self, site: Option<&str>) -> Result<Self, ConfigError> {
        match site {
            Some(site) => self.school(site),
            None if self.schools.len() > 1 => Err(ConfigError::invalid(format!(
                "this configuration serves {} schools: name one with --school",
                self.schools.len()
            ))),
            None => Ok(self.schools()?.remove(0).config),
        }
    }

    /// The file's settings with `school`'s over them.
    pub fn school_of(&self, school: &SchoolConfig) -> Result<School, ConfigError> {
        let mut config = self.clone();
        config.schools = Vec::new();
        config.district = DistrictConfig::default();
        config.site = school.site.clone();
        config.store.schema = school.schema().map_err(ConfigError::invalid)?;
        if let Some(zone) = &school.timezone {
            config.timezone = zone.clone();
        }
        if let Some(attendance) = &school.attendance {
            config.attendance = attendance.clone();
        }
        if let Some(retention) = &school.retention {
            config.retention = retention.clone();
        }
        if let Some(webhooks) = &school.webhooks {
            config.webhooks = webhooks.clone();
        }
        if let Some(email) = &school.email {
            config.email = Some(email.clone());
        }
        if let Some(oidc) = &school.oidc {
            config.auth.oidc = Some(oidc.clone());
        }
        if let Some(notices) = &school.notices {
            config.notices = notices.clone();
        }
        if let Some(mis) = &school.mis {
            config.mis = mis.clone();
        }
        Ok(School {
            config,
            hosts: school.hosts.clone(),
        })
    }

    /// `mqtt.broker`, then `mqtt.other_nodes`, as host and port, leaving out any that is
    /// not `HOST:PORT`: the nodes of the external broker in the order they are tried.
    pub fn mqtt_nodes(&self) -> Vec<(String, u16)> {
        self.mqtt.nodes()
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
        self.data_dir.join(rollcall_store::DATABASE_FILE)
    }

    /// The file of keys that seal faces: `[privacy] face_key_file`, else `faces.key` in the
    /// data directory.
    pub fn face_key_path(&self) -> PathBuf {
        match &self.privacy.face_key_file {
            Some(path) => path.clone(),
            None => self.data_dir.join(rollcall_store::keys::KEY_FILE),
        }
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

    /// Each section's own rules (in its file), and those that tie sections together (below).
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_names()?;
        self.http.validate()?;
        self.mqtt.validate()?;
        self.faces.validate()?;
        self.auth.validate()?;
        self.roster.validate()?;
        self.ingest.validate()?;
        self.validate_record_windows()?;
        self.retention.validate()?;
        self.backup.validate()?;
        self.metrics.validate()?;
        self.devices.validate()?;
        self.provisioning.validate()?;
        self.validate_outputs()?;
        self.validate_store()?;
        self.validate_schools()?;
        self.register.validate()?;
        self.reports.validate()?;
        self.attendance.validate()?;
        self.validate_photo_model()
    }
}

/// The rules that concern more than one section.
impl Config {
    /// The site's name and the gallery's model name are well formed.
    fn validate_names(&self) -> Result<(), ConfigError> {
        if !self.site.is_valid() || !self.gallery.model.is_valid() {
            return invalid(
                "site and gallery.model must be 1 to 48 (64) characters of a-z, 0-9, '-', '_' or '.'",
            );
        }
        Ok(())
    }

    /// A record may arrive late, but never so late that retention would delete it, or set it
    /// aside, as it arrives.
    fn validate_record_windows(&self) -> Result<(), ConfigError> {
        let ingest = &self.ingest;
        if ingest.max_record_age_hours == 0
            || ingest.max_record_age_hours > self.retention.record_days.saturating_mul(24)
        {
            return invalid(
                "ingest.max_record_age_hours must be positive and at most 24 × retention.record_days \
                 (older records would be deleted as they arrive)",
            );
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
        Ok(())
    }

    /// Every webhook and the e-mail relay.
    fn validate_outputs(&self) -> Result<(), ConfigError> {
        for hook in &self.webhooks {
            hook.validate().map_err(ConfigError::invalid)?;
        }
        self.notices
            .validate(self.email.is_some())
            .map_err(ConfigError::invalid)?;
        self.mis.validate().map_err(ConfigError::invalid)?;
        if let Some(email) = &self.email {
            email.validate().map_err(ConfigError::invalid)?;
        }
        Ok(())
    }

    /// The store, and no SQLite file backup beside a PostgreSQL store.
    fn validate_store(&self) -> Result<(), ConfigError> {
        self.store.validate().map_err(ConfigError::invalid)?;
        if self.store.url.is_some() && self.backup.dir.is_some() {
            return invalid(
                "backup.dir copies the SQLite file; with store.url, back PostgreSQL up with its \
                 own tools (pg_dump, continuous archiving) and leave backup.dir out",
            );
        }
        Ok(())
    }

    /// Several schools in one process share a PostgreSQL database and an external broker (the
    /// embedded broker signs door units in against one school's table); each school's own
    /// rules hold with the file's.
    fn validate_schools(&self) -> Result<(), ConfigError> {
        let district = self.district.validate(&self.schools);
        district.map_err(ConfigError::invalid)?;
        if self.schools.is_empty() {
            return Ok(());
        }
        schools::validate(&self.schools).map_err(ConfigError::invalid)?;
        if self.store.url.is_none() {
            return invalid(
                "[[schools]] share a PostgreSQL database: set [store] url (on SQLite, run a \
                 hub per school, each with its own data directory)",
            );
        }
        if self.mqtt.mode != MqttMode::External {
            return invalid(
                "[[schools]] take their door units' records through an external broker: set \
                 mqtt.mode = \"external\" (the embedded broker serves one school)",
            );
        }
        for school in self.schools()? {
            let config = &school.config;
            let checked = (config.validate_record_windows())
                .and_then(|()| config.validate_outputs())
                .and_then(|()| config.auth.validate());
            checked.map_err(|e| match e {
                ConfigError::Invalid(problems) => {
                    let site = config.site.as_str();
                    let named = problems.iter().map(|p| format!("schools: {site:?}: {p}"));
                    ConfigError::Invalid(named.collect())
                }
                other => other,
            })?;
        }
        Ok(())
    }

    /// Photo enrolment's embeddings are the gallery's.
    fn validate_photo_model(&self) -> Result<(), ConfigError> {
        if self.faces.enabled && self.gallery.model != model_id() {
            return invalid(format!(
                "photo enrolment makes {} embeddings: set gallery.model to it, or faces.enabled = false",
                model_id()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
