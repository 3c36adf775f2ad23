//! What every hand-written CPU kernel here (`CustomOp1`s on candle tensors) checks first: an
//! f32, contiguous, NCHW input.

use candle_core::{CpuStorage, Layout, Result, bail};

/// Batch, channels, height, width.
pub(crate) type Nchw = (usize, usize, usize, usize);

/// The input of the kernel `op` as a slice, with its dimensions; an error naming `op` for
/// another dtype, a strided layout or another rank.
pub(crate) fn nchw_f32<'a>(
    op: &str,
    storage: &'a CpuStorage,
    layout: &Layout,
) -> Result<(&'a [f32], Nchw)> {
    let CpuStorage::F32(data) = storage else {
        bail!("{op}: only f32 tensors are supported")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("{op}: the input must be contiguous")
    };
    Ok((&data[start..end], layout.shape().dims4()?))
}
