//! RetinaFace's building blocks: convolutions with folded batch-norm, fused bias and activation.
//!
//! Every convolution in the ONNX graph carries a bias (batch-norm folded in) and is followed by
//! a leaky ReLU (slope 0.1), a ReLU, or nothing. [`Conv`] runs it as one
//! [`FusedConv`](super::fused::FusedConv) (patches, single-threaded product, bias and a
//! per-channel slope: 0.1 is the leaky ReLU, 0 a ReLU, 1 the identity). Its earlier path
//! (im2col, candle's `matmul`, then [`BiasAct`] in place) is kept for tests as the reference.
//! [`DepthwiseSeparable`] is MobileNet's depthwise 3×3 + pointwise 1×1 pair.

use candle_core::{Module, Result, Tensor, bail};
use candle_nn::VarBuilder;

use super::fused::FusedConv;
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

/// A convolution (kernel 1 or 3, padding k/2) with bias and per-channel activation.
#[derive(Debug, Clone)]
pub struct Conv {
    fused: FusedConv,
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
        let (c_out, _, kernel, _) = weight.dims4()?;
        if kernel != 1 && kernel != 3 {
            bail!("conv: kernel {kernel} is not supported");
        }
        if kernel == 1 && stride != 1 {
            bail!("conv: a 1×1 kernel must have stride 1");
        }
        if acts.len() != c_out || bias.dims1()? != c_out {
            bail!(
                "conv: {c_out} channels, {} activations, bias {:?}",
                acts.len(),
                bias.shape()
            );
        }
        Ok(Self {
            fused: FusedConv {
                weight: weight.flatten_all()?.to_vec1()?,
                bias: bias.to_vec1()?,
                slope: acts.iter().map(|a| a.slope()).collect(),
                kernel,
                stride,
            },
        })
    }

    /// Concatenates the output channels of two convolutions over the same input.
    pub fn stack(a: &Conv, b: &Conv) -> Result<Self> {
        let (a, b) = (&a.fused, &b.fused);
        if a.kernel != b.kernel || a.stride != b.stride || a.depth() != b.depth() {
            bail!("conv: cannot stack convolutions of different geometry");
        }
        Ok(Self {
            fused: FusedConv {
                weight: [a.weight.as_slice(), &b.weight].concat(),
                bias: [a.bias.as_slice(), &b.bias].concat(),
                slope: [a.slope.as_slice(), &b.slope].concat(),
                kernel: a.kernel,
                stride: a.stride,
            },
        })
    }

    /// The earlier path: im2col (3×3), candle's `matmul`, then bias and activation in place.
    #[cfg(test)]
    pub fn forward_unfused(&self, xs: &Tensor) -> Result<Tensor> {
        let f = &self.fused;
        let (n, c_in, h, w) = xs.dims4()?;
        let (c_out, depth) = (f.bias.len(), f.depth());
        let weight = Tensor::from_slice(&f.weight, (c_out, depth), xs.device())?;
        let (cols, ho, wo) = match f.kernel {
            1 => (xs.reshape((n, c_in, h * w))?, h, w),
            _ => {
                let cols = xs
                    .contiguous()?
                    .apply_op1_no_bwd(&super::im2col::Im2Col3x3 { stride: f.stride })?;
                (cols, (h - 1) / f.stride + 1, (w - 1) / f.stride + 1)
            }
        };
        let ys = weight
            .broadcast_left(n)?
            .matmul(&cols)?
            .reshape((n, c_out, ho, wo))?
            .contiguous()?;
        let bias_act = BiasAct {
            bias: f.bias.clone(),
            slope: f.slope.clone(),
        };
        ys.inplace_op1(&bias_act)?;
        Ok(ys)
    }
}

impl Module for Conv {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.contiguous()?.apply_op1_no_bwd(&self.fused)
    }
}

/// In-place `x ← y · (y ≥ 0 ? 1 : slope[c])` with `y = x + bias[c]`, on contiguous f32 NCHW
/// (the reference path's bias pass).
#[cfg(test)]
#[derive(Debug, Clone)]
pub struct BiasAct {
    bias: Vec<f32>,
    slope: Vec<f32>,
}

#[cfg(test)]
impl candle_core::InplaceOp1 for BiasAct {
    fn name(&self) -> &'static str {
        "bias-act"
    }

    fn cpu_fwd(
        &self,
        storage: &mut candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> Result<()> {
        let candle_core::CpuStorage::F32(data) = storage else {
            bail!("bias-act: only f32 is supported");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("bias-act: input must be contiguous");
        };
        let (_, c, h, w) = layout.shape().dims4()?;
        let plane = (h * w).max(1);
        for (i, p) in data[start..end].chunks_mut(plane).enumerate() {
            let (b, s) = (self.bias[i % c], self.slope[i % c]);
            p.iter_mut().for_each(|v| {
                let y = *v + b;
                *v = if y >= 0.0 { y } else { y * s };
            });
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use candle_core::{D, Device};

    use super::*;

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(D::Minus1)?.to_scalar()
    }

    /// The fused convolution against the earlier path at the network's shapes (the stem, a
    /// pointwise layer, the FPN merge and an SSH stack with mixed activations), batch 2, on
    /// one thread and split into bands over three, every thread's scratch buffer full of NaN
    /// beforehand (every patch entry must be written).
    #[test]
    fn fused_matches_the_unfused_path() -> Result<()> {
        let dev = Device::Cpu;
        let acts = |c: usize| -> Vec<Act> {
            (0..c)
                .map(|i| [Act::Leaky, Act::Relu, Act::None][i % 3])
                .collect()
        };
        for (c_in, c_out, k, stride, (h, w)) in [
            (3, 8, 3, 2, (61, 81)),
            (8, 16, 1, 1, (60, 80)),
            (64, 64, 3, 1, (60, 80)),
            (64, 48, 3, 1, (30, 40)),
            (16, 16, 3, 1, (7, 5)),
            (128, 256, 1, 1, (4, 5)),
        ] {
            let wt = Tensor::randn(0f32, 0.1, (c_out, c_in, k, k), &dev)?;
            let b = Tensor::randn(0f32, 1.0, c_out, &dev)?;
            let x = Tensor::randn(0f32, 1.0, (2, c_in, h, w), &dev)?;
            let conv = Conv::from_tensors(wt, b, stride, &acts(c_out))?;
            let expected = conv.forward_unfused(&x)?;
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(candle_core::Error::wrap)?;
                pool.broadcast(|_| crate::scratch::with_scratch(1 << 22, |b| b.fill(f32::NAN)));
                let got = pool.install(|| conv.forward(&x))?;
                assert_eq!(got.dims(), expected.dims());
                let diff = max_abs_diff(&got, &expected)?;
                assert!(
                    diff < 1e-5,
                    "{c_in}→{c_out} k{k} s{stride} {h}×{w}, {threads} threads: {diff}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn stacking_keeps_each_half() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (1, 4, 6, 7), &dev)?;
        let conv = |c_out, act| -> Result<Conv> {
            let wt = Tensor::randn(0f32, 0.3, (c_out, 4, 3, 3), &dev)?;
            let b = Tensor::randn(0f32, 1.0, c_out, &dev)?;
            Conv::from_tensors(wt, b, 1, &vec![act; c_out])
        };
        let (a, b) = (conv(3, Act::Relu)?, conv(2, Act::Leaky)?);
        let both = Conv::stack(&a, &b)?.forward(&x)?;
        let expected = Tensor::cat(&[a.forward(&x)?, b.forward(&x)?], 1)?;
        assert_eq!(max_abs_diff(&both, &expected)?, 0.0);
        Ok(())
    }
}
