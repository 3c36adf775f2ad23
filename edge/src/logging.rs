//! Logging to stderr through `tracing`; `RUST_LOG` overrides the level chosen by `-v`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `verbose` counts `-v` flags: 0 = info, 1 = debug, 2+ = trace.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
