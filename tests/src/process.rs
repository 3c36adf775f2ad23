//! Rollcall's own programs as real child processes: found next to the test binary (Cargo
//! builds every workspace binary for `cargo test --workspace`), their output kept in a log
//! file that is printed when a test fails, stopped with SIGTERM and killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The path of workspace binary `name` in the profile directory this test was built into, or
/// in `$CARGO_TARGET_DIR`'s when the test was built in a separate build directory
/// (`CARGO_BUILD_BUILD_DIR`: Cargo leaves only the tests there).
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test>-<hash>
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .context("the test binary is not in a Cargo target directory")?;
    let path = profile.join(name);
    let target = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty());
    let in_target = target
        .zip(profile.file_name())
        .map(|(t, p)| Path::new(&t).join(p));
    let found = [Some(path.clone()), in_target.map(|p| p.join(name))]
        .into_iter()
        .flatten()
        .find(|p| p.is_file());
    found.with_context(|| {
        format!(
            "{} is missing: build it first (`cargo build -p {name}`; `cargo test --workspace` does)",
            path.display()
        )
    })
}

/// Runs `name args...` to completion, failing with its output unless it succeeds.
pub fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Output> {
    let out = Command::new(binary(name)?)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "{name} {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// A long-running child process with its output in `log`.
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    pub log: PathBuf,
}

impl Process {
    /// Starts `name args...` with output to `log`.
    pub fn start(
        name: &str,
        args: &[&str],
        env: &[(&str, &str)],
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let out = std::fs::File::create(&log)?;
        let child = Command::new(binary(name)?)
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
        })
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Its log so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits up to `timeout` for it to exit.
    pub fn terminate(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        signal(self.child.id(), "TERM")?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("{} did not exit within {timeout:?} of SIGTERM", self.name)
    }

    /// Kills it with SIGKILL (a power cut, as far as the process can tell) and reaps it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.exited() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("---- {} log ----\n{}", self.name, self.output());
        }
    }
}

fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()?;
    anyhow::ensure!(status.success(), "kill -{name} {pid} failed");
    Ok(())
}
