//! The panic policy of both daemons: a panic is logged and aborts the process, so systemd
//! restarts a daemon instead of leaving it half-working, unless it happened inside work run
//! through [`crate::contain`], which fails alone and is only logged here.

/// Installs the policy; call first in `main`, before any thread starts.
pub fn install() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if crate::contain::is_contained() {
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!("contained panic: {info}\n{backtrace}");
            return;
        }
        tracing::error!("panic: {info}");
        default(info);
        std::process::abort();
    }));
}
