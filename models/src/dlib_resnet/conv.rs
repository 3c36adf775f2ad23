//! Convolution as im2col + one single-threaded matrix product per image, bias and ReLU fused.
//!
//! candle 0.11's CPU `conv2d` spends most of its time rearranging data (NCHW ↔ NHWC,
//! 512-pixel tiles) rather than in the matrix product; for this network that was ~60 % of
//! the run time. Here one `CustomOp1` lays out the patches as `[C·k·k, Ho·Wo]` straight from
//! NCHW into the thread's scratch buffer (`crate::scratch`), multiplies them with `gemm` (the
//! kernel candle's own `matmul` calls) into an output that starts as the bias, then applies
//! the ReLU when asked: NCHW output, nothing zeroed, no other pass over it.
//!
//! The product runs on the calling thread: the embedder spreads whole chips over the cores
//! instead (`DlibResnet::embed_batch`), which does not stall when another process holds a
//! core. [`Conv::forward_unfused`] is the earlier path (patches, then candle's `matmul` and
//! `broadcast_add`), kept as the reference the fused one is tested against.

use crate::kernel_input::nchw_f32;
use crate::product;
use crate::scratch::{bias_planes, with_scratch};
use candle_core::{CpuStorage, CustomOp1, Layout, Module, Result, Shape, Tensor, bail};

/// A 2-D convolution with square kernel, symmetric zero padding and equal strides.
#[derive(Debug, Clone)]
pub(crate) struct Conv {
    fused: FusedConv,
    /// `[C_out, C_in·k·k]` and `[C_out, 1]` tensors for [`Conv::forward_unfused`].
    #[cfg(test)]
    reference: (Tensor, Tensor),
}

impl Conv {
    /// `weight` is OIHW `[C_out, C_in, k, k]`, `bias` is `[C_out]`.
    pub(crate) fn new(
        weight: &Tensor,
        bias: &Tensor,
        stride: usize,
        padding: usize,
    ) -> Result<Self> {
        let (c_out, c_in, k, _) = weight.dims4()?;
        let weight = weight.reshape((c_out, c_in * k * k))?;
        let fused = FusedConv {
            weight: weight.flatten_all()?.to_vec1()?,
            bias: bias.flatten_all()?.to_vec1()?,
            patches: Im2Col { k, stride, padding },
            relu: false,
        };
        Ok(Self {
            fused,
            #[cfg(test)]
            reference: (weight, bias.reshape((c_out, 1))?),
        })
    }

    /// The same convolution followed by ReLU, in the same pass.
    pub(crate) fn with_relu(mut self) -> Self {
        self.fused.relu = true;
        self
    }

    /// The earlier path: patches, candle's `matmul` and `broadcast_add` (and `relu`).
    #[cfg(test)]
    pub(crate) fn forward_unfused(&self, x: &Tensor) -> Result<Tensor> {
        let (n, _, h, w) = x.dims4()?;
        let patches = self.fused.patches;
        let (ho, wo) = patches.out_size(h, w)?;
        let cols = x.contiguous()?.apply_op1_no_bwd(&patches)?;
        let (weight, bias) = &self.reference;
        let y = weight
            .broadcast_matmul(&cols)?
            .broadcast_add(bias)?
            .reshape((n, weight.dim(0)?, ho, wo))?;
        if self.fused.relu { y.relu() } else { Ok(y) }
    }
}

impl Module for Conv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.contiguous()?.apply_op1_no_bwd(&self.fused)
    }
}

/// im2col into the thread's scratch buffer, `gemm` on the calling thread, added to the bias,
/// optional ReLU: `[N, C, H, W]` → `[N, C_out, Ho, Wo]`.
#[derive(Debug, Clone)]
struct FusedConv {
    /// `[C_out, C_in·k·k]`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
    patches: Im2Col,
    relu: bool,
}

