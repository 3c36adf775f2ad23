//! Which request the running code is serving, so that everything one request causes can be
//! found again by its id: each log line (the `request` span the HTTP layer opens) and each
//! audit entry (`rollcall_store::audit` reads [`current`]).
//!
//! The id follows the request's future through [`scope`] (a task-local) and onto the blocking
//! threads its database work runs on through [`carry`] (a thread-local for the call), together
//! with the tracing span, so a line the store logs is tied to the request as well.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static SERVING: Arc<str>;
}

thread_local! {
    static CARRIED: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The most an id a caller sends may be (`X-Request-Id`); longer ones are replaced.
pub const MAX_LEN: usize = 64;

/// Whether `id`, sent by a caller, is kept as the request's id: 1 to [`MAX_LEN`] letters,
/// digits and `-_.:`, so it can go into a log line, a header and an audit entry as it is.
pub fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// A new id: 128 random bits as 32 hex digits (the shape of a W3C trace id, so a proxy's
/// tracing can pass it on).
pub fn new() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Runs `work` as serving request `id`.
pub fn scope<F: Future>(id: &str, work: F) -> impl Future<Output = F::Output> + use<F> {
    SERVING.scope(Arc::from(id), work)
}

/// The id of the request being served here, if any.
pub fn current() -> Option<Arc<str>> {
    SERVING
        .try_with(Arc::clone)
        .ok()
        .or_else(|| CARRIED.with(|c| c.borrow().clone()))
}

/// `work`, made to run on another thread as if where it was made: serving the same request,
/// inside the same tracing span.
pub fn carry<T>(work: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let id = current();
    let span = tracing::Span::current();
    move || {
        let before = CARRIED.with(|c| c.replace(id));
        let out = span.in_scope(work);
        CARRIED.with(|c| *c.borrow_mut() = before);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(is_sane("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(is_sane("req-1.2:3_4"));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(MAX_LEN + 1)));
        assert!(!is_sane("a b"), "spaces would split a text log line");
        assert!(
            !is_sane("a\nfake: line"),
            "a newline would forge a log line"
        );
        assert!(!is_sane("ä"));
        assert!(is_sane(&new()));
        assert_eq!(new().len(), 32);
        assert_ne!(new(), new());
    }

    #[tokio::test]
    async fn the_id_follows_the_request_onto_blocking_threads_and_no_further() {
        assert_eq!(current(), None);
        let seen = scope("r1", async {
            let inside = current();
            let carried = tokio::task::spawn_blocking(carry(current)).await.unwrap();
            let uncarried = tokio::task::spawn_blocking(current).await.unwrap();
            (inside, carried, uncarried)
        })
        .await;
        assert_eq!(seen.0.as_deref(), Some("r1"));
        assert_eq!(seen.1.as_deref(), Some("r1"));
        assert_eq!(seen.2, None, "work not carried serves no request");
        assert_eq!(current(), None);
        let after = tokio::task::spawn_blocking(current).await.unwrap();
        assert_eq!(after, None, "a carried id is cleared when the work ends");
    }
}
