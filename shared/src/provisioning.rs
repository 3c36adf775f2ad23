//! One-code provisioning of a door unit: the code an admin is given on the hub's Devices page,
//! and what the hub answers a door unit that brings it (`rollcall-edge enrol`).
//!
//! This crosses HTTPS as JSON, not the postcard wire: the answer is read once, by a person's
//! command, and its fields are checked where they enter ([`Provisioned::check`]).
//!
//! A code is 12 symbols of Crockford's base32 (60 random bits), shown in groups of four:
//! `7KQM-2XD9-HB4T`. Typing is forgiving: case, spaces and dashes do not matter, and the
//! letters people confuse with digits (`O`, `I`, `L`) read as the digits. The hub keeps only
//! the code's SHA-256 ([`ProvisioningCode::digest`]); a code is long enough that guessing one
//! within its few minutes of life, at the rate the hub allows, is hopeless.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::direction::Direction;
use crate::ids::{DeviceId, SiteId};

/// Crockford's base32 alphabet: digits, then letters without I, L, O and U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code.
const LEN: usize = 12;

/// A one-time provisioning code, normalised (12 upper-case base32 symbols, no dashes).
#[derive(Clone, PartialEq, Eq)]
pub struct ProvisioningCode(String);

/// Why typed text is not a provisioning code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a code is 12 letters and digits, like 7KQM-2XD9-HB4T ({0})")]
pub struct BadCode(String);

impl ProvisioningCode {
    /// The code made from `random` (the low 60 bits are used).
    pub fn from_random(random: u64) -> Self {
        let code = (0..LEN)
            .map(|i| ALPHABET[((random >> (5 * (LEN - 1 - i))) & 31) as usize] as char)
            .collect();
        Self(code)
    }

    /// What the hub stores and looks codes up by: SHA-256 of the normalised code, in hex.
    pub fn digest(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl FromStr for ProvisioningCode {
    type Err = BadCode;

    fn from_str(typed: &str) -> Result<Self, BadCode> {
        let mut code = String::with_capacity(LEN);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                other => {
                    return Err(BadCode(format!("{:?} is not one of them", other)));
                }
            };
            if code.len() == LEN {
                return Err(BadCode("this one is longer".into()));
            }
            code.push(c);
        }
        if code.len() < LEN {
            return Err(BadCode(format!("this one has {}", code.len())));
        }
        Ok(Self(code))
    }
}

/// Shown as people read it: `7KQM-2XD9-HB4T`.
impl fmt::Display for ProvisioningCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, rest) = self.0.split_at(4);
        let (b, c) = rest.split_at(4);
        write!(f, "{a}-{b}-{c}")
    }
}

/// Never the code itself: it is a credential while it lives.
impl fmt::Debug for ProvisioningCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProvisioningCode(<redacted>)")
    }
}

/// The body of `POST /api/v1/provision`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionRequest {
    /// As typed; the hub normalises it.
    pub code: String,
}

/// The hub's answer to a good code: everything a door unit needs to start.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provisioned {
    pub device_id: DeviceId,
    /// The name the admin gave the unit on the Devices page.
    pub device_name: String,
    pub site: SiteId,
    /// The room the unit's door belongs to, as named in the timetable.
    pub room: String,
    /// Which way its camera faces (from protocol 5; an older hub leaves it out: `both`).
    #[serde(default)]
    pub direction: Direction,
    /// The school's time zone (IANA name).
    pub timezone: String,
    pub broker: BrokerAccess,
}

/// How the door unit reaches and logs in to the hub's broker.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerAccess {
    /// `mqtts://host:port` (or `mqtt://` to a loopback address).
    pub url: String,
    /// PEM of the CA that signed the broker's certificate; none for plain MQTT.
    pub ca_pem: Option<String>,
    pub username: String,
    /// A fresh password: the one the unit had before, if any, no longer works.
    pub password: String,
    /// A client certificate and its key (PEM), when the broker takes them.
    pub client_cert_pem: Option<String>,
    pub client_key_pem: Option<String>,
}

