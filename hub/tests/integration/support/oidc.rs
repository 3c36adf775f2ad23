//! A real OpenID provider for the sign-in tests: panva's oidc-provider (the certified
//! implementation) under node, installed by scripts/dev-setup, serving one
//! client on a loopback port with its development sign-in pages (`oidc/provider.mjs`).
//! Killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_e2e::setup::missing;

/// The client the hub is registered as.
pub const CLIENT_ID: &str = "rollcall-hub";
pub const CLIENT_SECRET: &str = "a client secret for tests only";

/// A running provider.
pub struct OpenIdProvider {
    child: Child,
}

/// Where the provider's modules are: `$OIDC_PROVIDER_DIR`, or where the script puts them.
fn modules() -> PathBuf {
    let dir = std::env::var_os("OIDC_PROVIDER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| rollcall_e2e::tools_dir().join("oidc-provider"));
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "{}",
        missing("the OpenID provider the sign-in tests start", dir.display())
    );
    dir
}

impl OpenIdProvider {
    /// The issuer a provider on `port` will have.
    pub fn issuer_on(port: u16) -> String {
        format!("http://127.0.0.1:{port}")
    }

    /// A provider on `port` whose one client, the hub, is sent back to `redirect_uri`;
    /// returns once its discovery document is served. The e-mail address is in the ID token
    /// when `in_id_token`, else only at the userinfo endpoint.
    pub async fn start(port: u16, redirect_uri: &str, in_id_token: bool) -> OpenIdProvider {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/integration/support/oidc/provider.mjs");
        let mut child = Command::new("node")
            .env("OIDC_PROVIDER_DIR", modules())
            .env(
                "OIDC_CLAIMS_IN_ID_TOKEN",
                if in_id_token { "1" } else { "0" },
            )
            .arg(script)
            .args([&port.to_string(), CLIENT_ID, CLIENT_SECRET, redirect_uri])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}", missing("node", e)));
        let discovery = format!("{}/.well-known/openid-configuration", Self::issuer_on(port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the OpenID provider exited at start: {status}");
            }
            let answer = reqwest::get(&discovery).await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return OpenIdProvider { child };
            }
            assert!(
                Instant::now() < deadline,
                "the OpenID provider did not start in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
