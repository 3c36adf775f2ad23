//! The labelled face photos the tests use: `$ROLLCALL_FACES_DIR`, else `shared/faces` beside
//! the checkout. A missing folder fails the test with what to do; it never skips it.

use std::path::{Path, PathBuf};

/// The faces folder (holding `identities/<person>/*.jpg`, `groups/`, `no-face/`).
pub fn faces_dir() -> PathBuf {
    let dir = std::env::var_os("ROLLCALL_FACES_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/faces").into());
    assert!(
        dir.join("identities").is_dir(),
        "test photos not found at {} (set ROLLCALL_FACES_DIR to the shared/faces folder)",
        dir.display()
    );
    dir
}

/// The photos of one person, in name order.
pub fn photos_of(person: &str) -> Vec<PathBuf> {
    let dir = faces_dir().join("identities").join(person);
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    photos.sort();
    photos
}

/// `root/replay`, a replay camera's folder holding one photo of a person nobody enrolled
/// (every burst makes an Unknown record with a thumbnail, the largest kind).
pub fn stranger_replay(root: &Path) -> PathBuf {
    let replay = root.join("replay");
    std::fs::create_dir(&replay).unwrap();
    let photo = faces_dir().join("identities/Abdullah_Gul/Abdullah_Gul_0005.jpg");
    std::fs::copy(&photo, replay.join("face.jpg")).unwrap();
    replay
}

/// The first 32 bytes of each template in `templates` (the answer of
/// `GET /students/{id}/embeddings`) as little-endian f32s, the bytes inside a sealed value:
/// never to be found in a file.
pub fn template_prints(templates: &serde_json::Value) -> Vec<Vec<u8>> {
    let all = templates.as_array().map(Vec::as_slice).unwrap_or_default();
    all.iter()
        .filter_map(|t| t["embedding"].as_array())
        .map(|values| {
            let first = values.iter().take(8).filter_map(serde_json::Value::as_f64);
            first.flat_map(|v| (v as f32).to_le_bytes()).collect()
        })
        .collect()
}

/// The first 32 bytes (the seal's header and random nonce: unique to each value) of each
/// value `query` (one blob column, `?1` = `param`) returns from the SQLite database `db`, read
/// beside the daemon that writes it. Enough to tell whether a copy of the sealed value, or of
/// the page it was on, is left in the file.
pub fn stored_prints(db: &Path, query: &str, param: &str) -> Vec<Vec<u8>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("{}: {e}", db.display()));
    let mut statement = conn.prepare(query).unwrap();
    let blobs = statement
        .query_map([param], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    blobs
        .into_iter()
        .map(|b| b[..b.len().min(32)].to_vec())
        .collect()
}

/// How many of `prints` are found in an SQLite database `db` or its write-ahead log.
pub fn prints_in_database(db: &Path, prints: &[Vec<u8>]) -> usize {
    let mut bytes = std::fs::read(db).unwrap_or_default();
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    prints
        .iter()
        .filter(|p| bytes.windows(p.len()).any(|w| w == p.as_slice()))
        .count()
}
