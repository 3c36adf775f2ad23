//! The small JPEG of the aligned chip kept beside each enrolment embedding, so an admin can see
//! which photo an embedding came from without the hub keeping the photo.

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, ImageError};
use rollcall_models::dlib_resnet::CHIP_SIZE;

/// Largest thumbnail stored.
pub const MAX_THUMBNAIL_BYTES: usize = 24 * 1024;

/// JPEG qualities tried, best first, until the file fits.
const QUALITIES: [u8; 4] = [85, 70, 55, 40];

/// Encodes a `CHIP_SIZE`² RGB chip as a JPEG of at most [`MAX_THUMBNAIL_BYTES`].
pub fn jpeg_thumbnail(rgb: &[u8]) -> Result<Vec<u8>, ImageError> {
    let side = CHIP_SIZE as u32;
    let mut out = Vec::new();
    for quality in QUALITIES {
        out.clear();
        JpegEncoder::new_with_quality(&mut out, quality).encode(
            rgb,
            side,
            side,
            ExtendedColorType::Rgb8,
        )?;
        if out.len() <= MAX_THUMBNAIL_BYTES {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noisy_chip_still_fits() {
        let mut state = 12_345_u32;
        let rgb: Vec<u8> = (0..CHIP_SIZE * CHIP_SIZE * 3)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (state >> 16) as u8
            })
            .collect();
        let jpeg = jpeg_thumbnail(&rgb).unwrap();
        assert!(jpeg.len() <= MAX_THUMBNAIL_BYTES, "{} bytes", jpeg.len());
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    }
}
