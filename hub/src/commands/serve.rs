//! `serve` and `check-config`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rollcall_runtime::SystemClock;

use crate::config::Config;

/// `check-config`: load and validate a file, then print it with secrets redacted.
pub fn check_config(file: &Path) -> anyhow::Result<()> {
    let config = Config::load(file)?;
    println!("{config:#?}");
    Ok(())
}

/// `serve`: the hub until SIGTERM or SIGINT.
pub fn serve(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    rollcall_runtime::logging::use_format(config.logging.format);
    let _serving = crate::backup::DataDirLock::acquire(&config.data_dir)
        .context("another hub is serving this data directory")?;
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding {}", config.http.listen))?;
        let scheme = if config.http.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!("API on {scheme}://{}/api/v1", listener.local_addr()?);
        let shutdown =
            rollcall_runtime::shutdown::signal().context("installing signal handlers")?;
        crate::run(config, listener, Arc::new(SystemClock), shutdown).await?;
        Ok(())
    })
}
