//! The one HTTP connection server, plain or over TLS: accepts TCP, caps how many connections are
//! open, bounds how long a client may take over its headers, how long a connection may sit
//! idle and how long one request may take, and drains open connections (with a bound) at
//! shutdown. Owns only the transport: what a request does is `routes_from`'s business.
//!
//! Past the cap a connection is accepted and closed at once rather than left in the kernel's
//! backlog: its client learns straight away that the hub is busy (and may retry) instead of
//! hanging, and the hub holds its file descriptor only for that moment.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use warp::reply::Response;

use super::{ApiError, Schools, respond, routes_from};
use crate::config::HttpConfig;

/// How long open connections may take to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The bounds every connection is served within.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
}

impl From<&HttpConfig> for ConnLimits {
    fn from(http: &HttpConfig) -> Self {
        Self {
            max_connections: http.max_connections as usize,
            header_timeout: Duration::from_secs(http.header_timeout_secs),
            idle_timeout: Duration::from_secs(http.idle_timeout_secs),
            request_timeout: Duration::from_secs(http.request_timeout_secs),
        }
    }
}

/// Serves the API on `listener` (HTTPS when `tls` is given) until `stop` turns true, then lets
/// open connections finish for a bounded time.
pub async fn serve(
    schools: Arc<Schools>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let limits = ConnLimits::from(&schools.first().config.http);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    let mut full = false;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, remote)) => {
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        if !std::mem::replace(&mut full, true) {
                            tracing::warn!(max = limits.max_connections,
                                "http: connection limit reached; new connections are closed");
                        }
                        continue;
                    };
                    full = false;
                    let conn = connection(schools.clone(), tls.clone(), tcp, remote, limits, stop.clone());
                    connections.spawn(async move {
                        conn.await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    tracing::warn!("http accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_TIMEOUT, drained).await.is_err() {
        tracing::warn!("http: connections still open at shutdown were dropped");
    }
}

/// One client: the TLS handshake if configured, then HTTP.
async fn connection(
    schools: Arc<Schools>,
    tls: Option<TlsAcceptor>,
    tcp: TcpStream,
    remote: SocketAddr,
    limits: ConnLimits,
    stop: watch::Receiver<bool>,
) {
    let Some(acceptor) = tls else {
        return http(schools, tcp, remote, limits, stop).await;
    };
    if let Some(stream) = super::tls::handshake(&acceptor, tcp, remote, limits.header_timeout).await
    {
        http(schools, stream, remote, limits, stop).await;
    }
}

/// HTTP/1.1 or HTTP/2 on `io` until the client closes, a limit closes it or the hub stops.
async fn http<I>(
    schools: Arc<Schools>,
    io: I,
    remote: SocketAddr,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::default());
    let service = timed_service(schools, remote, limits.request_timeout, activity.clone());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = activity.idle_for(limits.header_timeout, limits.idle_timeout) => {
            tracing::debug!(%remote, "http: idle connection closed");
            conn.as_mut().graceful_shutdown();
            conn.await
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%remote, "http connection: {e}");
    }
}

/// The API's routes for one client, each request answered 503 past `limit`.
fn timed_service(
    schools: Arc<Schools>,
    remote: SocketAddr,
    limit: Duration,
    activity: Arc<Activity>,
) -> impl Service<Request<Incoming>, Response = Response, Error = Infallible, Future: Send + 'static>
+ Clone
+ Send
+ 'static {
    let routes = TowerToHyperService::new(warp::service(routes_from(schools, Some(remote))));
    let service = move |request| {
        let answer = routes.call(request);
        let busy = activity.begin();
        async move {
            let response = match tokio::time::timeout(limit, answer).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => timed_out(limit),
            };
            drop(busy);
            Ok(response)
        }
    };
    service_fn(service)
}

/// The answer to a request that ran past `limit`.
fn timed_out(limit: Duration) -> Response {
    tracing::warn!("http: a request took longer than {} s", limit.as_secs());
    let message = format!(
        "the hub did not finish this request within {} s (http.request_timeout_secs); try again",
        limit.as_secs()
    );
    respond(Err(ApiError::Unavailable(message)))
}

/// Requests in progress on one connection and when one last began or ended.
#[derive(Debug, Default)]
struct Activity {
    in_progress: AtomicUsize,
    /// When a request last began or ended; `None` before the first.
    last_change: Mutex<Option<Instant>>,
    changed: Notify,
}

/// Marks one request in progress until dropped.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::AcqRel);
        self.0.changed_now();
    }
}

impl Activity {
    fn begin(self: &Arc<Self>) -> Busy {
        self.in_progress.fetch_add(1, Ordering::AcqRel);
        self.changed_now();
        Busy(self.clone())
    }

    fn changed_now(&self) {
        *self.last_change.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.changed.notify_waiters();
    }

    /// Completes when no request began within `first` of the start (a client that sends
    /// nothing, which the header timer does not see while the protocol is still being
    /// detected), or once no request has been in progress for `idle`. Reads the state each
    /// time rather than counting on a wake-up: a request may have come and gone before this
    /// is first polled.
    async fn idle_for(&self, first: Duration, idle: Duration) {
        let start = Instant::now();
        loop {
            // Made before the state is read, so that no change after the read is missed.
            let changed = self.changed.notified();
            if self.in_progress.load(Ordering::Acquire) > 0 {
                changed.await;
                continue;
            }
            let last = *self.last_change.lock().unwrap_or_else(|p| p.into_inner());
            let deadline = last.map_or(start + first, |at| at + idle);
            if deadline <= Instant::now() {
                return;
            }
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_secs(20);
    const IDLE: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn a_request_that_came_and_went_before_the_watch_began_starts_the_idle_timer() {
        let activity = Arc::new(Activity::default());
        drop(activity.begin());
        let started = Instant::now();
        activity.idle_for(FIRST, IDLE).await;
        assert_eq!(started.elapsed(), IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_only_once_no_request_has_run_for_the_idle_time() {
        let activity = Arc::new(Activity::default());
        let started = Instant::now();
        activity.idle_for(FIRST, IDLE).await;
        assert_eq!(started.elapsed(), FIRST, "nothing ever came");

        let busy = activity.begin();
        let watch = {
            let activity = activity.clone();
            tokio::spawn(async move { activity.idle_for(FIRST, IDLE).await })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!watch.is_finished(), "a request is still running");
        drop(busy);
        let ended = Instant::now();
        watch.await.unwrap();
        assert_eq!(ended.elapsed(), IDLE);
    }
}
