//! Convert the dlib ResNet `.dat` into named tensors.
//!
//! Tensor names in `dlib_resnet_v1.safetensors` (all f32):
//!
//! | name | shape | dlib layer |
//! |---|---|---|
//! | `stem.conv.weight`, `stem.conv.bias` | `[32, 3, 7, 7]`, `[32]` | first `con_4` (OIHW as stored) |
//! | `stem.affine.gamma`, `stem.affine.beta` | `[32]` | first `affine_` |
//! | `blocks.{k}.conv{j}.weight`, `.bias` | `[C, C_in, 3, 3]`, `[C]` | residual block `k` (0‥13, input → output), conv `j` (1 = first, strided in down blocks; 2 = second) |
//! | `blocks.{k}.affine{j}.gamma`, `.beta` | `[C]` | the `affine_` after that conv |
//! | `fc.weight` | `[128, 256]` | `fc_2`, transposed from dlib's in×out to out×in |

use super::{
    dat::{self, DatConv, DatLayers},
    error::WeightsError,
    write::NamedTensor,
};

/// Residual blocks in the network (3 + 4 + 3 + 3 + 1).
pub const NUM_BLOCKS: usize = 14;
use rollcall_shared::EMBEDDING_DIM;

/// The width of the layer before the final fc (whose outputs are [`EMBEDDING_DIM`]).
pub const FC_INPUTS: usize = 256;

/// Name prefix of the `index`-th conv (and of its affine, with `conv` → `affine`).
pub fn layer_prefix(index: usize, kind: &str) -> String {
    match index {
        0 => format!("stem.{kind}"),
        i => format!("blocks.{}.{kind}{}", (i - 1) / 2, 2 - i % 2),
    }
}

/// Parse a dlib ResNet `.dat` and name its tensors as documented above.
pub(crate) fn tensors_from_dat(bytes: &[u8]) -> Result<Vec<NamedTensor>, WeightsError> {
    let layers = dat::parse_layers(bytes)?;
    check_layout(&layers)?;
    let mut out = Vec::with_capacity(4 * layers.convs.len() + 1);
    for (i, (conv, affine)) in layers.convs.iter().zip(&layers.affines).enumerate() {
        let (c, a) = (layer_prefix(i, "conv"), layer_prefix(i, "affine"));
        let shape = vec![
            conv.num_filters,
            conv.in_channels,
            conv.kernel.0,
            conv.kernel.1,
        ];
        out.push(NamedTensor::f32(format!("{c}.weight"), shape, &conv.weight));
        out.push(NamedTensor::f32(
            format!("{c}.bias"),
            vec![conv.num_filters],
            &conv.bias,
        ));
        out.push(NamedTensor::f32(
            format!("{a}.gamma"),
            vec![affine.gamma.len()],
            &affine.gamma,
        ));
        out.push(NamedTensor::f32(
            format!("{a}.beta"),
            vec![affine.beta.len()],
            &affine.beta,
        ));
    }
    let fc = &layers.fcs[0];
    let transposed = transpose(&fc.weight, fc.num_inputs, fc.num_outputs);
    out.push(NamedTensor::f32(
        "fc.weight",
        vec![fc.num_outputs, fc.num_inputs],
        &transposed,
    ));
    Ok(out)
}

/// The file must hold exactly the layers of the documented network.
fn check_layout(layers: &DatLayers) -> Result<(), WeightsError> {
    let convs = 1 + 2 * NUM_BLOCKS;
    let counts = (layers.convs.len(), layers.affines.len(), layers.fcs.len());
    if counts != (convs, convs, 1) {
        let msg = format!("expected {convs} con_4, {convs} affine_, 1 fc_2; found {counts:?}");
        return Err(WeightsError::Layout(msg));
    }
    for (i, (conv, affine)) in layers.convs.iter().zip(&layers.affines).enumerate() {
        check_conv(i, conv)?;
        if affine.gamma.len() != conv.num_filters {
            let msg = format!(
                "affine {i} has {} channels after a {}-filter conv",
                affine.gamma.len(),
                conv.num_filters
            );
            return Err(WeightsError::Layout(msg));
        }
    }
    let fc = &layers.fcs[0];
    if (fc.num_outputs, fc.num_inputs) != (EMBEDDING_DIM, FC_INPUTS) {
        let msg = format!(
            "fc is {}→{}, expected {FC_INPUTS}→{EMBEDDING_DIM}",
            fc.num_inputs, fc.num_outputs
        );
        return Err(WeightsError::Layout(msg));
    }
    Ok(())
}

/// dlib pads `k/2` for stride-1 convs and nothing for strided ones; the network relies on it.
fn check_conv(i: usize, conv: &DatConv) -> Result<(), WeightsError> {
    let square = conv.kernel.0 == conv.kernel.1 && conv.stride.0 == conv.stride.1;
    let pad = if conv.stride.0 == 1 {
        conv.kernel.0 / 2
    } else {
        0
    };
    if !square || conv.padding != (pad, pad) {
        let msg = format!(
            "conv {i}: kernel {:?} stride {:?} padding {:?}",
            conv.kernel, conv.stride, conv.padding
        );
        return Err(WeightsError::Layout(msg));
    }
    Ok(())
}

/// Row-major `rows × cols` → `cols × rows`.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| values[r * cols + c]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_file_order() {
        let names: Vec<_> = (0..5).map(|i| layer_prefix(i, "conv")).collect();
        let expected = [
            "stem.conv",
            "blocks.0.conv1",
            "blocks.0.conv2",
            "blocks.1.conv1",
            "blocks.1.conv2",
        ];
        assert_eq!(names, expected);
        assert_eq!(layer_prefix(28, "affine"), "blocks.13.affine2");
    }

    #[test]
    fn transposes_in_by_out_to_out_by_in() {
        // 2 inputs × 3 outputs, dlib layout: w[in][out].
        let w = [1., 2., 3., 4., 5., 6.];
        assert_eq!(transpose(&w, 2, 3), vec![1., 4., 2., 5., 3., 6.]);
    }

    #[test]
    fn rejects_a_file_with_missing_layers() {
        let err = check_layout(&DatLayers::default()).unwrap_err();
        assert!(matches!(err, WeightsError::Layout(_)));
    }
}
