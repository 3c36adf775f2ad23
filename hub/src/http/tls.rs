//! HTTPS: rustls (ring provider, see `crate::tls`) in front of the API. warp 0.4 has no TLS and no public
//! acceptor trait, so this module accepts TCP itself, completes each handshake with
//! `tokio-rustls` and serves the connection with hyper through warp's service. Owns only the
//! transport: what a request does is `routes`' business.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;
use crate::state::Hub;
use crate::tls::TlsError;

/// How long a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections may take to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The acceptor for the configured certificate and key.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    crate::tls::server_config(&files.cert, &files.key).map(TlsAcceptor::from)
}

/// Serves HTTPS on `listener` until `stop` turns true, then lets open connections finish.
pub async fn serve(
    hub: Arc<Hub>,
    listener: TcpListener,
    acceptor: TlsAcceptor,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, remote)) => {
                    let conn = connection(hub.clone(), acceptor.clone(), tcp, remote, stop.clone());
                    connections.spawn(conn);
                }
                Err(e) => {
                    tracing::warn!("https accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_TIMEOUT, drained).await.is_err() {
        tracing::warn!("https: connections still open at shutdown were dropped");
    }
}

/// One client: handshake, then HTTP until it closes or the hub stops.
async fn connection(
    hub: Arc<Hub>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    remote: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return tracing::debug!(%remote, "tls handshake: {e}"),
        Err(_) => return tracing::debug!(%remote, "tls handshake timed out"),
    };
    let service = TowerToHyperService::new(warp::service(super::routes_from(hub, Some(remote))));
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%remote, "https connection: {e}");
    }
}
