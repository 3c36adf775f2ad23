//! The FPN's top-down step as one `CustomOp2`: `fine + Resize(coarse, size of fine)`.
//!
//! ONNX `Resize` here is nearest, `asymmetric`, `floor`, with the output size taken from the
//! finer tensor: output row `y` reads coarse row `⌊y · h_coarse / h_fine⌋` (same for columns),
//! which for the ⌈n/2⌉ pyramid sizes is `⌊y/2⌋` even when the finer size is odd. Fusing the
//! add avoids candle's element-wise pool, which spins while waiting for a busy core.

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, bail};
use rayon::prelude::*;

/// `fine + nearest_upsample(coarse)`; both contiguous f32 NCHW with equal n and c.
#[derive(Debug, Clone, Copy)]
pub struct UpsampleAdd;

impl CustomOp2 for UpsampleAdd {
    fn name(&self) -> &'static str {
        "upsample-add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(fine), CpuStorage::F32(coarse)) = (s1, s2) else {
            bail!("upsample-add: only f32 is supported");
        };
        let (Some((f0, f1)), Some((c0, c1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            bail!("upsample-add: inputs must be contiguous");
        };
        let (n, c, h, w) = l1.shape().dims4()?;
        let (n2, c2, hc, wc) = l2.shape().dims4()?;
        if (n, c) != (n2, c2) || h == 0 || w == 0 || hc == 0 || wc == 0 {
            bail!("upsample-add: {:?} + {:?}", l1.shape(), l2.shape());
        }
        let (fine, coarse) = (&fine[f0..f1], &coarse[c0..c1]);
        let cols: Vec<usize> = (0..w).map(|x| x * wc / w).collect();
        let mut out = fine.to_vec();
        out.par_chunks_mut(h * w)
            .with_min_len(crate::depthwise::items_per_task(n * c, h * w))
            .enumerate()
            .for_each(|(plane, dst)| {
                let src = &coarse[plane * hc * wc..(plane + 1) * hc * wc];
                for (y, row) in dst.chunks_exact_mut(w).enumerate() {
                    let line = &src[(y * hc / h) * wc..(y * hc / h + 1) * wc];
                    row.iter_mut().zip(&cols).for_each(|(v, &x)| *v += line[x]);
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((n, c, h, w))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn matches_upsample_then_add() -> Result<()> {
        let dev = Device::Cpu;
        for (h, w) in [(2usize, 2usize), (7, 13), (8, 5), (1, 1)] {
            let (hc, wc) = (h.div_ceil(2), w.div_ceil(2));
            let fine = Tensor::randn(0f32, 1.0, (1, 3, h, w), &dev)?;
            let coarse = Tensor::randn(0f32, 1.0, (1, 3, hc, wc), &dev)?;
            let expected = (&fine + coarse.upsample_nearest2d(h, w)?)?;
            let ours = fine.apply_op2_no_bwd(&coarse, &UpsampleAdd)?;
            let diff: Vec<f32> = (ours - expected)?.abs()?.flatten_all()?.to_vec1()?;
            assert!(diff.iter().all(|d| *d == 0.0), "{h}×{w}");
        }
        Ok(())
    }

    #[test]
    fn odd_sizes_read_floor_half() -> Result<()> {
        let dev = Device::Cpu;
        let fine = Tensor::zeros((1, 1, 1, 3), candle_core::DType::F32, &dev)?;
        let coarse = Tensor::new(&[[[[1f32, 2.0]]]], &dev)?;
        let out: Vec<f32> = fine
            .apply_op2_no_bwd(&coarse, &UpsampleAdd)?
            .flatten_all()?
            .to_vec1()?;
        // x·2/3 floored: 0, 0, 1.
        assert_eq!(out, [1.0, 1.0, 2.0]);
        Ok(())
    }
}
