use image::Rgb;

use super::*;
use crate::weights::shape_predictor::ShapePredictorParams;

/// Two parts, one cascade, one depth-1 tree: left (+1 on part 0's x) when pixel 0 is
/// brighter than pixel 1 by more than 10, else right (−1 on part 1's y).
fn tiny() -> ShapePredictor {
    ShapePredictor::new(ShapePredictorParams {
        parts: 2,
        cascades: 1,
        trees: 1,
        splits_per_tree: 1,
        features: 2,
        initial_shape: vec![0.25, 0.5, 0.75, 0.5],
        splits: vec![[0, 1]],
        thresholds: vec![10.0],
        leaf_values: vec![0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.1],
        anchor_idx: vec![0, 1],
        deltas: vec![0.0, 0.0, 0.0, 0.0],
    })
    .unwrap()
}

const RECT: DlibRect = DlibRect {
    left: 0,
    top: 0,
    right: 100,
    bottom: 100,
};

#[test]
fn trees_read_rounded_pixels_of_the_current_shape() {
    // Pixel 0 sits at (25, 50), pixel 1 at (75, 50).
    let bright_left = RgbImage::from_fn(101, 101, |x, _| Rgb([if x < 50 { 200 } else { 10 }; 3]));
    let shape = tiny().predict(&bright_left, &RECT);
    assert_eq!(shape.rounded(), vec![[35.0, 50.0], [75.0, 50.0]]);
    let dark_left = RgbImage::from_fn(101, 101, |x, _| Rgb([if x < 50 { 10 } else { 200 }; 3]));
    let shape = tiny().predict(&dark_left, &RECT);
    assert_eq!(shape.rounded(), vec![[25.0, 50.0], [75.0, 40.0]]);
}

#[test]
fn pixels_outside_the_image_read_zero_and_intensity_is_the_integer_mean() {
    let img = RgbImage::from_pixel(4, 4, Rgb([10, 20, 31]));
    assert_eq!(intensity(&img, 1.0, 1.0), 20.0);
    assert_eq!(intensity(&img, 4.0, 0.0), 0.0);
    assert_eq!(intensity(&img, 0.0, -1.0), 0.0);
}

#[test]
fn similarity_between_shapes_recovers_scale_and_rotation() {
    let from = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    let to = [5.0, 5.0, 5.0, 7.0, 3.0, 5.0]; // ×2, rotated +90°
    let m = similarity_matrix(&from, &to);
    let want = [0.0, -2.0, 2.0, 0.0];
    assert!(
        m.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
        "{m:?}"
    );
}

#[test]
fn rounding_follows_dlib() {
    let s = Shape {
        points: vec![[1.5, -1.5], [2.49, 0.5]],
    };
    assert_eq!(s.rounded(), vec![[2.0, -1.0], [2.0, 1.0]]);
}
