//! Depthwise 3×3 convolution as a candle `CustomOp1`: candle's `conv2d(groups = C)` is ~100× too slow.
//!
//! [`Depthwise3x3`] holds one 3×3 filter and one bias per channel and convolves each channel
//! of a contiguous f32 NCHW tensor with its own filter (stride 1 or 2, zero padding 1), adds
//! the bias and optionally applies a leaky ReLU or a PReLU (one slope per channel), all in
//! one pass. Channel planes are spread
//! over rayon's pool in at most one run of planes per thread (and only when each run has
//! [`MIN_TASK_OUTPUTS`] values to compute), so a busy core delays a layer once, not per plane. The inner loops are written over
//! equal-length slices so they vectorise, and an AVX2 copy of them is picked at run time.
//! CPU only: other devices get an error.

use crate::kernel_input::nchw_f32;
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, bail};
use rayon::prelude::*;

/// Fewest output values worth handing to another thread (9 multiply-adds each).
pub const MIN_TASK_OUTPUTS: usize = 65_536;

/// Items (of `item_len` values each) per rayon task when `items` are spread over the pool:
/// one run per thread, none shorter than [`MIN_TASK_OUTPUTS`] values.
pub fn items_per_task(items: usize, item_len: usize) -> usize {
    let per_thread = items.div_ceil(rayon::current_num_threads().max(1));
    per_thread
        .max(MIN_TASK_OUTPUTS.div_ceil(item_len.max(1)))
        .max(1)
}

/// Depthwise 3×3 convolution, padding 1, fused with bias and an optional leaky ReLU or PReLU.
#[derive(Debug, Clone)]
pub struct Depthwise3x3 {
    weight: Vec<f32>,
    bias: Vec<f32>,
    stride: usize,
    /// Negative slope per channel (`y ≥ 0 ? y : slope·y`), or no activation.
    slopes: Option<Vec<f32>>,
}

impl Depthwise3x3 {
    /// Builds the op from a `(C, 1, 3, 3)` weight and a `(C,)` bias; `stride` must be 1 or 2.
    pub fn new(weight: &Tensor, bias: &Tensor, stride: usize) -> Result<Self> {
        let (c, one, kh, kw) = weight.dims4()?;
        if one != 1 || kh != 3 || kw != 3 || bias.dims1()? != c {
            bail!(
                "depthwise3x3: weight {:?} / bias {:?}",
                weight.shape(),
                bias.shape()
            );
        }
        if stride != 1 && stride != 2 {
            bail!("depthwise3x3: stride {stride} is not 1 or 2");
        }
        Ok(Self {
            weight: weight.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?,
            bias: bias.to_dtype(DType::F32)?.to_vec1()?,
            stride,
            slopes: None,
        })
    }

    /// The same op followed by a leaky ReLU, `x ↦ x ≥ 0 ? x : slope·x` on every channel.
    pub fn with_leaky_relu(mut self, slope: f32) -> Self {
        self.slopes = Some(vec![slope; self.bias.len()]);
        self
    }

    /// The same op followed by a PReLU, `x ↦ x ≥ 0 ? x : slopes[c]·x` on channel `c`.
    pub fn with_prelu(mut self, slopes: &Tensor) -> Result<Self> {
        if slopes.dims1()? != self.bias.len() {
            bail!(
                "depthwise3x3: {} PReLU slopes for {} channels",
                slopes.dims1()?,
                self.bias.len()
            );
        }
        self.slopes = Some(slopes.to_dtype(DType::F32)?.to_vec1()?);
        Ok(self)
    }

    fn out_len(&self, n: usize) -> usize {
        (n - 1) / self.stride + 1
    }
}

