//! RetinaFace's building blocks: convolutions with folded batch-norm, fused bias and activation.
//!
//! Every convolution in the ONNX graph carries a bias (batch-norm folded in) and is followed by
//! a leaky ReLU (slope 0.1), a ReLU, or nothing. [`Conv`] runs the convolution without bias
//! (1×1 as a matmul, 3×3 as a matmul over [`Im2Col3x3`] patches), then [`BiasAct`] adds the bias and applies
//! a per-channel slope in place: slope 0.1 is the leaky ReLU, 0 a ReLU, 1 the identity.
//! [`DepthwiseSeparable`] is MobileNet's depthwise 3×3 + pointwise 1×1 pair.

use candle_core::{CpuStorage, InplaceOp1, Layout, Module, Result, Tensor, bail};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::im2col::Im2Col3x3;
use crate::depthwise::Depthwise3x3;

/// Negative slope of every leaky ReLU in the model.
pub const LEAKY_SLOPE: f32 = 0.1;

/// The activation after a convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    None,
    Relu,
    Leaky,
}

impl Act {
    fn slope(self) -> f32 {
        match self {
            Act::None => 1.0,
            Act::Relu => 0.0,
            Act::Leaky => LEAKY_SLOPE,
        }
    }
}

/// In-place `x ← y · (y ≥ 0 ? 1 : slope[c])` with `y = x + bias[c]`, on contiguous f32 NCHW.
#[derive(Debug, Clone)]
pub struct BiasAct {
    bias: Vec<f32>,
    slope: Vec<f32>,
}

impl BiasAct {
    /// One bias and one activation per output channel.
    pub fn new(bias: Vec<f32>, acts: &[Act]) -> Result<Self> {
        if bias.len() != acts.len() {
            bail!(
                "bias-act: {} biases for {} activations",
                bias.len(),
                acts.len()
            );
        }
        Ok(Self {
            bias,
            slope: acts.iter().map(|a| a.slope()).collect(),
        })
    }
}

impl InplaceOp1 for BiasAct {
    fn name(&self) -> &'static str {
        "bias-act"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let CpuStorage::F32(data) = storage else {
            bail!("bias-act: only f32 is supported");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("bias-act: input must be contiguous");
        };
        let (_, c, h, w) = layout.shape().dims4()?;
        if c != self.bias.len() {
            bail!("bias-act: {c} channels for {} biases", self.bias.len());
        }
        let plane = (h * w).max(1);
        data[start..end]
            .par_chunks_mut(plane)
            .with_min_len(8)
            .enumerate()
            .for_each(|(i, p)| {
                let (b, s) = (self.bias[i % c], self.slope[i % c]);
                p.iter_mut().for_each(|v| {
                    let y = *v + b;
                    *v = if y >= 0.0 { y } else { y * s };
                });
            });
        Ok(())
    }
}

/// A convolution (kernel 1 or 3, padding k/2) with bias and per-channel activation.
#[derive(Debug, Clone)]
pub struct Conv {
    weight: Tensor,
    kernel: usize,
    stride: usize,
    bias_act: BiasAct,
}

impl Conv {
    /// Loads `weight` `(c_out, c_in, k, k)` and `bias` `(c_out,)` by their names in the file.
    pub fn load(vb: &VarBuilder, names: (&str, &str), dims: ConvDims, act: Act) -> Result<Self> {
        let ConvDims {
            c_in,
            c_out,
            kernel,
            stride,
        } = dims;
        let weight = vb.get((c_out, c_in, kernel, kernel), names.0)?;
        let bias = vb.get(c_out, names.1)?;
        Self::from_tensors(weight, bias, stride, &vec![act; c_out])
    }

    /// Builds from tensors, with one activation per output channel.
    pub fn from_tensors(weight: Tensor, bias: Tensor, stride: usize, acts: &[Act]) -> Result<Self> {
        let (c_out, c_in, kernel, _) = weight.dims4()?;
        if kernel != 1 && kernel != 3 {
            bail!("conv: kernel {kernel} is not supported");
        }
        let weight = weight.reshape((c_out, c_in * kernel * kernel))?;
        let bias_act = BiasAct::new(bias.to_vec1()?, acts)?;
        Ok(Self {
            weight,
            kernel,
            stride,
            bias_act,
        })
    }

