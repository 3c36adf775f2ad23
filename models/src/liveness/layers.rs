//! MiniFASNet's blocks, with every batch norm folded into the convolution before it at load
//! time (`w·γ/√(σ²+ε)`, `β − μ·γ/√(σ²+ε)`).
//!
//! Dense and 1×1 convolutions run on the detector's fused convolution (`FusedConv`: patches,
//! product, bias and a per-channel slope, which is exactly a PReLU), the 3×3 depthwise ones
//! on [`Depthwise3x3`] with its per-channel PReLU. The 5×5 depthwise `conv_6_dw` meets a 5×5
//! input without padding, so it is one dot product per channel ([`Head`]).

use candle_core::{D, Module, Result, Tensor, bail};
use candle_nn::VarBuilder;

use crate::depthwise::Depthwise3x3;
use crate::retinaface::fused::FusedConv;

/// Batch-norm epsilon of every `BatchNorm2d`/`BatchNorm1d` in the model.
pub const BN_EPS: f64 = 1e-5;

/// `weight` (output channels first) and a bias with the batch norm under `bn` folded in.
fn fold_bn(weight: &Tensor, bn: &VarBuilder) -> Result<(Tensor, Tensor)> {
    let dims = weight.dims();
    let c = dims[0];
    let var = bn.get(c, "running_var")?;
    let scale = (bn.get(c, "weight")? / (var + BN_EPS)?.sqrt()?)?;
    let mut shape = vec![1; dims.len()];
    shape[0] = c;
    let weight = weight.broadcast_mul(&scale.reshape(shape)?)?;
    let bias = (bn.get(c, "bias")? - (bn.get(c, "running_mean")? * &scale)?)?;
    Ok((weight, bias))
}

/// What follows a convolution and its batch norm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// `Conv_block`: a PReLU, its slopes in `prelu.weight`.
    PRelu,
    /// `Linear_block`: nothing.
    Linear,
}

fn slopes(vb: &VarBuilder, act: Act, c: usize) -> Result<Vec<f32>> {
    match act {
        Act::PRelu => vb.get(c, "prelu.weight")?.to_vec1(),
        Act::Linear => Ok(vec![1.0; c]),
    }
}

/// A dense convolution (`conv.weight`, kernel 1 or 3, padding k/2) with `bn` folded in.
#[derive(Debug, Clone)]
pub struct Conv(FusedConv);

impl Conv {
    pub fn load(
        vb: &VarBuilder,
        (c_in, c_out): (usize, usize),
        (kernel, stride): (usize, usize),
        act: Act,
    ) -> Result<Self> {
        let weight = vb.get((c_out, c_in, kernel, kernel), "conv.weight")?;
        let (weight, bias) = fold_bn(&weight, &vb.pp("bn"))?;
        Ok(Self(FusedConv {
            weight: weight.flatten_all()?.to_vec1()?,
            bias: bias.to_vec1()?,
            slope: slopes(vb, act, c_out)?,
            kernel,
            stride,
        }))
    }
}

impl Module for Conv {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.contiguous()?.apply_op1_no_bwd(&self.0)
    }
}

/// A 3×3 depthwise `Conv_block` (`conv.weight` `(c, 1, 3, 3)`, padding 1) with its PReLU.
pub fn depthwise(vb: &VarBuilder, c: usize, stride: usize) -> Result<Depthwise3x3> {
    let weight = vb.get((c, 1, 3, 3), "conv.weight")?;
    let (weight, bias) = fold_bn(&weight, &vb.pp("bn"))?;
    Depthwise3x3::new(&weight, &bias, stride)?.with_prelu(&vb.get(c, "prelu.weight")?)
}

/// Squeeze-excitation: average pool → 1×1 (c/4) → BN → ReLU → 1×1 (c) → BN → sigmoid,
/// multiplied into the input.
#[derive(Debug, Clone)]
pub struct SqueezeExcite {
    fc1: FusedConv,
    fc2: FusedConv,
}

impl SqueezeExcite {
    pub fn load(vb: &VarBuilder, c: usize) -> Result<Self> {
        let fc = |name: &str, bn: &str, (c_in, c_out): (usize, usize), slope: f32| {
            let weight = vb.get((c_out, c_in, 1, 1), &format!("{name}.weight"))?;
            let (weight, bias) = fold_bn(&weight, &vb.pp(bn))?;
            Ok::<_, candle_core::Error>(FusedConv {
                weight: weight.flatten_all()?.to_vec1()?,
                bias: bias.to_vec1()?,
                slope: vec![slope; c_out],
                kernel: 1,
                stride: 1,
            })
        };
        Ok(Self {
            fc1: fc("fc1", "bn1", (c, c / 4), 0.0)?,
            fc2: fc("fc2", "bn2", (c / 4, c), 1.0)?,
        })
    }
}

