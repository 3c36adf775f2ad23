//! The MiniFASNet graph (both files): channel lists ("keep") and the order of the layers,
//! with the state-dict names of the original PyTorch modules.
//!
//! 80×80 input → `conv1` (3×3/2) → `conv2_dw` → `conv_23` (/2) → `conv_3` (4 residual
//! blocks) → `conv_34` (/2) → `conv_4` (6) → `conv_45` (/2) → `conv_5` (2) → `conv_6_sep`
//! (1×1 to 512) → [`Head`] (5×5 map → 3 logits). In V1SE the last block of each residual
//! stage carries a squeeze-excitation.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{Act, BlockSpec, Conv, DepthWise, Head, depthwise};
use crate::depthwise::Depthwise3x3;

/// Channels per layer of the pruned MobileFaceNet, indexed as SOURCE.md's k[i].
pub type Keep = [usize; 49];

/// MiniFASNetV2 (`1.8M_`).
pub const KEEP_V2: Keep = [
    32, 32, 103, 103, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 231, 231, 128, 231, 231,
    128, 52, 52, 128, 26, 26, 128, 77, 77, 128, 26, 26, 128, 26, 26, 128, 308, 308, 128, 26, 26,
    128, 26, 26, 128, 512, 512,
];
/// MiniFASNetV1SE (`1.8M`).
pub const KEEP_V1SE: Keep = [
    32, 32, 103, 103, 64, 13, 13, 64, 26, 26, 64, 13, 13, 64, 52, 52, 64, 231, 231, 128, 154, 154,
    128, 52, 52, 128, 26, 26, 128, 52, 52, 128, 26, 26, 128, 26, 26, 128, 308, 308, 128, 26, 26,
    128, 26, 26, 128, 512, 512,
];

/// Residual stages: name, number of blocks, index in `keep` of the first block's input.
const STAGES: [(&str, usize, usize); 3] = [("conv_3", 4, 4), ("conv_4", 6, 19), ("conv_5", 2, 40)];
/// Downsampling blocks before each stage: name, index of the input channel count.
const DOWNS: [(&str, usize); 3] = [("conv_23", 1), ("conv_34", 16), ("conv_45", 37)];

/// The block whose channels start at `keep[at]`: `keep[at] → keep[at+1]` (1×1),
/// `keep[at+1]` depthwise, `keep[at+2] → keep[at+3]` (1×1); `keep[at+1] = keep[at+2]`.
fn spec(keep: &Keep, at: usize, stride: usize, residual: bool, se: bool) -> BlockSpec {
    BlockSpec {
        c_in: keep[at],
        mid: keep[at + 1],
        c_out: keep[at + 3],
        stride,
        residual,
        se,
    }
}

/// One MiniFASNet: a `(n, 3, 80, 80)` BGR 0–255 tensor in, `(n, 3)` logits out.
#[derive(Debug, Clone)]
pub struct MiniFasNet {
    conv1: Conv,
    conv2_dw: Depthwise3x3,
    blocks: Vec<DepthWise>,
    conv_6_sep: Conv,
    head: Head,
}

impl MiniFasNet {
    /// Loads the network described by `keep`, with squeeze-excitation blocks when `se`.
    pub fn load(vb: &VarBuilder, keep: &Keep, se: bool) -> Result<Self> {
        let mut blocks = Vec::new();
        for ((down, d), (stage, count, first)) in DOWNS.into_iter().zip(STAGES) {
            blocks.push(DepthWise::load(
                &vb.pp(down),
                spec(keep, d, 2, false, false),
            )?);
            for j in 0..count {
                let s = spec(keep, first + 3 * j, 1, true, se && j + 1 == count);
                blocks.push(DepthWise::load(&vb.pp(format!("{stage}.model.{j}")), s)?);
            }
        }
        Ok(Self {
            conv1: Conv::load(&vb.pp("conv1"), (3, keep[0]), (3, 2), Act::PRelu)?,
            conv2_dw: depthwise(&vb.pp("conv2_dw"), keep[1], 1)?,
            blocks,
            conv_6_sep: Conv::load(
                &vb.pp("conv_6_sep"),
                (keep[46], keep[47]),
                (1, 1),
                Act::PRelu,
            )?,
            head: Head::load(vb, keep[48])?,
        })
    }
}

impl Module for MiniFasNet {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let xs = self.conv1.forward(xs)?.apply_op1_no_bwd(&self.conv2_dw)?;
        let xs = self.blocks.iter().try_fold(xs, |x, b| b.forward(&x))?;
        self.head.forward(&self.conv_6_sep.forward(&xs)?)
    }
}