impl CustomOp1 for Depthwise3x3 {
    fn name(&self) -> &'static str {
        "depthwise3x3"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (input, (n, c, h, w)) = nchw_f32("depthwise3x3", storage, layout)?;
        if c != self.bias.len() || h == 0 || w == 0 {
            bail!(
                "depthwise3x3: input {:?} for {} channels",
                layout.shape(),
                self.bias.len()
            );
        }
        let (ho, wo) = (self.out_len(h), self.out_len(w));
        let mut out = vec![0f32; n * c * ho * wo];
        out.par_chunks_mut(ho * wo)
            .with_min_len(items_per_task(n * c, ho * wo))
            .enumerate()
            .for_each(|(plane, dst)| {
                let ch = plane % c;
                let src = &input[plane * h * w..(plane + 1) * h * w];
                let k: &[f32; 9] = self.weight[ch * 9..ch * 9 + 9]
                    .try_into()
                    .unwrap_or(&[0.0; 9]);
                let p = Plane {
                    src,
                    h,
                    w,
                    k,
                    bias: self.bias[ch],
                    slope: self.slopes.as_ref().map(|s| s[ch]),
                };
                p.run(self.stride, dst);
            });
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// One channel: its input plane, filter, bias and activation.
struct Plane<'a> {
    src: &'a [f32],
    h: usize,
    w: usize,
    k: &'a [f32; 9],
    bias: f32,
    slope: Option<f32>,
}

impl Plane<'_> {
    fn run(&self, stride: usize, dst: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { self.run_avx2(stride, dst) };
            return;
        }
        self.run_generic(stride, dst);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&self, stride: usize, dst: &mut [f32]) {
        self.run_generic(stride, dst);
    }

    #[inline(always)]
    fn run_generic(&self, stride: usize, dst: &mut [f32]) {
        let wo = (self.w - 1) / stride + 1;
        let mut scratch = vec![0f32; 2 * self.w + 2];
        for (y, out_row) in dst.chunks_exact_mut(wo).enumerate() {
            out_row.fill(self.bias);
            for ky in 0..3 {
                let Some(row) = (y * stride + ky).checked_sub(1).filter(|&r| r < self.h) else {
                    continue;
                };
                let src = &self.src[row * self.w..(row + 1) * self.w];
                let k = [self.k[3 * ky], self.k[3 * ky + 1], self.k[3 * ky + 2]];
                if stride == 1 {
                    accumulate_s1(out_row, src, k);
                } else {
                    accumulate_s2(out_row, src, k, &mut scratch);
                }
            }
            if let Some(slope) = self.slope {
                out_row
                    .iter_mut()
                    .for_each(|v| *v = if *v >= 0.0 { *v } else { *v * slope });
            }
        }
    }
}

/// `out[x] += k0·src[x−1] + k1·src[x] + k2·src[x+1]`, zero outside `src`.
#[inline(always)]
fn accumulate_s1(out: &mut [f32], src: &[f32], [k0, k1, k2]: [f32; 3]) {
    let w = src.len();
    if w == 1 {
        out[0] += k1 * src[0];
        return;
    }
    out[0] += k1 * src[0] + k2 * src[1];
    out[w - 1] += k0 * src[w - 2] + k1 * src[w - 1];
    let inner = &mut out[1..w - 1];
    let (left, mid, right) = (&src[..w - 2], &src[1..w - 1], &src[2..]);
    for (((o, &a), &b), &c) in inner.iter_mut().zip(left).zip(mid).zip(right) {
        *o += k0 * a + k1 * b + k2 * c;
    }
}

