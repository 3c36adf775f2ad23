//! A Raspberry Pi camera through libcamera: `rpicam-vid` runs as a child process for as long
//! as the source lives, writing MJPEG to a pipe, and [`RpicamSource::grab`] decodes the newest
//! whole frame. The camera runs all the time so that a burst starts with exposure and focus
//! already settled. Frames stay in memory; nothing is written to disk.
//!
//! A `rollcall-rpicam` thread supervises the program: it reads its frames, restarts it when
//! it exits (after a back-off, so a missing camera does not spin) and kills it when it stalls
//! (alive, but no frame for `stall`). A grab waits for a fresh frame up to `stall`, or up to
//! the start-up allowance while the program is (re)starting and has sent nothing yet; one that
//! gets none fails with what is known (the program's last words on stderr), and the next grab
//! tries again.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::RgbImage;
use rollcall_models::image_io::{ImageLimits, decode_image};

use super::camera::{CameraError, FrameSource};
use super::mjpeg::Splitter;
use crate::config::RpicamConfig;

/// The longest a freshly started program may take to send its first frame.
const STARTUP: Duration = Duration::from_secs(10);
/// The largest frame kept; anything longer is dropped by the splitter.
const MAX_FRAME: usize = 16 * 1024 * 1024;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const LAST_BACKOFF: Duration = Duration::from_secs(30);

/// The camera, as frames from `rpicam-vid`.
#[derive(Debug)]
pub struct RpicamSource {
    shared: Arc<Shared>,
    stall: Duration,
    /// The sequence number of the last frame handed out.
    handed_out: u64,
    supervisor: Option<JoinHandle<()>>,
}

/// What the supervisor and the grabbing thread share.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The newest whole frame, its number and when it arrived.
    frame: Option<(u64, Instant, Arc<Vec<u8>>)>,
    frames: u64,
    /// Times the program was started again.
    restarts: u64,
    /// Whether the current run of the program (or the wait before it) has yet to send a
    /// frame: grabs then allow it [`STARTUP`] rather than `stall`.
    starting: bool,
    /// The program's last line on stderr.
    last_words: Option<String>,
    /// Why the program could not be started the last time it was tried.
    start_error: Option<String>,
    running: Option<Child>,
    stopping: bool,
}

impl RpicamSource {
    /// Starts the program and its supervisor. Fails only if the thread cannot be made; a
    /// program that will not start is retried, and grabs say why they get nothing.
    pub fn open(config: &RpicamConfig) -> Result<Self, CameraError> {
        let shared = Arc::new(Shared::default());
        let command = (config.program.clone(), arguments(config));
        let stall = config.stall;
        let supervisor = std::thread::Builder::new()
            .name("rollcall-rpicam".into())
            .spawn({
                let shared = shared.clone();
                move || supervise(&command.0, &command.1, stall, &shared)
            })
            .map_err(|e| CameraError::Device(format!("cannot start the camera thread: {e}")))?;
        Ok(Self {
            shared,
            stall,
            handed_out: 0,
            supervisor: Some(supervisor),
        })
    }

    /// How many times the program has been started again after dying or stalling.
    pub fn restarts(&self) -> u64 {
        self.shared.lock().restarts
    }

    /// The newest frame not yet handed out, waiting up to `stall` (longer while it starts).
    fn fresh_jpeg(&mut self) -> Result<Arc<Vec<u8>>, CameraError> {
        let asked = Instant::now();
        let mut state = self.shared.lock();
        loop {
            let patience = if state.starting || self.handed_out == 0 {
                STARTUP
            } else {
                self.stall
            };
            let deadline = asked + patience;
            if let Some(why) = &state.start_error {
                return Err(CameraError::Device(why.clone()));
            }
            if let Some((number, at, jpeg)) = &state.frame
                && *number > self.handed_out
                && at.elapsed() < self.stall
            {
                self.handed_out = *number;
                return Ok(jpeg.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let why = state.last_words.as_deref().unwrap_or("no message");
                return Err(CameraError::Device(format!(
                    "rpicam-vid sent no frame for {patience:?} (its last words: {why})"
                )));
            }
            state = self.shared.wait(state, left);
        }
    }
}

impl FrameSource for RpicamSource {
    fn grab(&mut self) -> Result<RgbImage, CameraError> {
        let jpeg = self.fresh_jpeg()?;
        decode_image(&jpeg, ImageLimits::default())
            .map_err(|e| CameraError::Device(format!("rpicam-vid sent a bad frame: {e}")))
    }
}

impl Drop for RpicamSource {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stopping = true;
            if let Some(child) = state.running.as_mut() {
                let _ = child.kill();
            }
        }
        self.shared.changed.notify_all();
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>, up_to: Duration) -> MutexGuard<'a, State> {
        match self.changed.wait_timeout(state, up_to) {
            Ok((state, _)) => state,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }
}

/// `rpicam-vid`'s command line for `config`: MJPEG to standard output, no preview, forever.
pub fn arguments(config: &RpicamConfig) -> Vec<String> {
    let mut args: Vec<String> = ["--nopreview", "--codec", "mjpeg", "--output", "-"]
        .into_iter()
        .map(String::from)
        .collect();
    args.extend(["--timeout".into(), "0".into(), "--flush".into()]);
    args.extend(["--width".into(), config.width.to_string()]);
    args.extend(["--height".into(), config.height.to_string()]);
    args.extend(["--framerate".into(), config.fps.to_string()]);
    args.extend(["--exposure".into(), config.exposure.as_arg().into()]);
    if let Some(shutter) = config.shutter {
        args.extend(["--shutter".into(), shutter.as_micros().to_string()]);
    }
    args
}

