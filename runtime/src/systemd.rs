//! systemd integration: `READY=1` once running, `WATCHDOG=1` pings at half the watchdog
//! interval, `STOPPING=1` on the way out. Every call is a no-op outside systemd.

use std::time::Duration;

use sd_notify::NotifyState;

/// Tells systemd the daemon is up.
pub fn ready() {
    notify(&[NotifyState::Ready]);
}

pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

pub fn ping() {
    notify(&[NotifyState::Watchdog]);
}

/// How often to ping, when systemd's watchdog is on for this service.
pub fn watchdog_period() -> Option<Duration> {
    let mut usec = 0;
    sd_notify::watchdog_enabled(false, &mut usec).then(|| Duration::from_micros(usec / 2))
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!("sd_notify: {e}");
    }
}
