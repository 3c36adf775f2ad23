//! Broker URLs: `mqtts://host[:port]` or `mqtt://host[:port]`, nothing else.

use std::net::IpAddr;

/// A parsed broker address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

/// Why a broker URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("broker url {0:?} must start with mqtts:// (or mqtt:// for a loopback broker)")]
    Scheme(String),
    #[error("broker url {0:?} has no host")]
    NoHost(String),
    #[error("broker url {0:?} has a bad port")]
    Port(String),
    #[error("broker url {0:?} must not have a path, user or query")]
    Extra(String),
}

impl BrokerUrl {
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(UrlError::Scheme(url.to_owned()));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '@', '?', '#']) {
            return Err(UrlError::Extra(url.to_owned()));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| UrlError::Port(url.to_owned()))?;
        if host.is_empty() {
            return Err(UrlError::NoHost(url.to_owned()));
        }
        let port = port.unwrap_or(if tls { 8883 } else { 1883 });
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
        })
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` for an unparsable port.
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if let Some(v6) = s.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((host, p)) => Some((host, Some(p.parse().ok()?))),
        None => Some((s, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_hosts_and_ports() {
        let u = BrokerUrl::parse("mqtts://hub.school.lan").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port),
            (true, "hub.school.lan", 8883)
        );
        let u = BrokerUrl::parse("mqtt://127.0.0.1:1884").unwrap();
        assert_eq!((u.tls, u.port), (false, 1884));
        assert!(u.is_loopback());
        let u = BrokerUrl::parse("mqtt://[::1]:9").unwrap();
        assert!(u.is_loopback() && u.port == 9);
        assert!(!BrokerUrl::parse("mqtt://10.0.0.2").unwrap().is_loopback());
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "http://x",
            "mqtt://",
            "mqtt://h:99999",
            "mqtt://u@h",
            "mqtts://h/p",
            "h:1",
        ] {
            assert!(BrokerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
