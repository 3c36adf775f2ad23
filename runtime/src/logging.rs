//! Logging through `tracing` to stderr, as text or as JSON. `RUST_LOG` overrides the level the
//! daemon asks for.
//!
//! The program installs logging first thing ([`init`], text), before its configuration is
//! read, so that reading it can be logged; once the configuration says `[logging] format =
//! "json"`, [`use_format`] swaps the line format in place. Text under systemd
//! (`JOURNAL_STREAM` set) carries no timestamp or colour: the journal adds its own time, and
//! escape codes would be stored as text. Colour only when stderr is a terminal.
//!
//! JSON is one object a line, for a log system (Loki, Elasticsearch, the journal's own JSON
//! export) to read without a parser of ours: `timestamp` (RFC 3339, UTC), `level`, `target`,
//! `message` and the event's fields beside it, and `span` holding the fields of what the line
//! happened inside (an HTTP request's `request_id`, see [`crate::request_id`]).

use std::io::IsTerminal;
use std::sync::OnceLock;

use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

/// `[logging]` in either program's configuration file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    pub format: Format,
}

/// How each log line is written.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// For people: `journalctl`, a terminal.
    #[default]
    Text,
    /// One JSON object a line, for a log system.
    Json,
}

type Lines = Box<dyn Layer<Registry> + Send + Sync>;

/// Where [`use_format`] swaps the line format; set by the first [`init`] that installed.
static FORMAT: OnceLock<reload::Handle<Lines, Registry>> = OnceLock::new();

/// Installs the global subscriber, writing text at `level` (`"info"`, `"debug"`, …) unless
/// `RUST_LOG` says otherwise. A second call is a no-op.
pub fn init(level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let (lines, handle) = reload::Layer::new(lines(Format::Text));
    if tracing_subscriber::registry()
        .with(lines)
        .with(filter)
        .try_init()
        .is_ok()
    {
        let _ = FORMAT.set(handle);
    }
}

/// Writes every line from now on in `format`. Does nothing before [`init`], or when another
/// subscriber was installed instead (a test's).
pub fn use_format(format: Format) {
    if let Some(handle) = FORMAT.get()
        && let Err(e) = handle.reload(lines(format))
    {
        tracing::warn!("the log format cannot be changed: {e}");
    }
}

fn lines(format: Format) -> Lines {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        Format::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        Format::Text => {
            let layer = layer.with_ansi(std::io::stderr().is_terminal());
            match std::env::var_os("JOURNAL_STREAM").is_some() {
                true => layer.without_time().boxed(),
                false => layer.boxed(),
            }
        }
    }
}

/// The level for `-v` counted `verbose` times: 0 = info, 1 = debug, 2 or more = trace.
pub fn level(verbose: u8) -> &'static str {
    match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    }
}
