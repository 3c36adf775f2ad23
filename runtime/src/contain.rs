//! Panics that must not take the daemon down.
//!
//! The panic hook ([`crate::panic::install`]) aborts the process for a panic anywhere else: a daemon
//! left half-working is worse than one systemd restarts. But a panic while answering one request
//! or inside one database call is that request's failure alone. Work run through [`run`] or
//! [`future`] is marked as contained while it runs; the hook only logs a contained panic, the
//! unwinding stops here, and the caller answers 500 and serves on. A database call that panics
//! leaves nothing half-written: SQLite rolls back the transaction it was in.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

thread_local! {
    /// How many contained sections this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// A panic caught by [`run`] or [`future`], with its message.
#[derive(Debug, thiserror::Error)]
#[error("panicked: {0}")]
pub struct Panicked(pub String);

impl Panicked {
    fn from_payload(payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = match payload.downcast::<String>() {
            Ok(s) => *s,
            Err(payload) => match payload.downcast::<&'static str>() {
                Ok(s) => (*s).to_owned(),
                Err(_) => "a panic without a message".to_owned(),
            },
        };
        Panicked(message)
    }
}

/// Whether the current thread is running contained work (asked by the panic hook).
pub fn is_contained() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Marks this thread as contained until dropped (also when unwinding).
struct Section;

impl Section {
    fn enter() -> Self {
        DEPTH.with(|d| d.set(d.get() + 1));
        Section
    }
}

impl Drop for Section {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Runs `f`, turning a panic into [`Panicked`].
pub fn run<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    let _section = Section::enter();
    catch_unwind(AssertUnwindSafe(f)).map_err(Panicked::from_payload)
}

/// Drives `f` to completion, turning a panic in any of its polls into [`Panicked`]. After a
/// panic the future is dropped and never polled again.
pub async fn future<F: Future>(f: F) -> Result<F::Output, Panicked> {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| match run(|| f.as_mut().poll(cx)) {
        Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panicked) => Poll::Ready(Err(panicked)),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_and_the_section_ends() {
        assert!(!is_contained());
        let caught = run(|| {
            assert!(is_contained());
            panic!("bad date {}", 7)
        });
        assert_eq!(caught.unwrap_err().0, "bad date 7");
        assert!(!is_contained(), "the section ends when unwinding");
        assert_eq!(run(|| 3).unwrap(), 3);
    }

    #[tokio::test]
    async fn a_future_that_panics_after_waiting_is_caught() {
        let caught = future(async {
            tokio::task::yield_now().await;
            panic!("in the second poll");
        })
        .await;
        assert_eq!(caught.unwrap_err().0, "in the second poll");
        assert!(!is_contained());
        assert_eq!(future(async { 5 }).await.unwrap(), 5);
    }
}
