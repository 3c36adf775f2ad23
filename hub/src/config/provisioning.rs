//! `[provisioning]`: one-code provisioning of door units: the addresses shown with a code,
//! how long a code lasts and how many wrong ones are allowed. Only the settings and their
//! checks; provisioning is `crate::provisioning`.

use std::path::PathBuf;

use rollcall_runtime::ConfigError;
use serde::Deserialize;

use super::rules::invalid;

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

impl ProvisioningConfig {
    /// The code's lifetime and limits within range, the addresses with the right schemes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=7 * 24 * 60).contains(&self.code_minutes)
            || !(1..=10_000).contains(&self.wrong_codes_per_address)
            || !(1..=100_000).contains(&self.wrong_codes_per_minute)
        {
            return invalid(
                "provisioning.code_minutes must be 1 to 10080, wrong_codes_per_address 1 to \
                 10000 and wrong_codes_per_minute 1 to 100000",
            );
        }
        if let Some(url) = &self.hub_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return invalid("provisioning.hub_url must start with https:// (or http://)");
        }
        if let Some(url) = &self.broker_url
            && !(url.starts_with("mqtts://") || url.starts_with("mqtt://"))
        {
            return invalid("provisioning.broker_url must start with mqtts:// (or mqtt://)");
        }
        Ok(())
    }
}
