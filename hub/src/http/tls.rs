//! HTTPS: rustls (ring provider, see `rollcall_runtime::tls`) in front of the API. warp 0.4 has
//! no TLS, so the hub's own connection server ([`super::conn`]) accepts TCP and this module
//! completes each handshake with `tokio-rustls`. Owns only the handshake: limits and HTTP are `conn`'s.

use std::net::SocketAddr;
use std::time::Duration;

use rollcall_runtime::tls::TlsError;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::TlsFiles;

/// The acceptor for the configured certificate and key.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    rollcall_runtime::tls::server_config(&files.cert, &files.key).map(TlsAcceptor::from)
}

/// Completes the handshake within `limit`; `None` (logged) when it fails or takes too long.
pub(super) async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    remote: SocketAddr,
    limit: Duration,
) -> Option<TlsStream<TcpStream>> {
    match tokio::time::timeout(limit, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(e)) => {
            tracing::debug!(%remote, "tls handshake: {e}");
            None
        }
        Err(_) => {
            tracing::debug!(%remote, "tls handshake timed out");
            None
        }
    }
}
