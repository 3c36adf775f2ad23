//! The detector's 1×1 and 3×3 convolutions as one candle op each: patches, a single-threaded
//! `gemm`, bias and per-channel activation in one pass over each band of output rows.
//!
//! The earlier path ran im2col, candle's `matmul` (which splits every product over the cores
//! at a fine grain and asks `/proc/cpuinfo` for the thread count each time), then a bias pass,
//! each its own parallel step: with another process holding a core, every step waited for it.
//! Here a layer is cut into at most one band of output rows per rayon thread (only when the
//! layer is large enough to pay for it, [`MIN_BAND_MACS`]); each band builds its own patches
//! (3×3) or reads the input in place (1×1), adds the product to the bias and applies the
//! activation, with no synchronisation in between. The output starts as the bias, and the
//! patches live in a per-thread scratch buffer (`crate::scratch`): nothing is zeroed first. With `RAYON_NUM_THREADS=1` everything runs
//! on the calling thread.

use std::ops::Range;

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, bail};
use rayon::prelude::*;

use super::im2col::{Geometry, fill_band};
use crate::kernel_input::nchw_f32;
use crate::product;
use crate::scratch::{bias_planes, with_scratch};

/// A layer is split into bands only when each band gets at least this many multiply-adds:
/// below it, handing a band to another thread costs more than it saves.
const MIN_BAND_MACS: usize = 4_000_000;

/// Convolution (kernel 1 or 3, padding k/2, stride 1 or 2) + bias + per-channel slope
/// (`y ≥ 0 ? y : slope·y`: 1 is no activation, 0 a ReLU, 0.1 RetinaFace's leaky ReLU).
#[derive(Debug, Clone)]
pub struct FusedConv {
    /// `c_out × c_in·k·k`, row-major (OIHW flattened).
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub slope: Vec<f32>,
    pub kernel: usize,
    pub stride: usize,
}

/// The output of one image: base pointer, `c_out` rows of `ho·wo` values each.
#[derive(Clone, Copy)]
struct Output {
    ptr: *mut f32,
    row_len: usize,
}

// SAFETY: bands of one image write disjoint column ranges of `Output`'s rows (see
// `FusedConv::band`), and the buffer outlives the scope that hands the pointer around.
unsafe impl Send for Output {}
unsafe impl Sync for Output {}

impl FusedConv {
    pub fn c_out(&self) -> usize {
        self.bias.len()
    }

    /// Patch rows per output channel (`c_in·k·k`).
    pub fn depth(&self) -> usize {
        self.weight.len() / self.c_out()
    }

    /// Output rows per band for an `ho × wo` output.
    fn band_rows(&self, ho: usize, wo: usize) -> usize {
        let macs = self.weight.len() * ho * wo;
        let bands = rayon::current_num_threads()
            .min(macs / MIN_BAND_MACS)
            .clamp(1, ho.max(1));
        ho.div_ceil(bands)
    }

    /// Output rows `rows` of one image, whose output already holds the bias: patches (3×3)
    /// or the input itself (1×1, stride 1), product, activation.
    fn band(&self, img: &[f32], g: Geometry, rows: Range<usize>, out: Output) {
        let (_, wo) = g.out_size();
        let cols = rows.start * wo..rows.end * wo;
        let n = cols.len();
        let product = |rhs: &[f32], rhs_row: usize| {
            // SAFETY: `rhs` holds `depth` rows `rhs_row` apart, each with `n` values; `out`
            // has `c_out` rows `row_len` apart, of which this band alone writes `cols`.
            unsafe {
                product::add_strided(
                    &self.weight,
                    (rhs.as_ptr(), rhs_row),
                    (out.ptr.add(cols.start), out.row_len),
                    (self.c_out(), n, self.depth()),
                )
            }
        };
        if self.kernel == 1 {
            product(&img[cols.start..], g.h * g.w);
        } else {
            with_scratch(self.depth() * n, |patches| {
                fill_band(img, g, rows, patches);
                product(patches, n);
            });
        }
        for (row, s) in self.rows(out, &cols).zip(&self.slope) {
            if *s != 1.0 {
                row.iter_mut()
                    .for_each(|v| *v = if *v >= 0.0 { *v } else { *v * s });
            }
        }
    }

    /// Columns `cols` of each of the `c_out` rows of `out`, one row at a time.
    fn rows<'a>(&self, out: Output, cols: &'a Range<usize>) -> impl Iterator<Item = &'a mut [f32]> {
        (0..self.c_out()).map(move |r| {
            // SAFETY: `out` has `c_out` rows of `row_len ≥ cols.end` values; only this band
            // touches columns `cols`, and each row's slice is dropped before the next use of
            // `out` (the iterator is consumed row by row).
            unsafe {
                std::slice::from_raw_parts_mut(
                    out.ptr.add(r * out.row_len + cols.start),
                    cols.len(),
                )
            }
        })
    }
}

impl CustomOp1 for FusedConv {
    fn name(&self) -> &'static str {
        "retinaface-conv"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (input, (n, c, h, w)) = nchw_f32("retinaface-conv", storage, layout)?;
        let k2 = self.kernel * self.kernel;
        let pointwise_s1 = self.kernel == 1 && self.stride == 1;
        if c * k2 != self.depth() || h == 0 || w == 0 || !(pointwise_s1 || self.kernel == 3) {
            bail!(
                "retinaface-conv: input {:?} for {}×{} kernel, stride {}, {} weights",
                layout.shape(),
                self.kernel,
                self.kernel,
                self.stride,
                self.weight.len()
            );
        }
        let g = Geometry {
            h,
            w,
            stride: self.stride,
        };
        let (ho, wo) = g.out_size();
        let c_out = self.c_out();
        let mut out = bias_planes(&self.bias, ho * wo, n);
        let step = self.band_rows(ho, wo);
        for (img, dst) in input
            .chunks_exact(c * h * w)
            .zip(out.chunks_exact_mut(c_out * ho * wo))
        {
            let dst = Output {
                ptr: dst.as_mut_ptr(),
                row_len: ho * wo,
            };
            let bands: Vec<Range<usize>> = (0..ho)
                .step_by(step)
                .map(|y| y..(y + step).min(ho))
                .collect();
            if bands.len() == 1 {
                self.band(img, g, 0..ho, dst);
            } else {
                bands
                    .into_par_iter()
                    .for_each(|rows| self.band(img, g, rows, dst));
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, c_out, ho, wo))))
    }
}
