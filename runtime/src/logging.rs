//! Logging through `tracing` to stderr. `RUST_LOG` overrides the level the daemon asks for.
//! Under systemd (`JOURNAL_STREAM` set) lines carry no timestamp or colour: the journal adds
//! its own time, and escape codes would be stored as text. Colour only when stderr is a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber at `level` (`"info"`, `"debug"`, …) unless `RUST_LOG` says
/// otherwise. A second call is a no-op.
pub fn init(level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().try_init()
    } else {
        builder.try_init()
    };
}

/// The level for `-v` counted `verbose` times: 0 = info, 1 = debug, 2 or more = trace.
pub fn level(verbose: u8) -> &'static str {
    match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    }
}
