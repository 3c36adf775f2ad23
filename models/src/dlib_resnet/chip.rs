//! The embedder's input: a 150×150 RGB face chip, and its conversion to a normalised tensor.

use std::fmt;

use super::error::EmbedError;

/// Side of a chip in pixels.
pub const CHIP_SIZE: usize = 150;
/// Bytes in a chip: `150 × 150 × 3`, RGB, row-major, no padding.
pub const CHIP_BYTES: usize = CHIP_SIZE * CHIP_SIZE * 3;
/// dlib's per-channel mean (R, G, B), subtracted before dividing by [`PIXEL_SCALE`].
pub const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];
/// dlib divides the centred pixel values by 256.
pub const PIXEL_SCALE: f32 = 256.0;

/// An aligned face chip: 150×150 pixels, RGB (not BGR), `u8`, row-major, 3 bytes a pixel.
#[derive(Clone, PartialEq, Eq)]
pub struct Chip {
    rgb: Box<[u8]>,
}

impl Chip {
    /// Wrap `CHIP_BYTES` bytes of row-major RGB.
    pub fn from_rgb(rgb: Vec<u8>) -> Result<Self, EmbedError> {
        if rgb.len() != CHIP_BYTES {
            return Err(EmbedError::BadChip { len: rgb.len() });
        }
        Ok(Self {
            rgb: rgb.into_boxed_slice(),
        })
    }

    /// The row-major RGB bytes.
    pub fn as_rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// The chip flipped left ↔ right.
    pub fn mirrored(&self) -> Self {
        let row = CHIP_SIZE * 3;
        let mut out = Vec::with_capacity(CHIP_BYTES);
        for line in self.rgb.chunks_exact(row) {
            line.chunks_exact(3)
                .rev()
                .for_each(|px| out.extend_from_slice(px));
        }
        Self {
            rgb: out.into_boxed_slice(),
        }
    }
}

impl TryFrom<&image::RgbImage> for Chip {
    type Error = EmbedError;

    /// Accepts only a 150×150 image; warp or resize before.
    fn try_from(img: &image::RgbImage) -> Result<Self, EmbedError> {
        let (w, h) = img.dimensions();
        if (w as usize, h as usize) != (CHIP_SIZE, CHIP_SIZE) {
            return Err(EmbedError::BadChip {
                len: w as usize * h as usize * 3,
            });
        }
        Self::from_rgb(img.as_raw().clone())
    }
}

impl fmt::Debug for Chip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Chip({CHIP_SIZE}×{CHIP_SIZE} RGB)")
    }
}

/// Normalise chips into one NCHW f32 buffer: `(pixel − MEAN_RGB[c]) / 256`.
pub fn to_nchw(chips: &[Chip]) -> Vec<f32> {
    let plane = CHIP_SIZE * CHIP_SIZE;
    let mut out = vec![0f32; chips.len() * 3 * plane];
    for (chip, dst) in chips.iter().zip(out.chunks_exact_mut(3 * plane)) {
        for (i, px) in chip.rgb.chunks_exact(3).enumerate() {
            for c in 0..3 {
                dst[c * plane + i] = (f32::from(px[c]) - MEAN_RGB[c]) / PIXEL_SCALE;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chip_with(f: impl Fn(usize, usize, usize) -> u8) -> Chip {
        let mut rgb = Vec::with_capacity(CHIP_BYTES);
        for y in 0..CHIP_SIZE {
            for x in 0..CHIP_SIZE {
                (0..3).for_each(|c| rgb.push(f(y, x, c)));
            }
        }
        Chip::from_rgb(rgb).unwrap()
    }

    #[test]
    fn rejects_wrong_sizes() {
        assert!(matches!(
            Chip::from_rgb(vec![0; 10]),
            Err(EmbedError::BadChip { len: 10 })
        ));
        let img = image::RgbImage::new(112, 112);
        assert!(Chip::try_from(&img).is_err());
        assert!(Chip::try_from(&image::RgbImage::new(150, 150)).is_ok());
    }

    #[test]
    fn the_size_error_names_the_chip_size() {
        let message = EmbedError::BadChip { len: 10 }.to_string();
        assert!(message.contains(&format!("{CHIP_SIZE}×{CHIP_SIZE} RGB, {CHIP_BYTES} bytes")));
    }

    #[test]
    fn normalises_per_channel_into_planes() {
        let chip = chip_with(|y, x, c| {
            if (y, x) == (0, 1) {
                [255, 0, 128][c]
            } else {
                0
            }
        });
        let t = to_nchw(&[chip.clone(), chip]);
        let plane = CHIP_SIZE * CHIP_SIZE;
        assert_eq!(t.len(), 2 * 3 * plane);
        assert_eq!(t[1], (255.0 - 122.782) / 256.0);
        assert_eq!(t[plane + 1], -117.001 / 256.0);
        assert_eq!(t[2 * plane + 1], (128.0 - 104.298) / 256.0);
        assert_eq!(t[3 * plane + 1], t[1]);
    }

    #[test]
    fn mirror_flips_columns_and_keeps_channel_order() {
        let chip = chip_with(|y, x, c| (y + 2 * x + c) as u8);
        let m = chip.mirrored();
        let at =
            |ch: &Chip, y: usize, x: usize| ch.as_rgb()[(y * CHIP_SIZE + x) * 3..][..3].to_vec();
        assert_eq!(at(&m, 5, 0), at(&chip, 5, CHIP_SIZE - 1));
        assert_eq!(m.mirrored(), chip);
    }
}
