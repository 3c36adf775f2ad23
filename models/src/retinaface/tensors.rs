//! Between images, tensors and plain vectors: the network's input and raw outputs.
//!
//! Input: BGR planes minus the training mean (104, 117, 123), NCHW, f32, no scaling.
//! Output: the stacked per-level head tensors are rearranged into the ONNX model's flattened
//! layout ([`RawOutputs`]: anchors ordered level, row, column, anchor size) and the class
//! logits are softmaxed, exactly what the ONNX graph's Transpose/Reshape/Concat/Softmax do.

use candle_core::{Device, Result, Tensor, bail};
use image::RgbImage;

use super::net::HEAD_CHANNELS;
use crate::detect::RawOutputs;

/// Per-channel mean subtracted from the B, G, R planes.
pub const BGR_MEAN: [f32; 3] = [104.0, 117.0, 123.0];
/// Anchors per feature-map cell.
const ANCHORS_PER_CELL: usize = 2;

/// `(1, 3, h, w)` tensor of `image`'s B, G, R planes minus [`BGR_MEAN`].
pub fn image_to_tensor(image: &RgbImage, device: &Device) -> Result<Tensor> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut data = vec![0f32; 3 * h * w];
    let (b, rest) = data.split_at_mut(h * w);
    let (g, r) = rest.split_at_mut(h * w);
    for (i, px) in image.pixels().enumerate() {
        b[i] = px[2] as f32 - BGR_MEAN[0];
        g[i] = px[1] as f32 - BGR_MEAN[1];
        r[i] = px[0] as f32 - BGR_MEAN[2];
    }
    Tensor::from_vec(data, (1, 3, h, w), device)
}

/// Rearranges the three stacked head outputs `(1, 32, h_l, w_l)` of one image into
/// [`RawOutputs`], softmaxing the class logits.
pub fn heads_to_raw(levels: &[Tensor; 3]) -> Result<RawOutputs> {
    let mut raw = RawOutputs::default();
    for level in levels {
        let (n, c, h, w) = level.dims4()?;
        if n != 1 || c != HEAD_CHANNELS.iter().sum::<usize>() {
            bail!("heads: unexpected output shape {:?}", level.shape());
        }
        let data: Vec<f32> = level.flatten_all()?.to_vec1()?;
        append_level(&mut raw, &data, h * w);
    }
    Ok(raw)
}

/// Appends one level: `data` is channel-major `(32, cells)`.
fn append_level(raw: &mut RawOutputs, data: &[f32], cells: usize) {
    let [class, bbox, landmarks] = HEAD_CHANNELS.map(|c| c / ANCHORS_PER_CELL);
    let channel = |ch: usize, cell: usize| data[ch * cells + cell];
    for cell in 0..cells {
        for a in 0..ANCHORS_PER_CELL {
            let c0 = a * class;
            let logits = [channel(c0, cell), channel(c0 + 1, cell)];
            raw.conf.extend(softmax2(logits));
            let b0 = ANCHORS_PER_CELL * class + a * bbox;
            raw.loc.extend((0..bbox).map(|j| channel(b0 + j, cell)));
            let l0 = ANCHORS_PER_CELL * (class + bbox) + a * landmarks;
            raw.landmarks
                .extend((0..landmarks).map(|j| channel(l0 + j, cell)));
        }
    }
}

/// Softmax of two logits.
fn softmax2([a, b]: [f32; 2]) -> [f32; 2] {
    let m = a.max(b);
    let (ea, eb) = ((a - m).exp(), (b - m).exp());
    [ea / (ea + eb), eb / (ea + eb)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_becomes_bgr_minus_mean() -> Result<()> {
        let mut img = RgbImage::new(2, 1);
        img.put_pixel(1, 0, image::Rgb([200, 100, 50]));
        let t = image_to_tensor(&img, &Device::Cpu)?;
        assert_eq!(t.dims(), [1, 3, 1, 2]);
        let v: Vec<f32> = t.flatten_all()?.to_vec1()?;
        assert_eq!(v, [-104.0, -54.0, -117.0, -17.0, -123.0, 77.0]);
        Ok(())
    }

    #[test]
    fn softmax2_sums_to_one() {
        let [a, b] = softmax2([0.0, (3f32).ln()]);
        assert!((a - 0.25).abs() < 1e-6 && (b - 0.75).abs() < 1e-6);
        assert_eq!(softmax2([1000.0, 0.0]), [1.0, 0.0]);
    }

    #[test]
    fn levels_are_flattened_cell_major_then_anchor() -> Result<()> {
        // One level with 2 cells: channel ch at cell k holds 100·ch + k.
        let data: Vec<f32> = (0..32)
            .flat_map(|ch| (0..2).map(move |k| (100 * ch + k) as f32))
            .collect();
        let mut raw = RawOutputs::default();
        append_level(&mut raw, &data, 2);
        assert_eq!(raw.len(), 4);
        // Cell 1, anchor 1: box channels 8..12, landmark channels 22..32.
        assert_eq!(raw.loc[12..16], [801.0, 901.0, 1001.0, 1101.0]);
        assert_eq!(raw.landmarks[30], 2201.0);
        assert_eq!(raw.landmarks[39], 3101.0);
        // Cell 0, anchor 0: logits 0 and 100.
        assert_eq!(raw.conf[0..2], softmax2([0.0, 100.0]));
        Ok(())
    }
}
