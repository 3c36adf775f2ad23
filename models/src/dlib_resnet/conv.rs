//! Convolution as im2col + one matrix product per image.
//!
//! candle 0.11's CPU `conv2d` spends most of its time rearranging data (NCHW ↔ NHWC,
//! 512-pixel tiles) rather than in the matrix product; for this network that was ~60 % of
//! the run time. Here a small `CustomOp1` lays out the patches as `[N, C·k·k, Ho·Wo]` straight
//! from NCHW, and candle's `matmul` (gemm) does the rest, giving NCHW output with no copy.

use candle_core::{CpuStorage, CustomOp1, Layout, Module, Result, Shape, Tensor, bail};

/// A 2-D convolution with square kernel, symmetric zero padding and equal strides.
#[derive(Debug, Clone)]
pub(crate) struct Conv {
    /// `[C_out, C_in·k·k]`, OIHW flattened.
    weight: Tensor,
    /// `[C_out, 1]`.
    bias: Tensor,
    patches: Im2Col,
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
        Ok(Self {
            weight: weight.reshape((c_out, c_in * k * k))?,
            bias: bias.reshape((c_out, 1))?,
            patches: Im2Col { k, stride, padding },
        })
    }
}

impl Module for Conv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (n, _, h, w) = x.dims4()?;
        let (ho, wo) = self.patches.out_size(h, w)?;
        let cols = x.contiguous()?.apply_op1_no_bwd(&self.patches)?;
        let y = self
            .weight
            .broadcast_matmul(&cols)?
            .broadcast_add(&self.bias)?;
        y.reshape((n, self.weight.dim(0)?, ho, wo))
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

    /// Fill the rows of one image's patch matrix (`dst` is zeroed, `Ho·Wo` per row).
    fn fill(&self, img: &[f32], dst: &mut [f32], (h, w): (usize, usize), (ho, wo): (usize, usize)) {
        let (k, s, p) = (self.k, self.stride, self.padding);
        let mut rows = dst.chunks_exact_mut(ho * wo);
        for plane in img.chunks_exact(h * w) {
            for ky in 0..k {
                for kx in 0..k {
                    let Some(row) = rows.next() else { return };
                    // Output columns whose input column ox·s + kx − p lies inside 0‥w.
                    let first = p.saturating_sub(kx).div_ceil(s);
                    let end = ((w + p).saturating_sub(kx)).div_ceil(s).min(wo);
                    for oy in 0..ho {
                        let Some(iy) = (oy * s + ky).checked_sub(p).filter(|iy| *iy < h) else {
                            continue;
                        };
                        let src = &plane[iy * w..(iy + 1) * w];
                        let out = &mut row[oy * wo..(oy + 1) * wo];
                        copy_strided(src, &mut out[first..end.max(first)], first * s + kx - p, s);
                    }
                }
            }
        }
    }
}

/// `dst[i] = src[start + i·stride]`.
fn copy_strided(src: &[f32], dst: &mut [f32], start: usize, stride: usize) {
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
        let CpuStorage::F32(data) = storage else {
            bail!("im2col: only f32 tensors are supported")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("im2col: the input must be contiguous")
        };
        let (n, c, h, w) = layout.shape().dims4()?;
        let (ho, wo) = self.out_size(h, w)?;
        let rows = c * self.k * self.k;
        let mut out = vec![0f32; n * rows * ho * wo];
        let images = data[start..end].chunks_exact(c * h * w);
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