/// Runs the program until the source is dropped, restarting it as needed.
fn supervise(program: &Path, args: &[String], stall: Duration, shared: &Arc<Shared>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = Instant::now();
        let frames_before = {
            let mut state = shared.lock();
            state.starting = true;
            state.frames
        };
        match start(program, args, shared) {
            Ok(stdout) => watch(stdout, stall, shared),
            Err(e) => {
                shared.lock().start_error = Some(e);
                shared.changed.notify_all();
            }
        }
        let ended = reap(shared);
        let mut state = shared.lock();
        if state.frames > frames_before {
            backoff = FIRST_BACKOFF;
        }
        // A grab now waits for the program's next run, not just for its next frame.
        state.starting = true;
        if !state.stopping {
            tracing::warn!(
                program = %program.display(),
                ran_for_ms = started.elapsed().as_millis() as u64,
                "camera program stopped ({ended}); starting it again in {backoff:?}"
            );
            state = shared.wait(state, backoff);
        }
        if state.stopping {
            return;
        }
        state.restarts += 1;
        backoff = (backoff * 2).min(LAST_BACKOFF);
    }
}

/// Starts the program with its stderr read line by line; hands back its stdout.
fn start(program: &Path, args: &[String], shared: &Arc<Shared>) -> Result<ChildStdout, String> {
    let mut state = shared.lock();
    if state.stopping {
        return Err("stopping".into());
    }
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    if let Some(stderr) = child.stderr.take() {
        spawn_stderr_reader(stderr, shared);
    }
    state.running = Some(child);
    state.start_error = None;
    Ok(stdout)
}

/// Reads frames until the program's output ends, killing it if it stalls.
fn watch(stdout: ChildStdout, stall: Duration, shared: &Shared) {
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_frames(stdout, shared));
        let mut patience = STARTUP.max(stall);
        let mut seen = shared.lock().frames;
        let mut since = Instant::now();
        while !reader.is_finished() {
            let state = shared.wait(shared.lock(), Duration::from_millis(100));
            if state.frames > seen {
                (seen, since, patience) = (state.frames, Instant::now(), stall);
            } else if since.elapsed() > patience {
                drop(state);
                kill(shared, &format!("sent no frame for {patience:?}"));
                break;
            }
        }
    });
}

/// Splits the program's output into frames and publishes each as the newest.
fn read_frames(mut stdout: ChildStdout, shared: &Shared) {
    let mut splitter = Splitter::new(MAX_FRAME);
    let mut chunk = vec![0; 64 * 1024];
    while let Ok(n @ 1..) = stdout.read(&mut chunk) {
        splitter.push(&chunk[..n]);
        while let Some(frame) = splitter.next_frame() {
            let mut state = shared.lock();
            state.frames += 1;
            state.frame = Some((state.frames, Instant::now(), Arc::new(frame)));
            state.starting = false;
            drop(state);
            shared.changed.notify_all();
        }
    }
    if splitter.skipped > 0 {
        tracing::debug!(
            bytes = splitter.skipped,
            "camera output that was not a frame"
        );
    }
    shared.changed.notify_all();
}

/// Logs the program's stderr at debug and keeps its last line for error messages.
fn spawn_stderr_reader(stderr: ChildStderr, shared: &Arc<Shared>) {
    let shared = shared.clone();
    let read = move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            tracing::debug!(target: "rpicam", "{line}");
            if !line.trim().is_empty() {
                shared.lock().last_words = Some(line);
            }
        }
    };
    // Without the thread the lines are lost, nothing more: the pipe closes with the program.
    let _ = std::thread::Builder::new()
        .name("rollcall-rpicam-err".into())
        .spawn(read);
}

/// Kills the running program (its output then ends and `watch` returns).
fn kill(shared: &Shared, why: &str) {
    if let Some(child) = shared.lock().running.as_mut() {
        tracing::warn!("camera program {why}: killing it");
        let _ = child.kill();
    }
}

/// Waits for the program to end (killing it if its output closed but it lives on) and says how.
fn reap(shared: &Shared) -> String {
    let Some(mut child) = shared.lock().running.take() else {
        return "it did not start".into();
    };
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.kill();
    }
    match child.wait() {
        Ok(status) => status.to_string(),
        Err(e) => format!("cannot wait for it: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Exposure;

    #[test]
    fn the_command_line_asks_for_mjpeg_on_stdout_forever_as_configured() {
        let config = RpicamConfig {
            program: "rpicam-vid".into(),
            width: 1280,
            height: 720,
            fps: 15.0,
            exposure: Exposure::Sport,
            shutter: Some(Duration::from_millis(8)),
            stall: Duration::from_secs(3),
        };
        let args = arguments(&config).join(" ");
        assert_eq!(
            args,
            "--nopreview --codec mjpeg --output - --timeout 0 --flush --width 1280 \
             --height 720 --framerate 15 --exposure sport --shutter 8000"
        );
    }
}
