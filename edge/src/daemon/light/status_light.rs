//! The status light and buzzer as hardware: the [`Lamps`] boundary (GPIO pins on a Pi,
//! [`FakeLamps`] in tests, [`NoLamps`] when none are wired), the [`ClockStatus`] boundary
//! (whether this machine's clock is synchronised), and the `rollcall-light` thread that feeds
//! [`Indicator`] with events and the clock's state and writes its levels to the lamps.
//!
//! The pipeline thread and the link only `try_send` an [`Event`]: the light never holds
//! them up, and a full queue drops the event.

use std::process::Command;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rollcall_shared::ClockSync;

use super::indicator::{Event, Indicator, Levels};
use crate::daemon::clock::ClockState;

/// How often the levels are brought up to date.
const TICK: Duration = Duration::from_millis(20);
/// How often the clock's state is asked for.
const CLOCK_EVERY: Duration = Duration::from_secs(60);
const QUEUE: usize = 16;

/// Outputs the light is shown on.
pub trait Lamps: Send + 'static {
    fn show(&mut self, levels: Levels) -> Result<(), String>;
}

/// Whether this machine's clock is synchronised to network time.
pub trait ClockStatus: Send + 'static {
    /// `None` when it cannot be told.
    fn synchronised(&mut self) -> Option<bool>;
}

/// No light wired.
#[derive(Debug, Default)]
pub struct NoLamps;

impl Lamps for NoLamps {
    fn show(&mut self, _levels: Levels) -> Result<(), String> {
        Ok(())
    }
}

/// Lamps that remember every change, for tests.
#[derive(Clone, Debug, Default)]
pub struct FakeLamps {
    pub shown: Arc<Mutex<Vec<Levels>>>,
}

impl Lamps for FakeLamps {
    fn show(&mut self, levels: Levels) -> Result<(), String> {
        self.shown
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .push(levels);
        Ok(())
    }
}

/// A clock status fixed by a test (shared, so the test can change it).
#[derive(Clone, Debug, Default)]
pub struct FakeClockStatus(pub Arc<Mutex<Option<bool>>>);

impl ClockStatus for FakeClockStatus {
    fn synchronised(&mut self) -> Option<bool> {
        self.0.lock().ok().and_then(|s| *s)
    }
}

/// The clock's state as systemd (`timedatectl`, for systemd-timesyncd and chrony alike) or
/// chrony (`chronyc tracking`) reports it.
#[derive(Debug, Default)]
pub struct SystemClockStatus;

