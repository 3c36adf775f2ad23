//! The one gate every argon2 computation goes through: sign-in checks, password and device
//! secret hashing over HTTP, and door units' MQTT logins. Each argon2 run takes about 19 MiB
//! and a tenth of a second of a core, so without a gate 200 logins at once took ~1.8 GB.
//!
//! At most `at_once` run together. A caller over HTTP waits at most `max_wait` for its turn
//! and is then told [`Busy`] (the API answers 503 with Retry-After); door units wait as long
//! as it takes, as they must get in eventually and reconnect on their own schedule.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// Every argon2 slot was taken for longer than the wait allowed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashingError {
    #[error("the hub is busy checking passwords; try again in {retry_after} s")]
    Busy { retry_after: u64 },
    #[error("a hashing task failed: {0}")]
    Failed(String),
}

/// The gate, shared by the HTTP API and the MQTT broker.
#[derive(Debug, Clone)]
pub struct Hashing {
    slots: Arc<Semaphore>,
    max_wait: Duration,
}

impl Hashing {
    /// A gate letting `at_once` (at least 1) runs through together.
    pub fn new(at_once: usize, max_wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(at_once.max(1))),
            max_wait,
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, waiting at most `max_wait`.
    pub async fn run<T, F>(&self, work: F) -> Result<T, HashingError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| self.busy())?
            .map_err(|e| HashingError::Failed(e.to_string()))?;
        spawn(slot, work).await
    }

    /// Runs `work` once a slot is free, however long that takes (door units' logins).
    pub async fn run_waiting<T, F>(&self, work: F) -> Result<T, HashingError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashingError::Failed(e.to_string()))?;
        spawn(slot, work).await
    }

    fn busy(&self) -> HashingError {
        HashingError::Busy {
            retry_after: self.max_wait.as_secs().max(1),
        }
    }
}

async fn spawn<T, F>(slot: tokio::sync::OwnedSemaphorePermit, work: F) -> Result<T, HashingError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(slot);
        out
    })
    .await
    .map_err(|e| HashingError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_answers_busy_after_the_wait() {
        let gate = Hashing::new(1, Duration::from_millis(50));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = gate.clone();
        let first = tokio::spawn(async move { busy.run(move || held.recv().is_ok()).await });
        tokio::time::timeout(Duration::from_secs(5), async {
            while gate.slots.available_permits() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        assert_eq!(
            gate.run(|| ()).await,
            Err(HashingError::Busy { retry_after: 1 })
        );
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(true));
        assert_eq!(gate.run(|| 7).await, Ok(7));
    }
}