/// Never the password or the key.
impl fmt::Debug for Provisioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provisioned")
            .field("device_id", &self.device_id)
            .field("device_name", &self.device_name)
            .field("site", &self.site)
            .field("room", &self.room)
            .field("direction", &self.direction)
            .field("timezone", &self.timezone)
            .field("broker_url", &self.broker.url)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BrokerAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerAccess")
            .field("url", &self.url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Provisioned {
    /// The problems a door unit must refuse this answer for (an empty list when none). Text
    /// fields are bounded: they end up in a configuration file.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut bounded = |name: &str, value: &str, max: usize| {
            if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
                problems.push(format!(
                    "{name} must be 1 to {max} characters without control characters"
                ));
            }
        };
        bounded("device_name", &self.device_name, 64);
        bounded("room", &self.room, 64);
        bounded("timezone", &self.timezone, 64);
        bounded("broker.url", &self.broker.url, 512);
        bounded("broker.username", &self.broker.username, 128);
        bounded("broker.password", &self.broker.password, 256);
        if !self.site.is_valid() {
            problems.push(format!("site {:?} is not a valid site name", self.site));
        }
        let pem = [
            ("broker.ca_pem", &self.broker.ca_pem),
            ("broker.client_cert_pem", &self.broker.client_cert_pem),
            ("broker.client_key_pem", &self.broker.client_key_pem),
        ];
        for (name, text) in pem {
            if let Some(text) = text
                && (!text.starts_with("-----BEGIN ") || text.len() > 64 * 1024)
            {
                problems.push(format!("{name} is not a PEM file of at most 64 KiB"));
            }
        }
        if self.broker.client_cert_pem.is_some() != self.broker.client_key_pem.is_some() {
            problems.push("broker: a client certificate comes with its key".into());
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_from_how_it_is_shown_and_typed() {
        let code = ProvisioningCode::from_random(0x0fed_cba9_8765_4321);
        let shown = code.to_string();
        assert_eq!(shown.len(), 14);
        assert_eq!(shown.matches('-').count(), 2);
        assert_eq!(shown.parse::<ProvisioningCode>().unwrap(), code);
        let typed = shown.to_lowercase().replace('-', " ");
        assert_eq!(typed.parse::<ProvisioningCode>().unwrap(), code);
        assert_eq!(format!("{code:?}"), "ProvisioningCode(<redacted>)");
    }

    #[test]
    fn letters_read_as_the_digits_they_look_like() {
        let a: ProvisioningCode = "O1IL-0000-0000".parse().unwrap();
        let b: ProvisioningCode = "0111-0000-0000".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.digest(), b.digest());
    }

    #[test]
    fn codes_of_other_lengths_or_symbols_are_refused_with_a_reason() {
        for bad in [
            "",
            "ABCD-EFGH",
            "ABCD-EFGH-JKMN-P",
            "ABCD-EFGH-JKMU",
            "ÄBCD-EFGH-JKMN",
        ] {
            let e = bad.parse::<ProvisioningCode>().unwrap_err().to_string();
            assert!(e.contains("12 letters and digits"), "{bad}: {e}");
        }
    }

    #[test]
    fn different_random_bits_make_different_codes_and_digests() {
        let a = ProvisioningCode::from_random(1);
        let b = ProvisioningCode::from_random(2);
        assert_ne!(a, b);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest().len(), 64);
    }

    fn answer() -> Provisioned {
        Provisioned {
            device_id: DeviceId::random(),
            device_name: "Door 1".into(),
            site: SiteId::new("school").unwrap(),
            room: "Room 1".into(),
            direction: Direction::Both,
            timezone: "Europe/London".into(),
            broker: BrokerAccess {
                url: "mqtts://hub.school.lan:8883".into(),
                ca_pem: Some("-----BEGIN CERTIFICATE-----\n".into()),
                username: "u".into(),
                password: "secret-password".into(),
                client_cert_pem: None,
                client_key_pem: None,
            },
        }
    }

    #[test]
    fn an_answer_is_checked_before_a_door_unit_writes_it_down() {
        assert_eq!(answer().check(), Vec::<String>::new());
        let mut bad = answer();
        bad.room = "Room\n[broker]".into();
        bad.broker.ca_pem = Some("not pem".into());
        bad.broker.client_key_pem = Some("-----BEGIN PRIVATE KEY-----".into());
        let problems = bad.check();
        assert_eq!(problems.len(), 3, "{problems:?}");
        let shown = format!("{:?}", answer());
        assert!(!shown.contains("secret-password"), "{shown}");
    }
}