impl Module for SqueezeExcite {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let pooled = xs.mean_keepdim(D::Minus1)?.mean_keepdim(D::Minus2)?;
        let hidden = pooled.apply_op1_no_bwd(&self.fc1)?;
        let gate = candle_nn::ops::sigmoid(&hidden.apply_op1_no_bwd(&self.fc2)?)?;
        xs.broadcast_mul(&gate)
    }
}

/// `Depth_Wise`: 1×1 `Conv_block` (c_in → mid), 3×3 depthwise `Conv_block` (mid, stride 1
/// or 2), 1×1 `Linear_block` (mid → c_out), an optional squeeze-excitation, plus the input
/// when residual.
#[derive(Debug, Clone)]
pub struct DepthWise {
    expand: Conv,
    depthwise: Depthwise3x3,
    project: Conv,
    se: Option<SqueezeExcite>,
    residual: bool,
}

/// How one `Depth_Wise` block is built.
#[derive(Debug, Clone, Copy)]
pub struct BlockSpec {
    pub c_in: usize,
    pub mid: usize,
    pub c_out: usize,
    pub stride: usize,
    pub residual: bool,
    pub se: bool,
}

impl DepthWise {
    pub fn load(vb: &VarBuilder, s: BlockSpec) -> Result<Self> {
        if s.residual && (s.c_in != s.c_out || s.stride != 1) {
            bail!("depth-wise block: a residual block must keep its shape: {s:?}");
        }
        let se = match s.se {
            true => Some(SqueezeExcite::load(&vb.pp("se_module"), s.c_out)?),
            false => None,
        };
        Ok(Self {
            expand: Conv::load(&vb.pp("conv"), (s.c_in, s.mid), (1, 1), Act::PRelu)?,
            depthwise: depthwise(&vb.pp("conv_dw"), s.mid, s.stride)?,
            project: Conv::load(&vb.pp("project"), (s.mid, s.c_out), (1, 1), Act::Linear)?,
            se,
            residual: s.residual,
        })
    }
}

impl Module for DepthWise {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = self.expand.forward(xs)?.apply_op1_no_bwd(&self.depthwise)?;
        let mut ys = self.project.forward(&ys)?;
        if let Some(se) = &self.se {
            ys = se.forward(&ys)?;
        }
        if self.residual { ys + xs } else { Ok(ys) }
    }
}

/// The layers after `conv_6_sep`, all linear: `conv_6_dw` (5×5 depthwise over the 5×5 map,
/// so one dot product per channel, BN folded), flatten, `linear` with `bn` folded, `prob`.
#[derive(Debug, Clone)]
pub struct Head {
    /// `(c, 25)` per-channel filters and `(c,)` bias.
    conv_6_dw: (Tensor, Tensor),
    /// `(512, 128)` transposed weight and `(128,)` bias.
    linear: (Tensor, Tensor),
    /// `(128, 3)` transposed weight.
    prob: Tensor,
}

/// Side of the last feature map (an 80×80 input divided by 16) and of `conv_6_dw`'s kernel.
pub const LAST_MAP: usize = 5;
/// Output classes: 0 and 2 are kinds of fake, 1 is a real face.
pub const CLASSES: usize = 3;
const EMBEDDING: usize = 128;

impl Head {
    pub fn load(vb: &VarBuilder, c: usize) -> Result<Self> {
        let k = LAST_MAP;
        let dw = vb.get((c, 1, k, k), "conv_6_dw.conv.weight")?;
        let (dw, dw_bias) = fold_bn(&dw, &vb.pp("conv_6_dw.bn"))?;
        let linear = vb.get((EMBEDDING, c), "linear.weight")?;
        let (linear, linear_bias) = fold_bn(&linear, &vb.pp("bn"))?;
        Ok(Self {
            conv_6_dw: (dw.reshape((c, k * k))?, dw_bias),
            linear: (linear.t()?.contiguous()?, linear_bias),
            prob: vb
                .get((CLASSES, EMBEDDING), "prob.weight")?
                .t()?
                .contiguous()?,
        })
    }
}

impl Module for Head {
    /// `(n, c, 5, 5)` → `(n, 3)` logits.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (n, c, h, w) = xs.dims4()?;
        if (h, w) != (LAST_MAP, LAST_MAP) {
            bail!("MiniFASNet head: a {h}×{w} map, not {LAST_MAP}×{LAST_MAP}");
        }
        let (dw, dw_bias) = &self.conv_6_dw;
        let features = xs
            .reshape((n, c, h * w))?
            .broadcast_mul(dw)?
            .sum(D::Minus1)?
            .broadcast_add(dw_bias)?;
        let (linear, linear_bias) = &self.linear;
        features
            .matmul(linear)?
            .broadcast_add(linear_bias)?
            .matmul(&self.prob)
    }
}
