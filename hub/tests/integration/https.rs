//! HTTPS: with `[http.tls]` set the hub serves its API over TLS (rustls, ring) with the
//! configured certificate, and a plain-HTTP client gets nothing from that port.

use reqwest::StatusCode;
use rollcall_hub::config::TlsFiles;

use crate::common::*;

/// A self-signed certificate for `localhost` and `127.0.0.1`, written as PEM files in `dir`.
fn self_signed(dir: &std::path::Path) -> TlsFiles {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).unwrap();
    let files = TlsFiles {
        cert: dir.join("hub-cert.pem"),
        key: dir.join("hub-key.pem"),
    };
    std::fs::write(&files.cert, made.cert.pem()).unwrap();
    std::fs::write(&files.key, made.signing_key.serialize_pem()).unwrap();
    files
}

#[tokio::test]
async fn the_api_is_served_over_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let files = self_signed(dir.path());
    let hub = start_hub_with(None, |c| c.http.tls = Some(files)).await;

    let (status, health) = hub.api().get("/health").await;
    assert_eq!(status, StatusCode::OK, "{health}");
    for path in ["/health", "/no/such/path", "/../../index.html"] {
        let headers = hub.api().headers(path).await;
        assert_eq!(
            headers
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000"),
            "HSTS on {path}"
        );
    }
    let admin = hub.admin().await;
    let (status, me) = admin.get("/auth/me").await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some(ADMIN))
    );

    let (status, _) = Api::new(hub.addr).get("/health").await;
    assert_ne!(status, StatusCode::OK, "no plain HTTP on the HTTPS port");
    hub.stop().await;
}

#[tokio::test]
async fn a_missing_certificate_stops_the_hub_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    rollcall_hub::setup::init(&data_dir, ADMIN, PASSWORD).unwrap();
    let mut config = rollcall_hub::config::Config {
        data_dir,
        ..Default::default()
    };
    config.faces.enabled = false;
    config.http.tls = Some(TlsFiles {
        cert: dir.path().join("absent.pem"),
        key: dir.path().join("absent-key.pem"),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = rollcall_runtime::clock::ManualClock::at(rollcall_shared::UnixMillis(0));
    let error = rollcall_hub::run(config, listener, clock, std::future::pending())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("absent.pem"), "{error}");
}
