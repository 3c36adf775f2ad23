//! Read the layers out of a dlib `.dat` network file (dlib's own serialisation).
//!
//! Format (dlib `serialize`): an integer is one header byte (low nibble = number of
//! magnitude bytes, bit 7 = sign) then the little-endian magnitude; a string is an integer
//! length then its bytes; a tensor is integer version (2), four integer dims, then raw
//! little-endian f32. Layers are stored input → output as tagged records. This module finds
//! the `con_4`, `affine_` and `fc_2` records by their tags and reads what follows each one;
//! it knows nothing about the network they form. Pure functions over bytes.

use thiserror::Error;

/// Why a `.dat` file could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DatError {
    #[error("unexpected end of the .dat data at byte {at} while reading {what}")]
    Truncated { at: usize, what: &'static str },
    #[error("bad {what} at byte {at} of the .dat data: {detail}")]
    Malformed {
        at: usize,
        what: &'static str,
        detail: String,
    },
}

/// A `con_4` record: convolution filters (OIHW) and biases.
#[derive(Debug, Clone, PartialEq)]
pub struct DatConv {
    pub num_filters: usize,
    pub in_channels: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    /// `num_filters × in_channels × kh × kw`, OIHW order.
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// An `affine_` record (folded batch norm): `gamma * x + beta` per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct DatAffine {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

/// An `fc_2` record. `weight` is laid out as dlib stores it: `num_inputs × num_outputs`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatFc {
    pub num_outputs: usize,
    pub num_inputs: usize,
    pub weight: Vec<f32>,
}

/// Every parameterised layer of a dlib network, in file (input → output) order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DatLayers {
    pub convs: Vec<DatConv>,
    pub affines: Vec<DatAffine>,
    pub fcs: Vec<DatFc>,
}

const CON_TAG: &[u8] = b"\x01\x05con_4";
const AFFINE_TAG: &[u8] = b"\x01\x07affine_";
const FC_TAG: &[u8] = b"\x01\x04fc_2";

/// Parse all `con_4`, `affine_` and `fc_2` records of a dlib `.dat` file.
pub fn parse_layers(data: &[u8]) -> Result<DatLayers, DatError> {
    let mut layers = DatLayers::default();
    let mut at = 0;
    while at < data.len() {
        let rest = &data[at..];
        at = if rest.starts_with(CON_TAG) {
            let (conv, next) = read_conv(data, at + CON_TAG.len())?;
            layers.convs.push(conv);
            next
        } else if rest.starts_with(AFFINE_TAG) {
            let (affine, next) = read_affine(data, at + AFFINE_TAG.len())?;
            layers.affines.push(affine);
            next
        } else if rest.starts_with(FC_TAG) {
            let (fc, next) = read_fc(data, at + FC_TAG.len())?;
            layers.fcs.push(fc);
            next
        } else {
            at + 1
        };
    }
    Ok(layers)
}

fn read_conv(data: &[u8], at: usize) -> Result<(DatConv, usize), DatError> {
    let (params, at) = read_tensor(data, at)?;
    let mut ints = [0i64; 7];
    let mut next = at;
    for slot in &mut ints {
        (*slot, next) = read_int(data, next)?;
    }
    let [nf, nr, nc, sy, sx, py, px] = ints.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    let bad = |detail: String| DatError::Malformed {
        at,
        what: "con_4 record",
        detail,
    };
    let per_in = nf.checked_mul(nr).and_then(|v| v.checked_mul(nc));
    let per_in = per_in
        .filter(|v| *v > 0)
        .ok_or_else(|| bad(format!("{nf}×{nr}×{nc}")))?;
    let weights = params
        .len()
        .checked_sub(nf)
        .ok_or_else(|| bad("too few params".into()))?;
    if weights % per_in != 0 {
        return Err(bad(format!(
            "{} params for {nf} filters {nr}×{nc}",
            params.len()
        )));
    }
    let mut weight = params;
    let bias = weight.split_off(weights);
    let conv = DatConv {
        num_filters: nf,
        in_channels: weights / per_in,
        kernel: (nr, nc),
        stride: (sy, sx),
        padding: (py, px),
        weight,
        bias,
    };
    Ok((conv, next))
}

fn read_affine(data: &[u8], at: usize) -> Result<(DatAffine, usize), DatError> {
    let (mut gamma, next) = read_tensor(data, at)?;
    if gamma.len() % 2 != 0 {
        let detail = format!("odd parameter count {}", gamma.len());
        let what = "affine_ record";
        return Err(DatError::Malformed { at, what, detail });
    }
    let beta = gamma.split_off(gamma.len() / 2);
    Ok((DatAffine { gamma, beta }, next))
}

fn read_fc(data: &[u8], at: usize) -> Result<(DatFc, usize), DatError> {
    let (outputs, at) = read_int(data, at)?;
    let (inputs, at) = read_int(data, at)?;
    let (weight, next) = read_tensor(data, at)?;
    let num_outputs = usize::try_from(outputs).unwrap_or(0);
    let num_inputs = usize::try_from(inputs).unwrap_or(0);
    if weight.len() != num_outputs * num_inputs {
        let detail = format!("{} params for {num_inputs}×{num_outputs}", weight.len());
        let what = "fc_2 record";
        return Err(DatError::Malformed { at, what, detail });
    }
    let fc = DatFc {
        num_outputs,
        num_inputs,
        weight,
    };
    Ok((fc, next))
}

/// Read a dlib integer at `at`; return it and the offset after it.
pub fn read_int(data: &[u8], at: usize) -> Result<(i64, usize), DatError> {
    let header = *data.get(at).ok_or(DatError::Truncated {
        at,
        what: "integer",
    })?;
    let len = usize::from(header & 0x0f);
    if len > 8 {
        let detail = format!("header byte 0x{header:02x} says {len} bytes");
        return Err(DatError::Malformed {
            at,
            what: "integer",
            detail,
        });
    }
    let bytes = data.get(at + 1..at + 1 + len);
    let bytes = bytes.ok_or(DatError::Truncated {
        at,
        what: "integer",
    })?;
    let magnitude = bytes
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let value = i64::try_from(magnitude).map_err(|_| DatError::Malformed {
        at,
        what: "integer",
        detail: format!("{magnitude} does not fit in i64"),
    })?;
    let value = if header & 0x80 != 0 { -value } else { value };
    Ok((value, at + 1 + len))
}

/// Read a dlib tensor (version 2, four dims, raw f32 LE); return its values flattened.
pub fn read_tensor(data: &[u8], at: usize) -> Result<(Vec<f32>, usize), DatError> {
    let (version, mut next) = read_int(data, at)?;
    if version != 2 {
        let detail = format!("version {version}, expected 2");
        return Err(DatError::Malformed {
            at,
            what: "tensor",
            detail,
        });
    }
    let mut count: usize = 1;
    for _ in 0..4 {
        let (dim, after) = read_int(data, next)?;
        let dim = usize::try_from(dim).ok();
        count = dim
            .and_then(|d| count.checked_mul(d))
            .ok_or(DatError::Malformed {
                at: next,
                what: "tensor",
                detail: "negative or huge dimension".into(),
            })?;
        next = after;
    }
    let end = count.checked_mul(4).and_then(|n| n.checked_add(next));
    let raw = end.and_then(|end| data.get(next..end));
    let raw = raw.ok_or(DatError::Truncated {
        at: next,
        what: "tensor data",
    })?;
    let values = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((values, next + count * 4))
}

#[cfg(test)]
mod tests;