    /// Concatenates the output channels of two convolutions over the same input.
    pub fn stack(a: &Conv, b: &Conv) -> Result<Self> {
        if a.kernel != b.kernel || a.stride != b.stride {
            bail!("conv: cannot stack convolutions of different geometry");
        }
        let weight = Tensor::cat(&[&a.weight, &b.weight], 0)?;
        let bias = [a.bias_act.bias.as_slice(), b.bias_act.bias.as_slice()].concat();
        let slope = [a.bias_act.slope.as_slice(), b.bias_act.slope.as_slice()].concat();
        let bias_act = BiasAct { bias, slope };
        Ok(Self {
            weight,
            kernel: a.kernel,
            stride: a.stride,
            bias_act,
        })
    }
}

impl Module for Conv {
    /// 1×1: `weight (c_out, c_in) × xs (c_in, h·w)`; 3×3: the same over the im2col patches.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (n, c_in, h, w) = xs.dims4()?;
        let c_out = self.weight.dim(0)?;
        let (cols, ho, wo) = match self.kernel {
            1 => (xs.reshape((n, c_in, h * w))?, h, w),
            _ => {
                let cols = xs.contiguous()?.apply_op1_no_bwd(&Im2Col3x3 {
                    stride: self.stride,
                })?;
                (cols, (h - 1) / self.stride + 1, (w - 1) / self.stride + 1)
            }
        };
        let ys = self
            .weight
            .broadcast_left(n)?
            .matmul(&cols)?
            .reshape((n, c_out, ho, wo))?;
        let ys = ys.contiguous()?;
        ys.inplace_op1(&self.bias_act)?;
        Ok(ys)
    }
}

/// Channel counts and geometry of one convolution.
#[derive(Debug, Clone, Copy)]
pub struct ConvDims {
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub stride: usize,
}

impl ConvDims {
    pub fn new(c_in: usize, c_out: usize, kernel: usize, stride: usize) -> Self {
        Self {
            c_in,
            c_out,
            kernel,
            stride,
        }
    }
}

/// MobileNet block: depthwise 3×3 (stride 1 or 2) + leaky ReLU, pointwise 1×1 + leaky ReLU.
#[derive(Debug, Clone)]
pub struct DepthwiseSeparable {
    depthwise: Depthwise3x3,
    pointwise: Conv,
}

impl DepthwiseSeparable {
    /// `first` is the initialiser number of the depthwise weight (`onnx::Conv_{first}`, bias
    /// `first + 1`); the pointwise weight and bias follow at `first + 3` and `first + 4`.
    pub fn load(
        vb: &VarBuilder,
        first: u32,
        c_in: usize,
        c_out: usize,
        stride: usize,
    ) -> Result<Self> {
        let dw_w = vb.get((c_in, 1, 3, 3), &onnx_name(first))?;
        let dw_b = vb.get(c_in, &onnx_name(first + 1))?;
        let depthwise = Depthwise3x3::new(&dw_w, &dw_b, stride)?.with_leaky_relu(LEAKY_SLOPE);
        let names = (onnx_name(first + 3), onnx_name(first + 4));
        let dims = ConvDims::new(c_in, c_out, 1, 1);
        let pointwise = Conv::load(vb, (&names.0, &names.1), dims, Act::Leaky)?;
        Ok(Self {
            depthwise,
            pointwise,
        })
    }
}

impl Module for DepthwiseSeparable {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = xs.contiguous()?.apply_op1_no_bwd(&self.depthwise)?;
        self.pointwise.forward(&ys)
    }
}

/// The name PyTorch's exporter gave an anonymous initialiser: `onnx::Conv_{n}`.
pub fn onnx_name(n: u32) -> String {
    format!("onnx::Conv_{n}")
}
