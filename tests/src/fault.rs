//! What the fault tests share: a thread pulling a door unit's trigger, waiting for commits,
//! and the accounting, record id by record id, between the edge's ledger
//! ([`EdgeSetup::committed`]) and the records the hub holds.
//!
//! These helpers assert: they panic with what was expected and what was found.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::api::Api;
use crate::edge::EdgeSetup;
use crate::process::Process;

/// How long records may take to be committed, or to reach the hub once it can be reached.
pub const SETTLE: Duration = Duration::from_secs(90);

/// A thread pulling the edge's trigger every 100 ms (errors ignored: the edge may be down).
#[derive(Debug)]
pub struct Triggers {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Triggers {
    pub fn start(edge: &EdgeSetup) -> Triggers {
        Self::every(edge, Duration::from_millis(100))
    }

    /// A thread pulling the edge's trigger every `period`.
    pub fn every(edge: &EdgeSetup, period: Duration) -> Triggers {
        let socket = edge.clone();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                let _ = socket.trigger();
            }
        });
        Triggers { stop, thread }
    }

    pub fn stop(self) {
        drop(self.stop);
        self.thread.join().unwrap();
    }
}

/// Polls (blocking) until the edge's ledger holds at least `n` ids; panics with the edge's
/// log if it does not within [`SETTLE`] or the edge stops.
pub fn wait_committed(setup: &EdgeSetup, n: usize, edge: &mut Process) {
    let what = format!("{n} records committed");
    crate::wait_until(&what, SETTLE, || {
        edge.exited() || setup.committed().unwrap().len() >= n
    })
    .unwrap_or_else(|e| panic!("{e}:\n{}", edge.output()));
    assert!(!edge.exited(), "the edge stopped:\n{}", edge.output());
}

/// Waits for the outbox to drain and the hub to hold every committed id of `device`, then
/// checks that the two lists are the same, id by id, with no id twice. Returns the ids.
pub async fn account(setup: &EdgeSetup, device: &str, admin: &Api) -> Vec<String> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let committed = setup.committed().unwrap();
        let at_hub = admin.record_ids(device).await.unwrap();
        let outbox = setup.unacknowledged().unwrap();
        if outbox.is_empty() && at_hub.len() >= committed.len() {
            assert_eq!(
                at_hub, committed,
                "the hub's records are not the committed ones"
            );
            return committed;
        }
        assert!(
            Instant::now() < deadline,
            "not settled within {SETTLE:?}: committed {}, at the hub {}, in the outbox {}; \
             missing at the hub: {:?}",
            committed.len(),
            at_hub.len(),
            outbox.len(),
            committed
                .iter()
                .filter(|id| !at_hub.contains(id))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
