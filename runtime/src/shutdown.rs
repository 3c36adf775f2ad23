//! The one shutdown signal: a future that resolves on the first SIGTERM (systemd stopping the
//! service) or SIGINT (Ctrl-C). Every long-running task selects on a clone of what it fans out to.

use std::future::Future;

/// Installs the handlers now (so a signal arriving early is not lost) and returns the future
/// that resolves on the first of them.
pub fn signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
    })
}