/// Stride 2: `out[x] += k0·src[2x−1] + k1·src[2x] + k2·src[2x+1]`, zero outside `src`.
/// The row is split into even and odd samples first so the main loop is unit-stride.
#[inline(always)]
fn accumulate_s2(out: &mut [f32], src: &[f32], [k0, k1, k2]: [f32; 3], scratch: &mut [f32]) {
    let wo = out.len();
    // odd[j] = src[2j − 1] (odd[0] is the zero padding), even[j] = src[2j], next[j] = src[2j + 1].
    let (odd, even) = scratch.split_at_mut(wo + 1);
    odd[0] = 0.0;
    for j in 0..wo {
        even[j] = src[2 * j];
        odd[j + 1] = src.get(2 * j + 1).copied().unwrap_or(0.0);
    }
    let (prev, next) = (&odd[..wo], &odd[1..wo + 1]);
    for (((o, &a), &b), &c) in out.iter_mut().zip(prev).zip(&even[..wo]).zip(next) {
        *o += k0 * a + k1 * b + k2 * c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, Device};

    /// candle's grouped convolution plus bias: slow but obviously right.
    fn reference(x: &Tensor, w: &Tensor, b: &Tensor, stride: usize) -> Result<Tensor> {
        let c = b.dims1()?;
        x.conv2d(w, 1, stride, 1, c)?
            .broadcast_add(&b.reshape((1, c, 1, 1))?)
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(D::Minus1)?.to_scalar()
    }

    fn check(n: usize, c: usize, h: usize, w: usize, stride: usize) -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (n, c, h, w), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (c, 1, 3, 3), &dev)?;
        let b = Tensor::randn(0f32, 1.0, c, &dev)?;
        let ours = x.apply_op1_no_bwd(&Depthwise3x3::new(&k, &b, stride)?)?;
        let expected = reference(&x, &k, &b, stride)?;
        assert_eq!(
            ours.dims(),
            expected.dims(),
            "{n}×{c}×{h}×{w} stride {stride}"
        );
        let diff = max_abs_diff(&ours, &expected)?;
        assert!(
            diff <= 1e-5,
            "{n}×{c}×{h}×{w} stride {stride}: max-abs {diff}"
        );
        Ok(())
    }

    #[test]
    fn matches_grouped_conv2d_stride_1() -> Result<()> {
        for (n, c, h, w) in [
            (1, 8, 16, 16),
            (2, 3, 7, 5),
            (1, 4, 1, 1),
            (1, 2, 1, 9),
            (1, 5, 2, 2),
        ] {
            check(n, c, h, w, 1)?;
        }
        check(1, 64, 60, 80, 1)
    }

    #[test]
    fn matches_grouped_conv2d_stride_2() -> Result<()> {
        for (n, c, h, w) in [
            (1, 8, 16, 16),
            (2, 3, 7, 5),
            (1, 4, 1, 1),
            (1, 2, 3, 2),
            (1, 6, 9, 13),
        ] {
            check(n, c, h, w, 2)?;
        }
        check(1, 32, 121, 161, 2)
    }

    #[test]
    fn leaky_relu_is_fused() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (1, 4, 9, 11), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (4, 1, 3, 3), &dev)?;
        let b = Tensor::randn(0f32, 1.0, 4, &dev)?;
        let op = Depthwise3x3::new(&k, &b, 1)?.with_leaky_relu(0.1);
        let ours = x.apply_op1_no_bwd(&op)?;
        let r = reference(&x, &k, &b, 1)?;
        let expected = r.maximum(&(&r * 0.1)?)?;
        assert!(max_abs_diff(&ours, &expected)? <= 1e-5);
        Ok(())
    }

    #[test]
    fn prelu_is_fused_per_channel() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (2, 3, 7, 6), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (3, 1, 3, 3), &dev)?;
        let b = Tensor::randn(0f32, 1.0, 3, &dev)?;
        let slopes = Tensor::new(&[0.25f32, -0.5, 1.5], &dev)?;
        let op = Depthwise3x3::new(&k, &b, 2)?.with_prelu(&slopes)?;
        let ours = x.apply_op1_no_bwd(&op)?;
        let r = reference(&x, &k, &b, 2)?;
        let negative = r.lt(0f32)?;
        let scaled = r.broadcast_mul(&slopes.reshape((1, 3, 1, 1))?)?;
        let expected = negative.where_cond(&scaled, &r)?;
        assert!(max_abs_diff(&ours, &expected)? <= 1e-5);
        let two = Tensor::new(&[0.1f32, 0.2], &dev)?;
        assert!(Depthwise3x3::new(&k, &b, 1)?.with_prelu(&two).is_err());
        Ok(())
    }

    #[test]
    fn rejects_bad_shapes() -> Result<()> {
        let dev = Device::Cpu;
        let k = Tensor::zeros((4, 1, 3, 3), DType::F32, &dev)?;
        let b = Tensor::zeros(4, DType::F32, &dev)?;
        assert!(Depthwise3x3::new(&k, &b, 3).is_err());
        assert!(Depthwise3x3::new(&k, &Tensor::zeros(3, DType::F32, &dev)?, 1).is_err());
        let x = Tensor::zeros((1, 5, 4, 4), DType::F32, &dev)?;
        assert!(x.apply_op1_no_bwd(&Depthwise3x3::new(&k, &b, 1)?).is_err());
        Ok(())
    }
}
