//! End-to-end tests of `align_face` / `warp_to_chip` on synthetic images.

use image::{Rgb, RgbImage};

use super::*;

/// A smooth colour field: bilinear interpolation reproduces it exactly (up to rounding).
fn gradient(x: f32, y: f32) -> [f32; 3] {
    [0.5 * x + 10.0, 0.6 * y + 5.0, 0.3 * x + 0.2 * y]
}

fn gradient_image(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb(gradient(x as f32, y as f32).map(|v| (v + 0.5) as u8))
    })
}

/// The image → chip similarity with this scale and angle that puts `image_centre` at the
/// centre of a `size`-pixel chip.
fn centred(scale: f32, angle: f32, image_centre: Point, size: u32) -> Similarity {
    let [cx, cy] = Similarity::new(scale, angle, [0.0, 0.0])
        .unwrap()
        .apply(image_centre);
    let mid = (size as f32 - 1.0) / 2.0;
    Similarity::new(scale, angle, [mid - cx, mid - cy]).unwrap()
}

fn max_channel_error(
    chip: &RgbImage,
    chip_to_image: &Similarity,
    f: impl Fn(Point) -> [f32; 3],
) -> f32 {
    let mut worst = 0.0f32;
    for (u, v, px) in chip.enumerate_pixels() {
        let want = f(chip_to_image.apply([u as f32, v as f32]));
        for (got, want) in px.0.iter().zip(want) {
            worst = worst.max((f32::from(*got) - want).abs());
        }
    }
    worst
}

#[test]
fn template_landmarks_on_a_chip_sized_image_give_the_image_back() {
    let image = RgbImage::from_fn(150, 150, |x, y| {
        Rgb([(x * 7 % 256) as u8, (y * 3) as u8, ((x + y) % 256) as u8])
    });
    let chip = align_face(&image, &Template::DLIB_150.points, &AlignOptions::default()).unwrap();
    assert_eq!(chip.dimensions(), (150, 150));
    let differing = chip
        .pixels()
        .zip(image.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 0);
}

#[test]
fn warp_with_a_known_transform_samples_the_right_places() {
    let image = gradient_image(400, 300);
    let image_to_chip = centred(0.8, 0.3, [200.0, 150.0], 150);
    let landmarks = Template::DLIB_150
        .points
        .map(|p| image_to_chip.inverse().apply(p));
    let opts = AlignOptions::default();
    let fitted = chip_transform(&landmarks, &opts).unwrap();
    assert!((fitted.scale() - 0.8).abs() < 1e-4 && (fitted.angle() - 0.3).abs() < 1e-4);
    let chip = align_face(&image, &landmarks, &opts).unwrap();
    let err = max_channel_error(&chip, &image_to_chip.inverse(), |[x, y]| gradient(x, y));
    assert!(err <= 1.01, "max error {err}");
}

#[test]
fn large_faces_are_box_filtered_before_sampling() {
    // 1-pixel checkerboard seen at 1/8 scale: the true average is mid-grey everywhere.
    let image = RgbImage::from_fn(1600, 1600, |x, y| {
        Rgb([if (x + y).is_multiple_of(2) { 0 } else { 255 }; 3])
    });
    let image_to_chip = centred(0.125, 0.1, [800.0, 800.0], 150);
    let spread = |antialias: bool| {
        let opts = AlignOptions {
            antialias,
            ..AlignOptions::default()
        };
        let chip = warp_to_chip(&image, &image_to_chip, &opts).unwrap();
        let values: Vec<f32> = chip.pixels().map(|p| f32::from(p.0[0])).collect();
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32;
        (mean, var.sqrt())
    };
    let (mean, std) = spread(true);
    assert!(
        (mean - 127.5).abs() < 3.0 && std < 4.0,
        "antialiased: mean {mean}, std {std}"
    );
    let (_, aliased_std) = spread(false);
    assert!(
        aliased_std > 40.0,
        "plain bilinear should alias: std {aliased_std}"
    );
}

#[test]
fn box_filtering_keeps_the_geometry() {
    // Slope of one grey level per source pixel: a half-block offset would show as ≥ 2.5 levels.
    let image = RgbImage::from_fn(256, 256, |x, y| Rgb([x as u8, y as u8, 128]));
    let image_to_chip = centred(1.0 / 6.0, 0.2, [128.0, 128.0], 32);
    let opts = AlignOptions {
        template: Template {
            size: 32,
            ..Template::DLIB_150
        },
        ..AlignOptions::default()
    };
    let chip = warp_to_chip(&image, &image_to_chip, &opts).unwrap();
    let chip_to_image = image_to_chip.inverse();
    let mut worst = 0.0f32;
    for (u, v, px) in chip.enumerate_pixels() {
        let [x, y] = chip_to_image.apply([u as f32, v as f32]);
        if (8.0..248.0).contains(&x) && (8.0..248.0).contains(&y) {
            worst = worst.max((f32::from(px.0[0]) - x).abs());
            worst = worst.max((f32::from(px.0[1]) - y).abs());
        }
    }
    assert!(worst <= 1.1, "max error {worst}");
}

#[test]
fn border_rule_fills_outside_pixels() {
    let image = RgbImage::from_pixel(60, 60, Rgb([200, 100, 50]));
    let shifted = Similarity::new(1.0, 0.0, [100.0, 100.0]).unwrap();
    let black = warp_to_chip(&image, &shifted, &AlignOptions::default()).unwrap();
    assert_eq!(black.get_pixel(0, 0).0, [0, 0, 0]);
    assert_eq!(black.get_pixel(149, 149).0, [200, 100, 50]);
    let opts = AlignOptions {
        border: Border::Replicate,
        ..AlignOptions::default()
    };
    let replicated = warp_to_chip(&image, &shifted, &opts).unwrap();
    assert!(replicated.pixels().all(|p| p.0 == [200, 100, 50]));
}

#[test]
fn bad_inputs_are_errors() {
    let image = gradient_image(64, 64);
    let opts = AlignOptions::default();
    let same = [[30.0, 30.0]; 5];
    assert_eq!(
        align_face(&image, &same, &opts),
        Err(AlignError::DegenerateLandmarks)
    );
    let empty = RgbImage::new(0, 0);
    assert_eq!(
        align_face(&empty, &Template::DLIB_150.points, &opts),
        Err(AlignError::EmptyImage)
    );
    let bad = AlignOptions { zoom: 0.0, ..opts };
    assert!(matches!(
        align_face(&image, &Template::DLIB_150.points, &bad),
        Err(AlignError::InvalidOptions(_))
    ));
}

#[test]
fn dlib_padding_zooms_about_the_centre() {
    let same = AlignOptions::with_dlib_padding(0.25).target_points();
    let flat = |p: Landmarks| p.into_iter().flatten().collect::<Vec<f32>>();
    let diffs = flat(same).into_iter().zip(flat(Template::DLIB_150.points));
    assert!(diffs.into_iter().all(|(a, b)| (a - b).abs() < 1e-4));
    let tight = AlignOptions::with_dlib_padding(0.0).target_points();
    let eye_gap = tight[1][0] - tight[0][0];
    assert!((eye_gap - 1.5 * (100.48 - 47.55)).abs() < 1e-3, "{eye_gap}");
}
