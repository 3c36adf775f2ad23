//! rustls configurations, all with the `ring` provider (no OpenSSL, no aws-lc): the HTTPS
//! server's (certificate chain and key), the embedded broker's (the same, optionally verifying
//! client certificates) and the broker clients' of both daemons (CA to trust, optional client
//! certificate). Reads PEM files; owns no sockets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Why a certificate, key or TLS configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {path}: {reason}")]
    Cert { path: PathBuf, reason: String },
    #[error("TLS key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("a TLS client certificate needs its key, and a key its certificate")]
    HalfClientAuth,
    #[error("client CA {path}: {reason}")]
    ClientCa { path: PathBuf, reason: String },
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file (at least one).
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |reason: String| TlsError::Cert {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    match certs.is_empty() {
        true => Err(bad("no certificate in the file".into())),
        false => Ok(certs),
    }
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Key {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The HTTPS server's configuration (HTTP/1.1 over ALPN).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certificates(cert)?, private_key(key)?)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Client certificates a server asks for: every one must chain to a CA in `ca_file`; with
/// `required` a client without one is refused at the handshake.
#[derive(Debug, Clone, Copy)]
pub struct ClientCerts<'a> {
    pub ca_file: &'a Path,
    pub required: bool,
}

/// A server configuration without ALPN, verifying client certificates when `clients` says so.
pub fn server_config_for_clients(
    cert: &Path,
    key: &Path,
    clients: Option<ClientCerts<'_>>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match clients {
        None => builder.with_no_client_auth(),
        Some(clients) => builder.with_client_cert_verifier(client_verifier(clients)?),
    };
    let config = builder.with_single_cert(certificates(cert)?, private_key(key)?)?;
    Ok(Arc::new(config))
}

fn client_verifier(
    clients: ClientCerts<'_>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let bad = |reason: String| TlsError::ClientCa {
        path: clients.ca_file.to_owned(),
        reason,
    };
    let mut roots = RootCertStore::empty();
    let certs = certificates(clients.ca_file).map_err(|e| match e {
        TlsError::Cert { reason, .. } => bad(reason),
        other => other,
    })?;
    for cert in certs {
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
    let builder = match clients.required {
        true => builder,
        false => builder.allow_unauthenticated(),
    };
    builder.build().map_err(|e| bad(e.to_string()))
}

/// A client configuration trusting only the CAs in `ca_file`, with a client certificate when
/// both `client_cert` and `client_key` are given.
pub fn client_config(
    ca_file: &Path,
    client_cert: Option<&Path>,
    client_key: Option<&Path>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(ca_file)? {
        roots.add(cert)?;
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let config = match (client_cert, client_key) {
        (Some(cert), Some(key)) => {
            builder.with_client_auth_cert(certificates(cert)?, private_key(key)?)?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsError::HalfClientAuth),
    };
    Ok(Arc::new(config))
}

/// A client configuration trusting the system's CA certificates (servers with a certificate
/// from a public CA, or one the machine's administrator installed). A machine without any
/// trusts no server: a TLS handshake then fails saying the issuer is unknown.
pub fn client_config_with_system_roots() -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