impl ClockStatus for SystemClockStatus {
    fn synchronised(&mut self) -> Option<bool> {
        let timedatectl = ["show", "--property=NTPSynchronized", "--value"];
        if let Some(out) = output("timedatectl", &timedatectl) {
            return parse_timedatectl(&out);
        }
        output("chronyc", &["-n", "tracking"]).and_then(|out| parse_chronyc(&out))
    }
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `yes` or `no`.
pub fn parse_timedatectl(out: &str) -> Option<bool> {
    match out.trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// The `Leap status` line: `Normal` (or an announced leap second) is synchronised.
pub fn parse_chronyc(out: &str) -> Option<bool> {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("Leap status"))?;
    let status = line.split_once(':')?.1.trim();
    Some(status != "Not synchronised")
}

/// Where events for the light go; does nothing once the light has stopped.
#[derive(Clone, Debug)]
pub struct LightTx(SyncSender<Event>);

impl LightTx {
    pub fn send(&self, event: Event) {
        if let Err(TrySendError::Full(event)) = self.0.try_send(event) {
            tracing::debug!(?event, "status light busy: event dropped");
        }
    }
}

/// Starts the light; it runs until every [`LightTx`] is dropped, then turns everything off.
/// What it finds of the clock goes into `found`.
pub fn spawn(
    lamps: Box<dyn Lamps>,
    clock: Box<dyn ClockStatus>,
    found: ClockState,
    (lamps_on, offline_after): (bool, Duration),
) -> std::io::Result<(LightTx, JoinHandle<()>)> {
    let (tx, rx) = sync_channel(QUEUE);
    let light = Indicator::new(lamps_on, offline_after, Instant::now());
    let clock = (clock, found);
    let thread = std::thread::Builder::new()
        .name("rollcall-light".into())
        .spawn(move || run(light, lamps, clock, &rx))?;
    Ok((LightTx(tx), thread))
}

fn run(
    mut light: Indicator,
    mut lamps: Box<dyn Lamps>,
    (mut clock, found): (Box<dyn ClockStatus>, ClockState),
    events: &Receiver<Event>,
) {
    let mut shown = None;
    let mut clock_state = None;
    let mut clock_asked: Option<Instant> = None;
    loop {
        match events.recv_timeout(TICK) {
            Ok(event) => light.on(event, Instant::now()),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if clock_asked.is_none_or(|at| at.elapsed() >= CLOCK_EVERY) {
            clock_asked = Some(Instant::now());
            let now = clock.synchronised();
            log_clock_change(clock_state, now);
            clock_state = Some(now);
            found.set(ClockSync::from_option(now));
            light.on(Event::Clock(now), Instant::now());
        }
        let levels = light.levels(Instant::now());
        if shown != Some(levels) {
            if let Err(e) = lamps.show(levels) {
                tracing::warn!("status light: {e}");
            }
            shown = Some(levels);
        }
    }
    let _ = lamps.show(Levels::default());
}

fn log_clock_change(before: Option<Option<bool>>, now: Option<bool>) {
    match (before.flatten(), now) {
        (Some(false) | None, Some(true)) => tracing::info!("the clock is synchronised"),
        (Some(true) | None, Some(false)) => tracing::warn!(
            "the clock is not synchronised (timedatectl / chronyc): capture times may be wrong"
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reports_are_read() {
        assert_eq!(parse_timedatectl("yes\n"), Some(true));
        assert_eq!(parse_timedatectl("no\n"), Some(false));
        assert_eq!(parse_timedatectl(""), None);
        let chrony = "Reference ID    : C0A80001 (router)\nLeap status     : Normal\n";
        assert_eq!(parse_chronyc(chrony), Some(true));
        let chrony = "Reference ID    : 00000000 ()\nLeap status     : Not synchronised\n";
        assert_eq!(parse_chronyc(chrony), Some(false));
        assert_eq!(parse_chronyc("garbage"), None);
    }

    #[test]
    fn the_light_follows_events_and_turns_off_when_the_daemon_stops() {
        let lamps = FakeLamps::default();
        let clock = FakeClockStatus(Arc::new(Mutex::new(Some(true))));
        let (tx, thread) = spawn(
            Box::new(lamps.clone()),
            Box::new(clock),
            ClockState::default(),
            (true, Duration::from_secs(60)),
        )
        .unwrap();
        tx.send(Event::Connected);
        tx.send(Event::Marked);
        tx.send(Event::SentForReview);
        drop(tx);
        thread.join().unwrap();
        let shown = lamps.shown.lock().unwrap().clone();
        assert!(shown.iter().any(|l| l.green && l.buzzer), "{shown:?}");
        assert!(shown.iter().any(|l| l.amber), "{shown:?}");
        assert_eq!(shown.last(), Some(&Levels::default()));
    }

    #[test]
    fn an_unsynchronised_clock_shows_red_at_once_and_is_shared() {
        let lamps = FakeLamps::default();
        let clock = FakeClockStatus(Arc::new(Mutex::new(Some(false))));
        let found = ClockState::default();
        let (tx, thread) = spawn(
            Box::new(lamps.clone()),
            Box::new(clock),
            found.clone(),
            (true, Duration::from_secs(60)),
        )
        .unwrap();
        tx.send(Event::Connected);
        drop(tx);
        thread.join().unwrap();
        let shown = lamps.shown.lock().unwrap().clone();
        assert!(shown.first().is_some_and(|l| l.red), "{shown:?}");
        assert_eq!(
            found.get(),
            ClockSync::Unsynchronised,
            "records and heartbeats say so"
        );
    }
}
