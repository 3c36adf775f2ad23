//! The plumbing both daemons run on, so the door unit and the hub start, log, fail and stop the
//! same way:
//!
//! * [`config`]: typed settings, defaults → TOML file → environment → validation;
//! * [`logging`]: the `tracing` subscriber (stderr, text or JSON, `RUST_LOG`, journald-friendly);
//! * [`request_id`]: which HTTP request the running code serves, for its log lines and audit;
//! * [`panic`] and [`contain`]: a panic aborts the process so systemd restarts it, unless it
//!   happened inside work marked as contained (one request, one database call);
//! * [`shutdown`]: the one future SIGTERM and SIGINT resolve;
//! * [`systemd`]: readiness, watchdog and stopping notifications;
//! * [`clock`]: "now", injected, with a hand-moved clock for tests;
//! * [`tls`]: certificates and keys from PEM files, and the rustls client both daemons use;
//! * [`backoff`]: doubling waits between retries, never shorter than acks lately take;
//! * [`sqlite`]: opening a database (WAL, durable commits) and numbered migrations;
//! * [`seal`]: faces encrypted at rest under keys kept in a file of their own.
//!
//! Owns no domain rules: nothing here knows about students, records or rooms.

pub mod backoff;
pub mod clock;
pub mod config;
pub mod contain;
pub mod logging;
pub mod panic;
pub mod request_id;
pub mod seal;
pub mod shutdown;
pub mod sqlite;
pub mod systemd;
pub mod tls;

pub use backoff::{AckTime, Backoff};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{ConfigError, Settings};
