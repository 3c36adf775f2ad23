//! The rule for the addresses the hub calls (webhooks, the school's sign-in) or sends browsers
//! to: `https://`, or plain `http://` only to this machine, where nothing crosses a network.

use reqwest::Url;

/// `localhost` or a loopback address (`127.0.0.1`, `[::1]`).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `text` as an absolute `https://` URL, or `http://` to this machine; the message names
/// `field`.
pub fn https_or_loopback(field: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{field} {text:?}: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if url.host_str().is_some_and(is_loopback) => Ok(url),
        _ => Err(format!(
            "{field} {text:?}: use https (plain http only to this machine)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_here() {
        assert!(https_or_loopback("x", "https://login.example/tenant/v2.0").is_ok());
        assert!(https_or_loopback("x", "http://127.0.0.1:8080/hook").is_ok());
        assert!(https_or_loopback("x", "http://[::1]:8080/").is_ok());
        assert!(https_or_loopback("x", "http://localhost/").is_ok());
        let plain = https_or_loopback("auth.oidc.issuer", "http://login.example/").unwrap_err();
        assert!(
            plain.contains("auth.oidc.issuer") && plain.contains("use https"),
            "{plain}"
        );
        assert!(https_or_loopback("x", "ftp://127.0.0.1/").is_err());
        assert!(https_or_loopback("x", "not a url").is_err());
    }
}
