//! The `Idempotency-Key` of the request a task is answering, as [`super::Hub::write`] sees
//! it: claimed in the transaction of the request's first write, so of two sends of one key
//! only one can change anything. What a key is and how a request's is answered again is
//! `crate::http::idempotency`'s.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rollcall_shared::UnixMillis;
use rollcall_store::{Sql, StoreError, idempotency};
use uuid::Uuid;

tokio::task_local! {
    static SENT: Arc<Sent>;
}

/// A keyed change being answered: whose, its key, its request's digest.
#[derive(Debug)]
pub struct Sent {
    pub user: Uuid,
    pub key: String,
    pub sha256: String,
    claimed: AtomicBool,
}

impl Sent {
    pub fn new(user: Uuid, key: String, sha256: String) -> Sent {
        Sent {
            user,
            key,
            sha256,
            claimed: AtomicBool::new(false),
        }
    }

    /// Whether a transaction of this request claimed the key and committed.
    pub fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }
}

/// Runs `answering` with `sent` as the request's key.
pub async fn scope<F: Future>(sent: Arc<Sent>, answering: F) -> F::Output {
    SENT.scope(sent, answering).await
}

/// The key of the request this task answers, not yet claimed.
pub(super) fn unclaimed() -> Option<Arc<Sent>> {
    SENT.try_with(|s| s.clone())
        .ok()
        .filter(|s| !s.is_claimed())
}

/// Claims `sent` inside `tx`.
pub(super) fn claim(tx: &dyn Sql, sent: &Sent, now: UnixMillis) -> Result<(), StoreError> {
    idempotency::claim(tx, sent.user, &sent.key, &sent.sha256, now)
}

/// Notes that the transaction that claimed `sent` committed.
pub(super) fn claimed(sent: &Sent) {
    sent.claimed.store(true, Ordering::Release);
}
