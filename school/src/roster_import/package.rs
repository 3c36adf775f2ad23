//! A OneRoster package's files, from a zip archive (at its root or in one folder, as export
//! tools make them) or from a folder on disk. Only the files the import reads are taken, each
//! at most [`MAX_FILE`] bytes unpacked.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use super::oneroster;
use super::roster::Roster;
use crate::table::RowError;

/// The most bytes one OneRoster file may unpack to.
pub const MAX_FILE: u64 = 64 * 1024 * 1024;

/// The files OneRoster import reads.
pub const ONEROSTER_FILES: [&str; 7] = [
    "manifest.csv",
    "users.csv",
    "roles.csv",
    "demographics.csv",
    "classes.csv",
    "enrollments.csv",
    "academicSessions.csv",
];

/// A OneRoster package in a zip archive.
pub fn read_zip(bytes: &[u8]) -> Result<Roster, Vec<RowError>> {
    let files = unzip(bytes).map_err(|message| {
        vec![RowError {
            file: "(zip)".into(),
            line: 0,
            message,
        }]
    })?;
    oneroster::read(&files)
}

/// A OneRoster package unpacked in a folder.
pub fn read_dir(dir: &Path) -> std::io::Result<Result<Roster, Vec<RowError>>> {
    let mut files = BTreeMap::new();
    for name in ONEROSTER_FILES {
        let path = dir.join(name);
        if path.exists() {
            let mut bytes = Vec::new();
            std::fs::File::open(&path)?
                .take(MAX_FILE + 1)
                .read_to_end(&mut bytes)?;
            if bytes.len() as u64 > MAX_FILE {
                let message = format!("more than {MAX_FILE} bytes");
                return Ok(Err(vec![RowError {
                    file: name.to_owned(),
                    line: 0,
                    message,
                }]));
            }
            files.insert(name.to_owned(), bytes);
        }
    }
    Ok(oneroster::read(&files))
}

fn unzip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a zip archive: {e}"))?;
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = entry
            .name()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if !ONEROSTER_FILES.contains(&name.as_str()) || entry.is_dir() {
            continue;
        }
        if files.contains_key(&name) {
            return Err(format!("{name} is in the archive twice"));
        }
        let mut text = Vec::new();
        entry
            .take(MAX_FILE + 1)
            .read_to_end(&mut text)
            .map_err(|e| format!("{name}: {e}"))?;
        if text.len() as u64 > MAX_FILE {
            return Err(format!("{name} unpacks to more than {MAX_FILE} bytes"));
        }
        files.insert(name, text);
    }
    Ok(files)
}
