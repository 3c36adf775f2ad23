//! The relay: one [`Mailer`] built at start from `[email]` (the password and extra root read
//! then), sending plain-text messages over rustls. The only I/O of the digest.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{EmailConfig, Security};

/// How long the relay may take, per command.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Sends mail through the configured relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `[email] pages_url`, for links.
    pub pages_url: Option<String>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Reads the password and extra root files and sets up the relay (no connection yet).
    pub fn new(c: &EmailConfig) -> Result<Mailer, String> {
        c.validate()?;
        let (host, port) = c.host_port().ok_or("email.smtp: give HOST:PORT")?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(TIMEOUT));
        builder = match c.security {
            Security::None => builder.tls(Tls::None),
            Security::Starttls => builder.tls(Tls::Required(tls(host, c)?)),
            Security::Tls => builder.tls(Tls::Wrapper(tls(host, c)?)),
        };
        if let (Some(user), Some(file)) = (&c.username, &c.password_file) {
            builder = builder.credentials(Credentials::new(user.clone(), read_password(file)?));
        }
        let from = c.from.parse().map_err(|e| format!("email.from: {e}"))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
            pages_url: c.pages_url.clone(),
        })
    }

    /// Sends one plain-text message to `to`; the error is the relay's answer or why it could
    /// not be reached.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("address {to:?}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("{e}"))
    }
}

/// TLS to `host`, trusting the system's roots and `ca_file` if given.
fn tls(host: &str, c: &EmailConfig) -> Result<TlsParameters, String> {
    let mut params = TlsParameters::builder(host.to_owned());
    if let Some(file) = &c.ca_file {
        let pem =
            std::fs::read(file).map_err(|e| format!("email.ca_file {}: {e}", file.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("email.ca_file {}: {e}", file.display()))?;
        params = params.add_root_certificate(cert);
    }
    params
        .build_rustls()
        .map_err(|e| format!("email TLS settings: {e}"))
}

fn read_password(file: &std::path::Path) -> Result<String, String> {
    let raw = std::fs::read_to_string(file)
        .map_err(|e| format!("email.password_file {}: {e}", file.display()))?;
    let password = raw.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err(format!("email.password_file {}: empty", file.display()));
    }
    Ok(password)
}
