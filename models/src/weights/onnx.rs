//! Read the initialisers (the weights) out of an ONNX model with `prost`.
//!
//! Only the protobuf fields needed for that are declared: `ModelProto.graph` (7),
//! `GraphProto.initializer` (5) and, of `TensorProto`, `dims` (1), `data_type` (2),
//! `float_data` (4), `int64_data` (7), `name` (8) and `raw_data` (9). Everything else in the
//! file is skipped by the decoder. No `protoc`, no ONNX runtime. Pure functions over bytes.

use thiserror::Error;

/// Why an ONNX file's initialisers could not be read.
#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("not a valid ONNX protobuf: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("the ONNX model has no graph")]
    NoGraph,
    #[error("initialiser `{name}`: {detail}")]
    BadTensor { name: String, detail: String },
}

#[derive(Clone, PartialEq, prost::Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
}

/// The subset of ONNX's `TensorProto` this crate reads.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    #[prost(string, tag = "8")]
    pub name: String,
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

/// ONNX `TensorProto.DataType` values this crate understands.
const FLOAT: i32 = 1;
const INT64: i32 = 7;

/// Values of one initialiser, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum InitValues {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// One initialiser: its exact ONNX name, its shape and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Initializer {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: InitValues,
}

/// Decode every initialiser of an ONNX model, in file order.
pub fn initializers(model: &[u8]) -> Result<Vec<Initializer>, OnnxError> {
    let model: ModelProto = prost::Message::decode(model)?;
    let graph = model.graph.ok_or(OnnxError::NoGraph)?;
    graph.initializer.into_iter().map(decode_tensor).collect()
}

/// Turn a `TensorProto` into typed values, from `raw_data` or the typed repeated field.
pub fn decode_tensor(t: TensorProto) -> Result<Initializer, OnnxError> {
    let bad = |detail: String| OnnxError::BadTensor {
        name: t.name.clone(),
        detail,
    };
    let shape = t
        .dims
        .iter()
        .map(|d| usize::try_from(*d))
        .collect::<Result<Vec<usize>, _>>();
    let shape = shape.map_err(|_| bad(format!("negative dimension in {:?}", t.dims)))?;
    let count: usize = shape.iter().product();
    let values = match t.data_type {
        FLOAT if !t.raw_data.is_empty() => {
            InitValues::F32(le_chunks(&t.raw_data, f32::from_le_bytes))
        }
        FLOAT => InitValues::F32(t.float_data.clone()),
        INT64 if !t.raw_data.is_empty() => {
            InitValues::I64(le_chunks(&t.raw_data, i64::from_le_bytes))
        }
        INT64 => InitValues::I64(t.int64_data.clone()),
        other => return Err(bad(format!("unsupported data type {other}"))),
    };
    let len = match &values {
        InitValues::F32(v) => v.len(),
        InitValues::I64(v) => v.len(),
    };
    if len != count {
        return Err(bad(format!("{len} values for shape {shape:?}")));
    }
    Ok(Initializer {
        name: t.name,
        shape,
        values,
    })
}

/// Split little-endian bytes into `N`-byte values (a trailing partial chunk is dropped and
/// then caught by the caller's length check).
fn le_chunks<T, const N: usize>(raw: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    raw.chunks_exact(N)
        .map(|c| from(c.try_into().unwrap_or([0; N])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn model(tensors: Vec<TensorProto>) -> Vec<u8> {
        let graph = GraphProto {
            initializer: tensors,
        };
        ModelProto { graph: Some(graph) }.encode_to_vec()
    }

    fn tensor(name: &str, dims: Vec<i64>, data_type: i32) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims,
            data_type,
            ..Default::default()
        }
    }

    #[test]
    fn reads_raw_and_typed_float_data() {
        let mut raw = tensor("conv.weight", vec![2, 1], FLOAT);
        raw.raw_data = [1.0f32, -2.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut typed = tensor("onnx::Conv_1", vec![3], FLOAT);
        typed.float_data = vec![0.5, 0.25, 0.125];
        let inits = initializers(&model(vec![raw, typed])).unwrap();
        assert_eq!(inits[0].name, "conv.weight");
        assert_eq!(inits[0].shape, vec![2, 1]);
        assert_eq!(inits[0].values, InitValues::F32(vec![1.0, -2.5]));
        assert_eq!(inits[1].values, InitValues::F32(vec![0.5, 0.25, 0.125]));
    }

    #[test]
    fn reads_int64_and_scalars() {
        let mut shape = tensor("shape", vec![2], INT64);
        shape.raw_data = [1i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut scalar = tensor("k", vec![], INT64);
        scalar.int64_data = vec![7];
        let inits = initializers(&model(vec![shape, scalar])).unwrap();
        assert_eq!(inits[0].values, InitValues::I64(vec![1, -1]));
        assert_eq!(
            (inits[1].shape.len(), inits[1].values.clone()),
            (0, InitValues::I64(vec![7]))
        );
    }

    #[test]
    fn rejects_wrong_counts_types_and_garbage() {
        let mut short = tensor("w", vec![3], FLOAT);
        short.raw_data = vec![0; 8];
        assert!(matches!(
            initializers(&model(vec![short])),
            Err(OnnxError::BadTensor { .. })
        ));
        let double = tensor("d", vec![], 11);
        assert!(matches!(
            initializers(&model(vec![double])),
            Err(OnnxError::BadTensor { .. })
        ));
        assert!(matches!(
            initializers(&[0xff, 0xff, 0xff]),
            Err(OnnxError::Decode(_))
        ));
        assert!(matches!(initializers(&[]), Err(OnnxError::NoGraph)));
    }
}
