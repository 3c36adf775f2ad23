//! The pipeline thread: waits for triggers, takes the walk-in (the burst, then on while the
//! trigger says someone is there), recognises, commits records to the outbox and tells the
//! link. Runs on its own named OS thread because the face networks
//! are CPU-heavy and synchronous; never on the async executor. How it works ([`Tuning`]) is
//! read afresh at each burst: settings from the hub take effect from the next one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rollcall_runtime::Clock;
use rollcall_shared::{AttendanceRecord, Decision, RecordId, SiteZone, UnknownFaces};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::capture::camera::FrameSource;
use super::capture::trigger::TriggerEvent;
use super::clock::{ClockState, week_time};
use super::decide::cooldown::Cooldown;
use super::decide::gallery::MatchGallery;
use super::decide::liveness::{self, Judge};
use super::decide::people::{self, BurstTime};
use super::decide::recognizer::Recognizer;
use super::decide::tuning::Tuning;
use super::decide::walk::Following;
use super::deliver::outbox::{Committed, Outbox};
use super::light::indicator::Event;
use super::light::status_light::LightTx;
use super::shutdown::Shutdown;

/// The thread's name (shown by `top -H`).
pub const THREAD_NAME: &str = "rollcall-pipeline";

/// What the pipeline thread owns.
pub struct Worker {
    pub camera: Box<dyn FrameSource>,
    pub recognizer: Box<dyn Recognizer>,
    /// The liveness judge: loaded at the first burst `[liveness]` wants it, then kept.
    pub liveness: Option<Box<dyn Judge>>,
    pub tuning: watch::Receiver<Tuning>,
    pub cooldown: Cooldown,
    pub gallery: watch::Receiver<Arc<MatchGallery>>,
    pub outbox: Outbox,
    pub committed: mpsc::Sender<RecordId>,
    pub clock: Arc<dyn Clock>,
    /// The school's time zone, which the timetable's times are in.
    pub zone: watch::Receiver<SiteZone>,
    /// Whether a face that matches nobody is kept for review or dropped here.
    pub unknown_faces: watch::Receiver<UnknownFaces>,
    /// Faces dropped here since the start, for the heartbeat.
    pub discarded: Arc<AtomicU64>,
    /// Green for a mark, amber for a face sent for review.
    pub light: LightTx,
    /// Whether the clock is synchronised: stamped on each record.
    pub clock_state: ClockState,
    pub shutdown: Shutdown,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("tuning", &*self.tuning.borrow())
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Starts the thread; it ends after the burst in progress once shutdown is set.
    pub fn spawn(
        self,
        triggers: mpsc::Receiver<TriggerEvent>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || self.run(triggers))
    }

    fn run(mut self, mut triggers: mpsc::Receiver<TriggerEvent>) {
        while let Some(event) = triggers.blocking_recv() {
            if self.shutdown.is_set() {
                break;
            }
            self.handle(event);
        }
        tracing::info!("pipeline thread stopped");
    }

    fn handle(&mut self, event: TriggerEvent) {
        let tuning = self.tuning.borrow_and_update().clone();
        self.cooldown.retune(tuning.cooldown.0, tuning.cooldown.1);
        let captured_at = self.clock.now();
        let time = BurstTime {
            captured_at,
            clock: self.clock_state.get(),
            local: week_time(&self.zone.borrow(), captured_at),
            now: Instant::now(),
        };
        let following = Following {
            rule: tuning.walk,
            spacing: tuning.spacing,
            gate: &tuning.settings.gate,
        };
        let camera = &mut self.camera;
        let grab = || camera.grab();
        let walk = match following.take(grab, self.recognizer.as_ref(), &event.presence) {
            Ok(walk) => walk,
            Err(e) => return tracing::error!(trigger = ?event.kind, "capture failed: {e}"),
        };
        let (frames_taken, frames_kept) = (walk.taken, walk.frames.len());
        let gallery = self.gallery.borrow().clone();
        self.load_judge(tuning.liveness);
        let judge = self.liveness.as_deref().filter(|_| tuning.liveness);
        let outcome = people::process(
            walk,
            self.recognizer.as_ref(),
            judge,
            &gallery,
            &tuning.settings,
            &mut self.cooldown,
            time,
        );
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(e) => return tracing::error!(trigger = ?event.kind, "recognition failed: {e}"),
        };
        let mut committed = 0;
        for record in &outcome.records {
            let _record = tracing::info_span!("record", id = %record.id).entered();
            if self.discards(record) {
                self.discarded.fetch_add(1, Ordering::Relaxed);
                tracing::info!(trigger = ?event.kind, "matched nobody: discarded, as the school asks");
                continue;
            }
            match self.outbox.commit(record) {
                Ok(Committed::Refused | Committed::DiskFull) => {}
                Ok(_) => {
                    committed += 1;
                    let top = record.candidates.first().map(|c| c.student);
                    let decision = record.decision;
                    self.light.send(match decision {
                        Decision::Confident => Event::Marked,
                        Decision::Uncertain | Decision::Unknown => Event::SentForReview,
                    });
                    tracing::info!(trigger = ?event.kind, ?decision, student = ?top, "kept");
                    let _ = self.committed.blocking_send(record.id);
                }
                Err(e) => tracing::error!(record = %record.id, "commit failed, record lost: {e}"),
            }
        }
        tracing::info!(
            trigger = ?event.kind,
            frames_taken,
            frames_kept,
            faces = outcome.faces,
            gated_out = outcome.gated_out,
            people = outcome.people,
            cooled_down = outcome.cooled_down,
            frames_disagreed = outcome.disagreed,
            seen_unclear = outcome.unclear,
            not_live = outcome.not_live,
            committed,
            latency_ms = event.at.elapsed().as_millis() as u64,
            "burst done"
        );
    }

    /// Loads the liveness judge the first time it is `wanted` (a failure is logged and tried
    /// again at the next burst; meanwhile faces are not judged).
    fn load_judge(&mut self, wanted: bool) {
        if wanted && self.liveness.is_none() {
            match liveness::load() {
                Ok(judge) => self.liveness = Some(judge),
                Err(e) => tracing::error!("faces are not judged for liveness: {e}"),
            }
        }
    }

    /// Whether `record` is a face that matched nobody and the school keeps no such faces: it
    /// is dropped before it is written anywhere.
    fn discards(&self, record: &AttendanceRecord) -> bool {
        record.decision == Decision::Unknown
            && *self.unknown_faces.borrow() == UnknownFaces::Discard
    }
}
