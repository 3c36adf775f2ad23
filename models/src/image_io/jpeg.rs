//! A check on JPEG frame headers before the decoder sees them.
//!
//! zune-jpeg 0.5.15 (image's JPEG decoder) panics in its AVX2 IDCT when a colour component is
//! sampled more finely than the first (luma) component, e.g. Y 1×1 with Cb 2×2: a
//! 397-byte upload found by `fuzz/`'s `image_input` target. The hub and the door unit abort on a
//! panic, so such a file would take the process down. No camera or photo editor writes chroma
//! finer than luma, so those files are refused before decoding.
//!
//! The same decoder multiplies a malformed file's DC prediction by its quantiser without a
//! check (`bitstream.rs`, upstream issue etemesi254/zune-image#382): a release build wraps and
//! decodes a garbled picture, a build with overflow checks panics. No header check can rule it
//! out (the prediction grows block by block), so every build of ours compiles zune-jpeg as the
//! release build does (`overflow-checks = false` for it in the workspace's and `fuzz/`'s
//! profiles).

/// Why the JPEG is refused, if a frame header samples a component more finely than the first.
pub fn unsupported_sampling(bytes: &[u8]) -> Option<String> {
    frame_headers(bytes).find_map(|components| {
        let (first, rest) = components.split_first()?;
        let finer = rest.iter().any(|c| c.h > first.h || c.v > first.v);
        finer.then(|| {
            let layout: Vec<String> = components
                .iter()
                .map(|c| format!("{}×{}", c.h, c.v))
                .collect();
            format!(
                "JPEG samples a colour component more finely than brightness ({}): not supported",
                layout.join(", ")
            )
        })
    })
}

/// Sampling factors of one component of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sampling {
    h: u8,
    v: u8,
}

/// The components of every frame header (SOF0–SOF15) the decoder could read. It skips junk
/// between segments and resynchronises on any 0xFF, so walking the segments by their lengths
/// could step over a header it reads: every offset is tried instead, and a candidate counts
/// only in the shape the decoder accepts (precision 8, length 8 + 3 × components).
fn frame_headers(bytes: &[u8]) -> impl Iterator<Item = Vec<Sampling>> + '_ {
    (0..bytes.len()).filter_map(|at| frame_header(bytes.get(at..)?))
}

/// The components of the frame header at the start of `bytes`, if one is there: marker, length,
/// precision, height, width, count, then id, factors and table of each component.
fn frame_header(bytes: &[u8]) -> Option<Vec<Sampling>> {
    let (&[0xFF, marker, len_hi, len_lo, 8, _, _, _, _, count], rest) =
        bytes.split_first_chunk()?
    else {
        return None;
    };
    let sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
    let expected = 8 + 3 * u16::from(count);
    if !sof || count == 0 || u16::from_be_bytes([len_hi, len_lo]) != expected {
        return None;
    }
    let components = rest.get(..3 * usize::from(count))?.chunks_exact(3);
    Some(
        components
            .map(|c| Sampling {
                h: c[1] >> 4,
                v: c[1] & 0x0F,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_io::{ImageError, ImageLimits, decode_image};
    use image::{ImageEncoder, RgbImage, codecs::jpeg::JpegEncoder};

    /// An 80×16 JPEG (4:2:0) with its components' sampling factors replaced by `factors`.
    fn jpeg_with_sampling(factors: [u8; 3]) -> Vec<u8> {
        let image = RgbImage::from_fn(80, 16, |x, y| image::Rgb([x as u8 * 3, y as u8 * 16, 128]));
        let mut out = Vec::new();
        JpegEncoder::new(&mut out)
            .write_image(image.as_raw(), 80, 16, image::ExtendedColorType::Rgb8)
            .unwrap();
        let sof = out.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        for (i, f) in factors.into_iter().enumerate() {
            out[sof + 11 + 3 * i] = f;
        }
        out
    }

    #[test]
    fn ordinary_layouts_pass() {
        for factors in [[0x22, 0x11, 0x11], [0x21, 0x11, 0x11], [0x11, 0x11, 0x11]] {
            assert_eq!(unsupported_sampling(&jpeg_with_sampling(factors)), None);
        }
    }

    #[test]
    fn chroma_finer_than_luma_is_named() {
        let why = unsupported_sampling(&jpeg_with_sampling([0x11, 0x22, 0x11])).unwrap();
        assert!(why.contains("1×1, 2×2, 1×1"), "{why}");
    }

    #[test]
    fn chroma_finer_than_luma_is_an_error_not_a_panic() {
        // What the fuzzer found (Y 1×1, Cb 2×2, 74 pixels wide), made from a synthetic seed:
        // zune-jpeg 0.5.15 panicked in its AVX2 IDCT before this check.
        let bytes = include_bytes!("../../tests/fixtures/zune-jpeg-avx2-panic.jpg");
        assert!(unsupported_sampling(bytes).is_some());
        let result = decode_image(bytes, ImageLimits::default());
        assert!(matches!(result, Err(ImageError::Decode(_))), "{result:?}");
    }

    #[test]
    fn a_dc_prediction_that_overflows_is_not_a_panic() {
        // Found by `fuzz/`'s `image_input` in an eight-minute run: 165 bytes whose DC
        // prediction times the quantiser overflows an i32 in zune-jpeg 0.5.15.
        let bytes = include_bytes!("../../tests/fixtures/zune-jpeg-dc-overflow.jpg");
        assert_eq!(unsupported_sampling(bytes), None);
        let result = std::panic::catch_unwind(|| decode_image(bytes, ImageLimits::default()));
        assert!(
            result.is_ok(),
            "decoding panicked: is zune-jpeg built with overflow checks?"
        );
    }

    #[test]
    fn truncated_headers_are_left_to_the_decoder() {
        let bytes = jpeg_with_sampling([0x11, 0x22, 0x11]);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        assert_eq!(unsupported_sampling(&bytes[..sof + 4]), None);
        assert_eq!(unsupported_sampling(&[0xFF, 0xD8]), None);
    }
}
