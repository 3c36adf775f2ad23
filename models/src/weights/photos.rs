//! Sample face photos for the demo, pinned like the weights: a registry package at an exact
//! version, the SHA-256 of its archive and of every photo taken out of it.
//!
//! The photos are the test images of the `face_recognition` sdist (MIT licence; the pictures
//! are official White House photographs). They are fetched at demo time with
//! `pip download --no-deps` and never committed. This module only fetches and checks files;
//! which photo plays which part in the demo is the demo's business.

use std::path::{Path, PathBuf};

use super::{
    archive,
    error::WeightsError,
    fetch::{FetchAction, ScratchDir},
    pip::{Download, Pip},
    sha::{sha256_file, sha256_hex},
    sources::ArchiveKind,
    write::write_atomic,
};

/// One photo inside a pinned package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedPhoto {
    /// Path inside the archive (below an sdist's top folder `NAME-VER/`).
    pub member: &'static str,
    /// Name of the file written to the photos directory.
    pub file_name: &'static str,
    pub sha256: &'static str,
}

/// A registry package holding sample photos, and the photos used from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoPackage {
    pub package: &'static str,
    pub version: &'static str,
    pub kind: ArchiveKind,
    /// SHA-256 of the archive pip downloads.
    pub archive_sha256: &'static str,
    pub photos: &'static [PinnedPhoto],
}

impl PhotoPackage {
    /// `NAME==VERSION`, the requirement given to pip.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }

    fn download(&self) -> Download<'static> {
        let (name, version, kind) = (self.package, self.version, self.kind);
        Download {
            name,
            version,
            kind,
        }
    }
}

/// Barack Obama (three photos) and Joe Biden (one), from `face_recognition` 1.3.0's tests.
pub const DEMO_PHOTOS: PhotoPackage = PhotoPackage {
    package: "face_recognition",
    version: "1.3.0",
    kind: ArchiveKind::Sdist,
    archive_sha256: "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
    photos: &[
        PinnedPhoto {
            member: "tests/test_images/obama.jpg",
            file_name: "obama.jpg",
            sha256: "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
        },
        PinnedPhoto {
            member: "tests/test_images/obama2.jpg",
            file_name: "obama2.jpg",
            sha256: "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
        },
        PinnedPhoto {
            member: "tests/test_images/obama3.jpg",
            file_name: "obama3.jpg",
            sha256: "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
        },
        PinnedPhoto {
            member: "tests/test_images/biden.jpg",
            file_name: "biden.jpg",
            sha256: "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
        },
    ],
};

/// Make sure every photo of `package` is in `dir` with its pinned SHA-256, downloading the
/// package only when one is missing or differs. Returns what was done.
pub fn fetch_photos(package: &PhotoPackage, dir: &Path) -> Result<FetchAction, WeightsError> {
    if photos_present(package, dir)? {
        return Ok(FetchAction::AlreadyPresent);
    }
    let scratch = ScratchDir::new()?;
    let archive = Pip::detect()?.download(package.download(), scratch.path())?;
    install_photos(package, &archive, dir)?;
    Ok(FetchAction::Written)
}

/// Check `archive` against the pin and write its photos into `dir` (offline).
pub fn install_photos(
    package: &PhotoPackage,
    archive: &Path,
    dir: &Path,
) -> Result<(), WeightsError> {
    let actual = sha256_file(archive).map_err(WeightsError::io(archive))?;
    if actual != package.archive_sha256 {
        let len = std::fs::metadata(archive).map_or(0, |m| m.len());
        let what = format!("{} archive {}", package.requirement(), archive.display());
        let expected = package.archive_sha256;
        return Err(WeightsError::ChecksumMismatch {
            what,
            len,
            expected,
            actual,
        });
    }
    for photo in package.photos {
        let bytes = archive::read_member(archive, package.kind, photo.member)?;
        check_photo(package, photo, &bytes)?;
        write_atomic(&dir.join(photo.file_name), &bytes)?;
    }
    Ok(())
}

fn check_photo(
    package: &PhotoPackage,
    photo: &PinnedPhoto,
    bytes: &[u8],
) -> Result<(), WeightsError> {
    let actual = sha256_hex(bytes);
    if actual == photo.sha256 {
        return Ok(());
    }
    Err(WeightsError::ChecksumMismatch {
        what: format!("{} in {}", photo.member, package.requirement()),
        len: bytes.len() as u64,
        expected: photo.sha256,
        actual,
    })
}

/// Whether every photo is in `dir` with its pinned SHA-256.
fn photos_present(package: &PhotoPackage, dir: &Path) -> Result<bool, WeightsError> {
    for photo in package.photos {
        let path: PathBuf = dir.join(photo.file_name);
        if !path.is_file() || sha256_file(&path).map_err(WeightsError::io(&path))? != photo.sha256 {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;

    const PHOTOS: &[PinnedPhoto] = &[PinnedPhoto {
        member: "tests/a.jpg",
        file_name: "a.jpg",
        // SHA-256 of b"abc"
        sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }];

    /// A `pkg-1.0.tar.gz` holding `tests/a.jpg` with `contents`, and its pin.
    fn sdist(dir: &Path, contents: &[u8]) -> (PathBuf, PhotoPackage) {
        let path = dir.join("pkg-1.0.tar.gz");
        let gz = flate2::write::GzEncoder::new(File::create(&path).unwrap(), Default::default());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_cksum();
        tar.append_data(&mut header, "pkg-1.0/tests/a.jpg", contents)
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        let archive_sha256 = sha256_hex(&std::fs::read(&path).unwrap()).leak();
        let package = PhotoPackage {
            package: "pkg",
            version: "1.0",
            kind: ArchiveKind::Sdist,
            archive_sha256,
            photos: PHOTOS,
        };
        (path, package)
    }

    #[test]
    fn installs_checked_photos_and_then_finds_them_present() {
        let tmp = tempfile::tempdir().unwrap();
        let (archive, package) = sdist(tmp.path(), b"abc");
        let out = tmp.path().join("photos");
        assert!(!photos_present(&package, &out).unwrap());
        install_photos(&package, &archive, &out).unwrap();
        assert_eq!(std::fs::read(out.join("a.jpg")).unwrap(), b"abc");
        assert!(photos_present(&package, &out).unwrap());
        let action = fetch_photos(&package, &out).unwrap();
        assert_eq!(action, FetchAction::AlreadyPresent, "no download needed");
    }

    #[test]
    fn refuses_an_archive_or_a_photo_that_is_not_the_pinned_one() {
        let tmp = tempfile::tempdir().unwrap();
        let (archive, mut package) = sdist(tmp.path(), b"abd");
        let out = tmp.path().join("photos");
        let err = install_photos(&package, &archive, &out).unwrap_err();
        assert!(err.to_string().contains("tests/a.jpg"), "{err}");
        package.archive_sha256 = "0000";
        let err = install_photos(&package, &archive, &out).unwrap_err();
        assert!(err.to_string().contains("pkg==1.0 archive"), "{err}");
        assert!(!out.join("a.jpg").exists(), "nothing written");
    }

    #[test]
    fn demo_photos_are_pinned_by_file() {
        assert_eq!(DEMO_PHOTOS.requirement(), "face_recognition==1.3.0");
        let names: Vec<_> = DEMO_PHOTOS.photos.iter().map(|p| p.file_name).collect();
        assert_eq!(
            names,
            ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"]
        );
        assert!(DEMO_PHOTOS.photos.iter().all(|p| p.sha256.len() == 64));
    }
}
