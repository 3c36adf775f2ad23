//! The process's open-file limit and the connection caps that must fit inside it.
//!
//! At start the hub raises its soft `RLIMIT_NOFILE` to the hard limit, then makes sure that
//! HTTP's and the embedded broker's connection caps plus a reserve (the database, the log,
//! the listeners, the model files) fit in it, lowering the caps (with a warning) when they do
//! not: running out of descriptors stops HTTP and MQTT together, a refused connection does
//! not. It never refuses to start. Owns nothing else.

use crate::config::{Config, MqttMode};

/// Descriptors kept for everything but client connections: SQLite (database, WAL, shared
/// memory, one per reader), listeners, the log, model files, the runtime's own.
pub const RESERVE: u64 = 64;

/// The soft and hard `RLIMIT_NOFILE` after trying to raise the soft limit to the hard one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft open-file limit to the hard limit; `None` when the limit cannot be read.
pub fn raise() -> Option<OpenFiles> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the call's duration.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    let before = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; the soft limit asked for is the hard one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    let files = OpenFiles {
        soft: limit.rlim_cur,
        hard: limit.rlim_max,
    };
    tracing::info!(
        "open-file limit: soft {} (was {before}), hard {}",
        files.soft,
        files.hard
    );
    Some(files)
}

/// Raises the limit and lowers `config`'s connection caps to fit in it.
pub fn fit_caps(config: &mut Config) {
    let Some(files) = raise() else {
        return tracing::warn!("cannot read the open-file limit; connection caps left as set");
    };
    let embedded = config.mqtt.mode == MqttMode::Embedded;
    let http = u64::from(config.http.max_connections);
    let mqtt = if embedded {
        u64::from(config.mqtt.embedded.max_connections)
    } else {
        0
    };
    let (http_fit, mqtt_fit) = fit(http, mqtt, files.soft);
    if (http_fit, mqtt_fit) == (http, mqtt) {
        return;
    }
    tracing::warn!(
        "open-file limit {} cannot hold {http} HTTP + {mqtt} MQTT connections + {RESERVE} \
         reserved: serving at most {http_fit} HTTP and {mqtt_fit} MQTT connections \
         (raise LimitNOFILE= in the systemd unit, or lower the caps)",
        files.soft
    );
    config.http.max_connections = clamp_u32(http_fit);
    if embedded {
        config.mqtt.embedded.max_connections = clamp_u32(mqtt_fit);
    }
}

/// `http` and `mqtt` scaled down in proportion so that both plus [`RESERVE`] fit in `soft`,
/// each at least 1.
pub fn fit(http: u64, mqtt: u64, soft: u64) -> (u64, u64) {
    let room = soft.saturating_sub(RESERVE).max(2);
    let wanted = http.saturating_add(mqtt);
    if wanted <= room {
        return (http, mqtt);
    }
    let share = |cap: u64| {
        let scaled = u128::from(cap) * u128::from(room) / u128::from(wanted);
        u64::try_from(scaled)
            .unwrap_or(u64::MAX)
            .max(u64::from(cap > 0))
    };
    let mqtt_fit = share(mqtt);
    (room.saturating_sub(mqtt_fit).min(http).max(1), mqtt_fit)
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_that_fit_are_kept() {
        assert_eq!(fit(4096, 1024, 65536), (4096, 1024));
        assert_eq!(fit(900, 60, 1024), (900, 60));
    }

    #[test]
    fn caps_over_the_limit_shrink_in_proportion_below_it() {
        let (http, mqtt) = fit(4096, 1024, 1024);
        assert!(http + mqtt + RESERVE <= 1024, "{http} + {mqtt}");
        assert_eq!((http, mqtt), (768, 192));
        let (http, mqtt) = fit(4096, 0, 1024);
        assert_eq!((http, mqtt), (960, 0));
    }

    #[test]
    fn a_tiny_limit_still_leaves_one_connection_each() {
        assert_eq!(fit(4096, 1024, 10), (1, 1));
        assert_eq!(fit(4096, 1024, u64::MAX), (4096, 1024));
    }

    #[test]
    fn raising_reports_a_soft_limit_at_most_the_hard_one() {
        let files = raise().unwrap();
        assert!(files.soft <= files.hard && files.soft > 0);
    }
}
