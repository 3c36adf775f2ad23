//! Reading photos safely: size limits before and during decoding, EXIF orientation applied,
//! everything converted to 8-bit RGB. Used for enrolment uploads, replayed frames and the
//! command-line tools, so a hostile or broken file gives a clear error, never a panic or an
//! unbounded allocation.

mod jpeg;
mod png;

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

/// Bounds on what a photo may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest encoded file, bytes.
    pub max_bytes: u64,
    /// Largest width or height, pixels.
    pub max_side: u32,
    /// Largest width × height, pixels: checked from the header before anything is decoded.
    pub max_pixels: u64,
    /// Largest decoded allocation, bytes.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            max_side: 12_000,
            max_pixels: 40_000_000,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// Why a photo could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("file is {bytes} bytes, the limit is {max}")]
    TooLarge { bytes: u64, max: u64 },
    #[error("not an image in a supported format (JPEG, PNG, TIFF, BMP or WebP)")]
    NotAnImage,
    #[error("image is {width}×{height}, the limit is {max} pixels a side")]
    TooManyPixels { width: u32, height: u32, max: u32 },
    #[error(
        "image is {width}×{height} ({} megapixels), the limit is {} megapixels; \
         scale it down first",
        megapixels(u64::from(*width) * u64::from(*height)),
        megapixels(*max)
    )]
    OverPixelBudget { width: u32, height: u32, max: u64 },
    #[error("image data is corrupt or unsupported: {0}")]
    Decode(String),
}

/// Reads and decodes the photo at `path`.
pub fn load_image(path: &Path, limits: ImageLimits) -> Result<RgbImage, ImageError> {
    let io = |source| ImageError::Io {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    if bytes > limits.max_bytes {
        return Err(ImageError::TooLarge {
            bytes,
            max: limits.max_bytes,
        });
    }
    decode_image(&std::fs::read(path).map_err(io)?, limits)
}

/// Decodes an encoded photo held in memory.
pub fn decode_image(bytes: &[u8], limits: ImageLimits) -> Result<RgbImage, ImageError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImageError::TooLarge {
            bytes: bytes.len() as u64,
            max: limits.max_bytes,
        });
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ImageError::NotAnImage)?;
    match reader.format() {
        None => return Err(ImageError::NotAnImage),
        Some(ImageFormat::Jpeg) => {
            if let Some(why) = jpeg::unsupported_sampling(bytes) {
                return Err(ImageError::Decode(why));
            }
        }
        Some(ImageFormat::Png) => {
            if let Some(why) = png::unsupported_palette(bytes) {
                return Err(ImageError::Decode(why));
            }
        }
        Some(_) => {}
    }
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    limits.check(width, height)?;
    decoder
        .set_limits(limits.decoder_limits())
        .map_err(decode_error)?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image.into_rgb8())
}

impl ImageLimits {
    /// Refuses a `width`×`height` image over the side or pixel limit.
    pub fn check(&self, width: u32, height: u32) -> Result<(), ImageError> {
        if width.max(height) > self.max_side {
            return Err(ImageError::TooManyPixels {
                width,
                height,
                max: self.max_side,
            });
        }
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(ImageError::OverPixelBudget {
                width,
                height,
                max: self.max_pixels,
            });
        }
        Ok(())
    }

    /// The decoder's own limits, a second guard behind [`ImageLimits::check`].
    fn decoder_limits(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_side);
        limits.max_image_height = Some(self.max_side);
        limits.max_alloc = Some(self.max_alloc);
        limits
    }
}

/// `pixels` in megapixels, one decimal.
fn megapixels(pixels: u64) -> String {
    format!("{:.1}", pixels as f64 / 1e6)
}

fn decode_error(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Unsupported(_) => ImageError::NotAnImage,
        other => ImageError::Decode(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        RgbImage::new(width, height)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn decodes_a_png_to_rgb() {
        let img = decode_image(&png(7, 5), ImageLimits::default()).unwrap();
        assert_eq!(img.dimensions(), (7, 5));
    }

    #[test]
    fn decodes_a_sixteen_bit_tiff_to_rgb() {
        let deep = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(
            6,
            4,
            image::Rgb([65535, 0, 32896]),
        );
        let mut tiff = Cursor::new(Vec::new());
        DynamicImage::ImageRgb16(deep)
            .write_to(&mut tiff, ImageFormat::Tiff)
            .unwrap();
        let img = decode_image(tiff.get_ref(), ImageLimits::default()).unwrap();
        assert_eq!(img.dimensions(), (6, 4));
        assert_eq!(img.get_pixel(5, 3).0, [255, 0, 128]);
    }

    #[test]
    fn text_is_not_an_image() {
        assert!(matches!(
            decode_image(b"hello, world", ImageLimits::default()),
            Err(ImageError::NotAnImage)
        ));
    }

    #[test]
    fn a_palette_of_partial_entries_is_refused_not_a_panic() {
        let bytes = include_bytes!("../tests/fixtures/png-palette-partial-entry.png");
        let err = decode_image(bytes, ImageLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::Decode(_)), "{err}");
    }

    #[test]
    fn truncated_images_are_corrupt_not_a_panic() {
        let bytes = png(64, 64);
        assert!(decode_image(&bytes[..bytes.len() / 2], ImageLimits::default()).is_err());
    }

    #[test]
    fn limits_are_enforced_before_decoding() {
        let limits = ImageLimits {
            max_side: 32,
            ..ImageLimits::default()
        };
        assert!(matches!(
            decode_image(&png(64, 8), limits),
            Err(ImageError::TooManyPixels { .. })
        ));
        let limits = ImageLimits {
            max_bytes: 10,
            ..ImageLimits::default()
        };
        assert!(matches!(
            decode_image(&png(8, 8), limits),
            Err(ImageError::TooLarge { .. })
        ));
    }

    /// A `width`×`height` PNG whose pixel data is never valid: if anything decoded it, the
    /// error would be a decode error, not the budget's.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = png(1, 1);
        // IHDR: 8-byte signature, 4-byte length, "IHDR", then width and height.
        bytes[16..20].copy_from_slice(&width.to_be_bytes());
        bytes[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn the_pixel_budget_refuses_from_the_header_before_decoding() {
        let error = decode_image(&png_header(12_000, 12_000), ImageLimits::default()).unwrap_err();
        assert!(
            matches!(
                error,
                ImageError::OverPixelBudget {
                    width: 12_000,
                    height: 12_000,
                    max: 40_000_000
                }
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("144.0 megapixels") && message.contains("40.0"),
            "{message}"
        );
        // The same forged header within the budget reaches the decoder, which finds no pixels.
        let error = decode_image(&png_header(300, 300), ImageLimits::default()).unwrap_err();
        assert!(matches!(error, ImageError::Decode(_)), "{error:?}");
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let err = load_image(Path::new("/no/such/photo.jpg"), ImageLimits::default()).unwrap_err();
        assert!(err.to_string().contains("/no/such/photo.jpg"));
    }
}
