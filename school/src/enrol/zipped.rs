//! A photographer's folder sent as one zip file: its photos, named as a folder's are
//! (`crate::enrol::folder`), and nothing else a zip can do to the hub.
//!
//! Before a byte is inflated, the zip's own table is read and the whole file refused when it
//! holds more than [`MAX_PHOTOS`] photos or says it inflates to more than [`max_inflated`]
//! (a zip bomb). Then each photo is inflated only when its turn comes, at most the photo
//! limit plus one byte, so one photo at a time is held; an entry longer than the table says,
//! or a name that climbs out of the folder (`../`, `/etc/…`), is refused on its own line.
//! Folders inside the zip are flattened: a photo's name is its file name, as references are
//! unique in the school. Hidden files, `__MACOSX/` and files that are not photos are left
//! alone and counted.

use std::io::{Cursor, Read};

use zip::ZipArchive;

use super::folder::{MAX_PHOTOS, is_photo};

/// The least a zip may inflate to, however small it is.
const MIN_INFLATED: u64 = 64 * 1024 * 1024;
/// How many times its own size a zip of photos may inflate to: photos hardly compress, so a
/// real photographer's zip inflates to about its size; a zip bomb, to thousands of times it.
const MAX_RATIO: u64 = 20;

/// The most a zip of `len` bytes may inflate to.
pub fn max_inflated(len: u64) -> u64 {
    len.saturating_mul(MAX_RATIO).max(MIN_INFLATED)
}

/// A zip's photos, to be read in turn.
#[allow(missing_debug_implementations)]
pub struct Zipped<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    /// The photos' places in the archive and names, by name.
    photos: Vec<(usize, String)>,
    /// Files left alone.
    pub others: usize,
    max_bytes: u64,
}

/// Why a whole zip was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZipRefused {
    #[error("not a zip file ({0})")]
    NotAZip(String),
    #[error("the zip holds {0} photos; at most {MAX_PHOTOS} at once: split it")]
    TooMany(usize),
    #[error(
        "the zip says it inflates to {inflated} bytes, more than {max} for a zip of {len}: \
         refused (photos hardly compress; is it a zip bomb?)"
    )]
    Bomb { inflated: u64, max: u64, len: u64 },
}

impl<'a> Zipped<'a> {
    /// Reads the zip's table: which entries are photos, by name, and whether the whole is
    /// within the limits. `max_bytes` is the most one photo may be.
    pub fn open(bytes: &'a [u8], max_bytes: u64) -> Result<Self, ZipRefused> {
        let mut archive =
            ZipArchive::new(Cursor::new(bytes)).map_err(|e| ZipRefused::NotAZip(e.to_string()))?;
        let (mut photos, mut others, mut inflated) = (Vec::new(), 0, 0u64);
        for i in 0..archive.len() {
            let entry = archive
                .by_index_raw(i)
                .map_err(|e| ZipRefused::NotAZip(e.to_string()))?;
            if entry.is_dir() {
                continue;
            }
            let name = entry.name().replace('\\', "/");
            let file = name.rsplit('/').next().unwrap_or_default().to_owned();
            let hidden = file.starts_with('.') || name.split('/').any(|p| p == "__MACOSX");
            if hidden || !is_photo(&file) {
                others += 1;
                continue;
            }
            inflated = inflated.saturating_add(entry.size());
            photos.push((i, name));
        }
        if photos.len() > MAX_PHOTOS {
            return Err(ZipRefused::TooMany(photos.len()));
        }
        let (len, max) = (bytes.len() as u64, max_inflated(bytes.len() as u64));
        if inflated > max {
            return Err(ZipRefused::Bomb { inflated, max, len });
        }
        photos.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(Zipped {
            archive,
            photos,
            others,
            max_bytes,
        })
    }

    /// How many photos it holds.
    pub fn len(&self) -> usize {
        self.photos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.photos.is_empty()
    }

    /// Each photo's file name and bytes, inflated as it is reached (or why it cannot be).
    pub fn photos(mut self) -> impl Iterator<Item = (String, std::io::Result<Vec<u8>>)> + 'a {
        let photos = std::mem::take(&mut self.photos);
        photos.into_iter().map(move |(i, name)| {
            let file = name.rsplit('/').next().unwrap_or_default().to_owned();
            let bytes = self.inflate(i, &name);
            (file, bytes)
        })
    }

    fn inflate(&mut self, i: usize, name: &str) -> std::io::Result<Vec<u8>> {
        let refused = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
        let entry = self
            .archive
            .by_index(i)
            .map_err(|e| refused(format!("in the zip: {e}")))?;
        if entry.enclosed_name().is_none() {
            return Err(refused(format!(
                "{name:?} climbs out of the zip's folder: refused"
            )));
        }
        let (said, max) = (entry.size(), self.max_bytes);
        if said > max {
            return Err(refused(format!(
                "{said} bytes once inflated; a photo may be at most {max}"
            )));
        }
        let mut bytes = Vec::with_capacity(said as usize);
        entry.take(said + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > said {
            return Err(refused(
                "longer than the zip's table says: refused (a damaged or forged zip)".into(),
            ));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            out.start_file(*name, options).unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn read(zip: &[u8]) -> Vec<(String, Result<usize, String>)> {
        Zipped::open(zip, 1000)
            .unwrap()
            .photos()
            .map(|(n, b)| (n, b.map(|b| b.len()).map_err(|e| e.to_string())))
            .collect()
    }

    #[test]
    fn photos_are_read_by_file_name_and_the_rest_left_alone() {
        let zip = zip_of(&[
            ("class 7B/S2.jpg", b"second"),
            ("class 7B/S1.JPG", b"first"),
            ("class 7B/notes.txt", b"not a photo"),
            ("__MACOSX/class 7B/._S1.JPG", b"resource fork"),
            ("class 7B/.hidden.jpg", b"hidden"),
        ]);
        let z = Zipped::open(&zip, 1000).unwrap();
        assert_eq!((z.len(), z.others), (2, 3));
        assert_eq!(
            read(&zip),
            [("S1.JPG".into(), Ok(5)), ("S2.jpg".into(), Ok(6))],
            "by name in the zip, folders flattened"
        );
    }

    #[test]
    fn a_zip_bomb_a_climbing_name_and_an_oversized_photo_are_refused() {
        let zeros = vec![0u8; 70 * 1024 * 1024];
        let bomb = zip_of(&[("S1.jpg", &zeros)]);
        assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
        let refused = Zipped::open(&bomb, u64::MAX).err().unwrap();
        assert!(matches!(refused, ZipRefused::Bomb { .. }), "{refused}");

        let zip = zip_of(&[("../../etc/S1.jpg", b"x"), ("S2.jpg", &[7u8; 1001])]);
        let lines = read(&zip);
        assert!(
            lines[0].1.as_ref().unwrap_err().contains("climbs out"),
            "{lines:?}"
        );
        assert!(
            lines[1].1.as_ref().unwrap_err().contains("at most 1000"),
            "{lines:?}"
        );

        let garbage = Zipped::open(b"PK\x03\x04 not really", 1000).err().unwrap();
        assert!(matches!(garbage, ZipRefused::NotAZip(_)));
    }

    #[test]
    fn more_photos_than_a_folder_may_hold_are_refused_before_any_is_read() {
        let names: Vec<String> = (0..=MAX_PHOTOS).map(|i| format!("S{i}.jpg")).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let zip = zip_of(&files);
        let refused = Zipped::open(&zip, 1000).err().unwrap();
        assert_eq!(refused, ZipRefused::TooMany(MAX_PHOTOS + 1));
    }
}
