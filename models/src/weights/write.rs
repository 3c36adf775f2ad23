//! Writing safetensors files: named tensors in, deterministic bytes out, atomic replace.

use std::{collections::HashMap, fs, io::Write, path::Path};

use safetensors::{Dtype, tensor::TensorView};

use super::error::WeightsError;

/// One tensor to be written: name, shape and little-endian bytes of its dtype.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub bytes: Vec<u8>,
}

impl NamedTensor {
    pub(crate) fn f32(name: impl Into<String>, shape: Vec<usize>, values: &[f32]) -> Self {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let (name, dtype) = (name.into(), Dtype::F32);
        Self {
            name,
            shape,
            dtype,
            bytes,
        }
    }

    pub(crate) fn i64(name: impl Into<String>, shape: Vec<usize>, values: &[i64]) -> Self {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let (name, dtype) = (name.into(), Dtype::I64);
        Self {
            name,
            shape,
            dtype,
            bytes,
        }
    }
}

/// Serialise to safetensors. The output is deterministic (safetensors orders tensors by
/// dtype and name; the metadata has a single entry), so its SHA-256 can be pinned.
pub(crate) fn to_safetensors(
    tensors: &[NamedTensor],
    source: &str,
) -> Result<Vec<u8>, WeightsError> {
    let views = tensors
        .iter()
        .map(|t| {
            Ok((
                t.name.as_str(),
                TensorView::new(t.dtype, t.shape.clone(), &t.bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let metadata = HashMap::from([("source".to_owned(), source.to_owned())]);
    Ok(safetensors::serialize(views, Some(metadata))?)
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, flushed to
/// disk, then renamed over `path`. Creates the directory if needed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WeightsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(WeightsError::io(dir))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let result = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(WeightsError::io(path))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safetensors_round_trip_and_is_deterministic() {
        let a = NamedTensor::f32("b.w", vec![2], &[1.0, 2.0]);
        let b = NamedTensor::i64("a.shape", vec![1], &[-1]);
        let bytes = to_safetensors(&[a.clone(), b.clone()], "test").unwrap();
        assert_eq!(bytes, to_safetensors(&[b, a], "test").unwrap());
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let w = st.tensor("b.w").unwrap();
        assert_eq!((w.dtype(), w.shape()), (Dtype::F32, &[2][..]));
        assert_eq!(
            w.data(),
            [1.0f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat()
        );
    }

    #[test]
    fn atomic_write_creates_dir_and_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("sub/w.safetensors");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }
}
