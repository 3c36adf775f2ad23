//! A small tmpfs mounted for one test (a disk that fills up), unmounted on drop. Mounting
//! needs root (or CAP_SYS_ADMIN); when it fails the error says why, so a test using it fails
//! loudly instead of skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

/// A mounted tmpfs.
#[derive(Debug)]
pub struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `bytes` (rounded up to pages) on the directory `path`, creating it.
    pub fn mount(path: &Path, bytes: u64) -> anyhow::Result<Self> {
        std::fs::create_dir_all(path)?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes},mode=0755"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .context("running mount")?;
        anyhow::ensure!(
            out.status.success(),
            "cannot mount a {bytes}-byte tmpfs on {} ({}): {} — this test needs root \
             (or CAP_SYS_ADMIN) to give the edge a small disk that fills up",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(Self {
            path: path.to_owned(),
        })
    }

    /// Bytes free for unprivileged writers (`df`'s "Avail").
    pub fn available(&self) -> anyhow::Result<u64> {
        let out = Command::new("df")
            .args(["--block-size=1", "--output=avail"])
            .arg(&self.path)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .with_context(|| format!("unexpected df output: {text}"))
    }

    /// Writes `name` (another program's data) until only `leaving` bytes are free or the disk
    /// is full; returns the bytes written.
    pub fn fill(&self, name: &str, leaving: u64) -> anyhow::Result<u64> {
        use std::io::Write;
        let target = self.available()?.saturating_sub(leaving);
        let mut file = std::fs::File::create(self.path.join(name))?;
        let chunk = vec![0xA5u8; 64 * 1024];
        let mut written = 0;
        while written < target {
            let n = chunk.len().min((target - written) as usize);
            match file.write_all(&chunk[..n]).and_then(|()| file.sync_data()) {
                Ok(()) => written += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(written)
    }
}

impl Tmpfs {
    /// Deletes what [`Tmpfs::fill`] wrote as `name`.
    pub fn remove(&self, name: &str) -> anyhow::Result<()> {
        Ok(std::fs::remove_file(self.path.join(name))?)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a process not yet reaped): detach it now, freed when unused.
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}
