//! The image input path on hostile bytes: `rollcall_models::image_io::decode_image`, which turns
//! an uploaded enrolment photo (the hub's `Enroller::assess`) or a replayed frame into the RGB
//! image the face pipeline reads, with the limits both use (`ImageLimits::default()`).
//!
//! For any bytes: an RGB image within the pixel limit, or an `ImageError` that says why; never a
//! panic. Allocation stays within the limits: no single allocation over `max_alloc`, and at most
//! two such buffers live at once (the decoded image and its rotated or RGB copy).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rollcall_fuzz::{Counting, measure};
use rollcall_models::image_io::{ImageLimits, decode_image};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Decoders' own tables, rows and scratch beside the image buffers.
const SCRATCH: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let limits = ImageLimits::default();
    let (result, usage) = measure(|| decode_image(data, limits));
    assert!(
        usage.largest as u64 <= limits.max_alloc,
        "one allocation of {} bytes for a {}-byte input",
        usage.largest,
        data.len()
    );
    assert!(
        usage.peak as u64 <= 2 * limits.max_alloc + SCRATCH,
        "{} bytes live at once for a {}-byte input",
        usage.peak,
        data.len()
    );
    match result {
        Ok(image) => {
            let (width, height) = image.dimensions();
            assert!(
                width.max(height) <= limits.max_side,
                "{width}×{height} passed"
            );
            assert!(
                width > 0 && height > 0,
                "an empty {width}×{height} image passed"
            );
            let pixels = u64::from(width) * u64::from(height);
            assert!(pixels <= limits.max_pixels, "{width}×{height} over the pixel budget");
            assert_eq!(image.as_raw().len() as u64, 3 * pixels);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
