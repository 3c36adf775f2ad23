//! Im2col for 3×3 convolutions (padding 1, stride 1 or 2) as a candle `CustomOp1`.
//!
//! candle's CPU `conv2d` gathers its patches one element at a time and re-flattens the
//! kernel on every call; here the patch matrix is laid out `(n, c·9, h_out·w_out)`, row
//! `c·9 + ky·3 + kx` being channel `c` shifted by `(ky − 1, kx − 1)`, so each row is built
//! from whole-row copies, and `weight (c_out, c·9) × patches` is directly NCHW output.

use crate::kernel_input::nchw_f32;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, bail};
use rayon::prelude::*;

/// Patch matrix of a 3×3, padding-1 convolution with the given stride.
#[derive(Debug, Clone, Copy)]
pub struct Im2Col3x3 {
    pub stride: usize,
}

impl Im2Col3x3 {
    fn out_len(&self, n: usize) -> usize {
        (n - 1) / self.stride + 1
    }
}

impl CustomOp1 for Im2Col3x3 {
    fn name(&self) -> &'static str {
        "im2col3x3"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (input, (n, c, h, w)) = nchw_f32("im2col3x3", storage, layout)?;
        if h == 0 || w == 0 || !(1..=2).contains(&self.stride) {
            bail!(
                "im2col3x3: input {:?}, stride {}",
                layout.shape(),
                self.stride
            );
        }
        let (ho, wo) = (self.out_len(h), self.out_len(w));
        let mut out = vec![0f32; n * c * 9 * ho * wo];
        out.par_chunks_mut(9 * ho * wo)
            .enumerate()
            .for_each(|(plane, rows)| {
                let src = &input[plane * h * w..(plane + 1) * h * w];
                for (k, row) in rows.chunks_exact_mut(ho * wo).enumerate() {
                    let shift = (k / 3, k % 3);
                    if self.stride == 1 {
                        shifted_s1(src, w, shift, row);
                    } else {
                        shifted_s2(src, (h, w), shift, wo, row);
                    }
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((n, c * 9, ho * wo))))
    }
}

/// `row[y·w + x] = src[(y + ky − 1)·w + x + kx − 1]`, zero outside; `row` starts zeroed.
fn shifted_s1(src: &[f32], w: usize, (ky, kx): (usize, usize), row: &mut [f32]) {
    let h = src.len() / w;
    for (y, dst) in row.chunks_exact_mut(w).enumerate() {
        let Some(iy) = (y + ky).checked_sub(1).filter(|&r| r < h) else {
            continue;
        };
        let line = &src[iy * w..(iy + 1) * w];
        match kx {
            0 => dst[1..].copy_from_slice(&line[..w - 1]),
            1 => dst.copy_from_slice(line),
            _ => dst[..w - 1].copy_from_slice(&line[1..]),
        }
    }
}

/// Stride 2: `row[y·wo + x] = src[(2y + ky − 1)·w + 2x + kx − 1]`, zero outside.
fn shifted_s2(
    src: &[f32],
    (h, w): (usize, usize),
    (ky, kx): (usize, usize),
    wo: usize,
    row: &mut [f32],
) {
    for (y, dst) in row.chunks_exact_mut(wo).enumerate() {
        let Some(iy) = (2 * y + ky).checked_sub(1).filter(|&r| r < h) else {
            continue;
        };
        let line = &src[iy * w..(iy + 1) * w];
        for (x, d) in dst.iter_mut().enumerate() {
            if let Some(&v) = (2 * x + kx).checked_sub(1).and_then(|ix| line.get(ix)) {
                *d = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, Device, Tensor};

    fn check(c_in: usize, c_out: usize, h: usize, w: usize, stride: usize) -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (2, c_in, h, w), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (c_out, c_in, 3, 3), &dev)?;
        let expected = x.conv2d(&k, 1, stride, 1, 1)?;
        let cols = x.apply_op1_no_bwd(&Im2Col3x3 { stride })?;
        let ours = k
            .reshape((c_out, c_in * 9))?
            .broadcast_left(2)?
            .matmul(&cols)?;
        let ours = ours.reshape(expected.dims())?;
        let diff: f32 = (ours - expected)?
            .abs()?
            .flatten_all()?
            .max(D::Minus1)?
            .to_scalar()?;
        assert!(diff < 1e-4, "{c_in}→{c_out} {h}×{w} s{stride}: {diff}");
        Ok(())
    }

    #[test]
    fn matches_conv2d() -> Result<()> {
        for (h, w) in [(1, 1), (2, 3), (7, 5), (16, 16), (15, 20)] {
            check(3, 8, h, w, 1)?;
            check(3, 8, h, w, 2)?;
        }
        check(16, 4, 9, 11, 1)
    }
}