impl FusedConv {
    /// One image: `cols` is scratch for the `C·k·k × Ho·Wo` patches (every entry is written);
    /// `dst` is `C_out × Ho·Wo` holding the bias, to which the product is added.
    fn run(&self, img: &[f32], cols: &mut [f32], dst: &mut [f32], hw: (usize, usize)) {
        let (ho, wo) = self.patches.out_size(hw.0, hw.1).unwrap_or((0, 0));
        let (m, n, k) = (
            self.bias.len(),
            ho * wo,
            self.weight.len() / self.bias.len(),
        );
        self.patches.fill(img, cols, hw, (ho, wo));
        product::add(&self.weight, cols, dst, (m, n, k));
        if self.relu {
            dst.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
}

impl CustomOp1 for FusedConv {
    fn name(&self) -> &'static str {
        "dlib-conv"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (data, (n, c, h, w)) = nchw_f32("conv", storage, layout)?;
        let (ho, wo) = self.patches.out_size(h, w)?;
        let c_out = self.bias.len();
        if c * self.patches.k * self.patches.k * c_out != self.weight.len() {
            bail!("conv: {c} input channels do not fit the weights");
        }
        let mut out = bias_planes(&self.bias, ho * wo, n);
        let rows = c * self.patches.k * self.patches.k;
        with_scratch(rows * ho * wo, |cols| {
            let images = data.chunks_exact(c * h * w);
            for (img, dst) in images.zip(out.chunks_exact_mut(c_out * ho * wo)) {
                self.run(img, cols, dst, (h, w));
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((n, c_out, ho, wo))))
    }
}

/// `[N, C, H, W]` → `[N, C·k·k, Ho·Wo]`, rows ordered (c, ky, kx) like a flattened OIHW kernel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Im2Col {
    k: usize,
    stride: usize,
    padding: usize,
}

impl Im2Col {
    fn out_size(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        let span = |len: usize| (len + 2 * self.padding).checked_sub(self.k);
        match (span(h), span(w)) {
            (Some(sh), Some(sw)) => Ok((sh / self.stride + 1, sw / self.stride + 1)),
            _ => bail!(
                "im2col: {h}×{w} input is smaller than the {0}×{0} kernel",
                self.k
            ),
        }
    }

    /// Writes every entry of one image's patch matrix (`Ho·Wo` per row), the padding's as 0.
    fn fill(&self, img: &[f32], dst: &mut [f32], (h, w): (usize, usize), (ho, wo): (usize, usize)) {
        let (k, s, p) = (self.k, self.stride, self.padding);
        let mut rows = dst.chunks_exact_mut(ho * wo);
        for plane in img.chunks_exact(h * w) {
            for ky in 0..k {
                for kx in 0..k {
                    let Some(row) = rows.next() else { return };
                    // Output columns whose input column ox·s + kx − p lies inside 0‥w.
                    let first = p.saturating_sub(kx).div_ceil(s).min(wo);
                    let end = ((w + p).saturating_sub(kx)).div_ceil(s).clamp(first, wo);
                    for (oy, out) in row.chunks_exact_mut(wo).enumerate() {
                        let Some(iy) = (oy * s + ky).checked_sub(p).filter(|iy| *iy < h) else {
                            out.fill(0.0);
                            continue;
                        };
                        let src = &plane[iy * w..(iy + 1) * w];
                        out[..first].fill(0.0);
                        out[end..].fill(0.0);
                        copy_strided(src, &mut out[first..end], first * s + kx - p, s);
                    }
                }
            }
        }
    }
}

/// `dst[i] = src[start + i·stride]`.
fn copy_strided(src: &[f32], dst: &mut [f32], start: usize, stride: usize) {
    if dst.is_empty() {
        return;
    }
    if stride == 1 {
        dst.copy_from_slice(&src[start..start + dst.len()]);
    } else {
        let picked = src[start..].iter().step_by(stride);
        dst.iter_mut().zip(picked).for_each(|(d, s)| *d = *s);
    }
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "dlib-im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (data, (n, c, h, w)) = nchw_f32("im2col", storage, layout)?;
        let (ho, wo) = self.out_size(h, w)?;
        let rows = c * self.k * self.k;
        let mut out = vec![0f32; n * rows * ho * wo];
        let images = data.chunks_exact(c * h * w);
        for (img, dst) in images.zip(out.chunks_exact_mut(rows * ho * wo)) {
            self.fill(img, dst, (h, w), (ho, wo));
        }
        Ok((CpuStorage::F32(out), Shape::from((n, rows, ho * wo))))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};
    use candle_nn::{Conv2d, Conv2dConfig};

