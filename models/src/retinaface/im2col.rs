//! Im2col for 3×3 convolutions (padding 1, stride 1 or 2), one band of output rows at a time.
//!
//! The patch matrix is laid out `(c·9, rows·w_out)`, row `c·9 + ky·3 + kx` being channel `c`
//! shifted by `(ky − 1, kx − 1)`, so each row is built from whole-row copies and
//! `weight (c_out, c·9) × patches` is directly NCHW output. [`fill_band`] builds the patches
//! of a band of output rows (the fused convolution of `retinaface/fused.rs` splits a layer
//! into bands); [`Im2Col3x3`], the whole image as a candle op, is the earlier path kept as
//! the reference the fused convolution is tested against.

use std::ops::Range;

/// Input and output geometry of one 3×3, padding-1 convolution.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub h: usize,
    pub w: usize,
    pub stride: usize,
}

impl Geometry {
    /// Output side for an input side `n`.
    pub fn out_len(&self, n: usize) -> usize {
        (n - 1) / self.stride + 1
    }

    pub fn out_size(&self) -> (usize, usize) {
        (self.out_len(self.h), self.out_len(self.w))
    }
}

/// Writes the patch rows of output rows `rows` of one image `img` (`c × h × w`) into `dst`
/// (`c·9 × rows.len()·w_out`, every entry written, the padding's as zero).
pub fn fill_band(img: &[f32], g: Geometry, rows: Range<usize>, dst: &mut [f32]) {
    let wo = g.out_len(g.w);
    let len = rows.len() * wo;
    if len == 0 {
        return;
    }
    let mut patch_rows = dst.chunks_exact_mut(len);
    for plane in img.chunks_exact(g.h * g.w) {
        for k in 0..9 {
            let Some(row) = patch_rows.next() else { return };
            for (oy, out) in rows.clone().zip(row.chunks_exact_mut(wo)) {
                shifted_row(plane, g, (oy, k / 3, k % 3), out);
            }
        }
    }
}

/// `out[x] = plane[(oy·s + ky − 1)·w + x·s + kx − 1]`, zero outside the plane.
fn shifted_row(plane: &[f32], g: Geometry, (oy, ky, kx): (usize, usize, usize), out: &mut [f32]) {
    let Some(iy) = (oy * g.stride + ky).checked_sub(1).filter(|&r| r < g.h) else {
        out.fill(0.0);
        return;
    };
    let (w, wo) = (g.w, out.len());
    let line = &plane[iy * w..(iy + 1) * w];
    if g.stride == 1 {
        match kx {
            0 => {
                out[0] = 0.0;
                out[1..].copy_from_slice(&line[..w - 1]);
            }
            1 => out.copy_from_slice(line),
            _ => {
                out[..w - 1].copy_from_slice(&line[1..]);
                out[wo - 1] = 0.0;
            }
        }
    } else {
        for (x, d) in out.iter_mut().enumerate() {
            let ix = (2 * x + kx).checked_sub(1);
            *d = ix.and_then(|ix| line.get(ix)).copied().unwrap_or(0.0);
        }
    }
}

/// The whole patch matrix `(n, c·9, h_out·w_out)` as a candle op (the reference path).
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub struct Im2Col3x3 {
    pub stride: usize,
}

#[cfg(test)]
impl candle_core::CustomOp1 for Im2Col3x3 {
    fn name(&self) -> &'static str {
        "im2col3x3"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let (input, (n, c, h, w)) = crate::kernel_input::nchw_f32("im2col3x3", storage, layout)?;
        if h == 0 || w == 0 || !(1..=2).contains(&self.stride) {
            candle_core::bail!(
                "im2col3x3: input {:?}, stride {}",
                layout.shape(),
                self.stride
            );
        }
        let g = Geometry {
            h,
            w,
            stride: self.stride,
        };
        let (ho, wo) = g.out_size();
        let mut out = vec![0f32; n * c * 9 * ho * wo];
        let images = input.chunks_exact(c * h * w);
        for (img, dst) in images.zip(out.chunks_exact_mut(c * 9 * ho * wo)) {
            fill_band(img, g, 0..ho, dst);
        }
        Ok((
            candle_core::CpuStorage::F32(out),
            candle_core::Shape::from((n, c * 9, ho * wo)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, Device, Result, Tensor};

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

    /// Bands put side by side are the whole matrix, whatever was in the buffer before.
    #[test]
    fn bands_tile_the_whole_matrix() {
        let (c, h, w) = (2, 7, 5);
        let img: Vec<f32> = (0..c * h * w).map(|v| v as f32).collect();
        for stride in [1, 2] {
            let g = Geometry { h, w, stride };
            let (ho, wo) = g.out_size();
            let mut whole = vec![f32::NAN; c * 9 * ho * wo];
            fill_band(&img, g, 0..ho, &mut whole);
            let split = ho / 2;
            for rows in [0..split, split..ho] {
                let mut band = vec![f32::NAN; c * 9 * rows.len() * wo];
                fill_band(&img, g, rows.clone(), &mut band);
                let n = rows.len() * wo;
                for (r, got) in band.chunks_exact(n).enumerate() {
                    let start = r * ho * wo + rows.start * wo;
                    assert_eq!(got, &whole[start..start + n], "stride {stride}");
                }
            }
        }
    }
}