    use super::*;

    /// Same result as candle's own conv2d for the shapes this network uses.
    #[test]
    fn matches_candle_conv2d() -> Result<()> {
        let dev = Device::Cpu;
        for (c_in, c_out, hw, k, stride, padding) in [
            (3, 4, 15, 7, 2, 0),
            (2, 3, 7, 3, 1, 1),
            (2, 3, 8, 3, 2, 0),
            (3, 2, 4, 3, 2, 0),
        ] {
            let w = Tensor::randn(0f32, 1.0, (c_out, c_in, k, k), &dev)?;
            let b = Tensor::randn(0f32, 1.0, c_out, &dev)?;
            let x = Tensor::randn(0f32, 1.0, (2, c_in, hw, hw), &dev)?;
            let config = Conv2dConfig {
                padding,
                stride,
                ..Default::default()
            };
            let expected = Conv2d::new(w.clone(), Some(b.clone()), config).forward(&x)?;
            let got = Conv::new(&w, &b, stride, padding)?.forward(&x)?;
            assert_eq!(got.dims(), expected.dims());
            let diff = (got - expected)?
                .abs()?
                .flatten_all()?
                .max(0)?
                .to_scalar::<f32>()?;
            assert!(diff < 1e-4, "{c_in}->{c_out} k{k} s{stride}: {diff}");
        }
        Ok(())
    }

    /// The fused kernel against the earlier path, with and without ReLU, at the network's
    /// real shapes (stem, a stride-2 down conv, the 3×3-extended-to-4 tail), with the
    /// scratch buffer full of NaN beforehand: every patch entry must be written.
    #[test]
    fn fused_matches_the_unfused_path() -> Result<()> {
        let dev = Device::Cpu;
        crate::scratch::with_scratch(1 << 22, |b| b.fill(f32::NAN));
        for (c_in, c_out, hw, k, stride, padding) in [
            (3, 32, 150, 7, 2, 0),
            (32, 32, 35, 3, 1, 1),
            (64, 128, 17, 3, 2, 0),
            (256, 256, 4, 3, 1, 1),
        ] {
            let w = Tensor::randn(0f32, 0.1, (c_out, c_in, k, k), &dev)?;
            let b = Tensor::randn(0f32, 1.0, c_out, &dev)?;
            let x = Tensor::randn(0f32, 1.0, (2, c_in, hw, hw), &dev)?;
            for conv in [
                Conv::new(&w, &b, stride, padding)?,
                Conv::new(&w, &b, stride, padding)?.with_relu(),
            ] {
                let expected = conv.forward_unfused(&x)?;
                let got = conv.forward(&x)?;
                assert_eq!(got.dims(), expected.dims());
                let diff = (got - expected)?
                    .abs()?
                    .flatten_all()?
                    .max(0)?
                    .to_scalar::<f32>()?;
                assert!(diff < 1e-5, "{c_in}->{c_out} k{k} s{stride}: {diff}");
            }
        }
        Ok(())
    }

    #[test]
    fn rejects_inputs_smaller_than_the_kernel() {
        let op = Im2Col {
            k: 3,
            stride: 2,
            padding: 0,
        };
        assert!(op.out_size(2, 2).is_err());
        assert_eq!(op.out_size(35, 35).unwrap(), (17, 17));
    }
}
