use super::*;

/// A 250×250 "photo": blue everywhere (a colour the corridor never has), a face box in the
/// middle with eyes 50 px apart.
fn photo() -> (RgbImage, Subject) {
    let img = RgbImage::from_fn(250, 250, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 255])
    });
    let subject = Subject {
        bbox: [75.0, 75.0, 175.0, 175.0],
        eye_px: 50.0,
    };
    (img, subject)
}

fn mean(img: &RgbImage) -> f64 {
    let sum: u64 = img.pixels().map(|p| u64::from(p.0[0])).sum();
    sum as f64 / (img.width() * img.height()) as f64
}

/// Columns and rows of `f` holding the pasted photo (blue 255).
fn pasted_extent(f: &RgbImage) -> (usize, usize) {
    let blue = |x, y| f.get_pixel(x, y).0[2] == 255;
    let cols = (0..f.width())
        .filter(|&x| (0..f.height()).any(|y| blue(x, y)))
        .count();
    let rows = (0..f.height())
        .filter(|&y| (0..f.width()).any(|x| blue(x, y)))
        .count();
    (cols, rows)
}

#[test]
fn the_corridor_holds_the_face_at_the_asked_eye_distance() {
    let (p, s) = photo();
    // Eyes 20 px apart instead of 50: scale 0.4. The head-and-shoulders crop is 6 × 7 eye
    // distances (300 × 350), clipped to the photo: x 0..250, y 0..250.
    let f = corridor(&p, &s, 20.0, 1, Camera::HD);
    assert_eq!(f.image.dimensions(), FRAME);
    assert_eq!(pasted_extent(&f.image), (100, 100));
    let b = f.face_box;
    assert!(
        ((b[2] - b[0]) - 40.0).abs() < 1e-3,
        "box scaled by 0.4: {b:?}"
    );
    let centre_y = (b[1] + b[3]) / 2.0;
    assert!((centre_y - 0.4 * FRAME.1 as f32).abs() < 1.0, "{b:?}");
    let inside = f
        .image
        .get_pixel(((b[0] + b[2]) / 2.0) as u32, centre_y as u32);
    assert_eq!(inside.0[2], 255, "the box lies on the pasted photo");
    // Larger than photographed: scaled up.
    let big = corridor(&p, &s, 75.0, 1, Camera::HD);
    assert_eq!(pasted_extent(&big.image), (375, 375));
}

#[test]
fn a_larger_camera_sees_the_same_scene_with_more_pixels() {
    let (p, s) = photo();
    let d = Degradation {
        eye_px: 20.0,
        blur_px: 4,
        ..Degradation::CLEAN
    };
    let camera: Camera = "1920x1080".parse().unwrap();
    assert_eq!(camera.scale(), 1.5);
    assert_eq!(
        camera.sees(&d),
        Degradation {
            eye_px: 30.0,
            blur_px: 6,
            ..d
        }
    );
    let hd = frame(&p, &s, &Degradation { blur_px: 0, ..d }, 7, 0, Camera::HD);
    let fhd = frame(&p, &s, &Degradation { blur_px: 0, ..d }, 7, 0, camera);
    assert_eq!(fhd.image.dimensions(), (1920, 1080));
    for (a, b) in hd.face_box.iter().zip(fhd.face_box) {
        assert!(
            (a * 1.5 - b).abs() < 1.0,
            "{:?} {:?}",
            hd.face_box,
            fhd.face_box
        );
    }
    for bad in ["1920", "axb", "100x100", "1920x1080x3"] {
        assert!(bad.parse::<Camera>().is_err(), "{bad}");
    }
}

#[test]
fn head_and_shoulders_is_clipped_and_never_empty() {
    let (p, s) = photo();
    let small = Subject { eye_px: 10.0, ..s };
    assert_eq!(head_and_shoulders(&p, &small), [95, 95, 155, 165]);
    assert_eq!(head_and_shoulders(&p, &s), [0, 0, 250, 250]);
    let outside = Subject {
        bbox: [400.0, 400.0, 500.0, 500.0],
        eye_px: 0.0,
    };
    let c = head_and_shoulders(&p, &outside);
    assert!(
        c[2] > c[0] && c[3] > c[1] && c[2] <= 250 && c[3] <= 250,
        "{c:?}"
    );
}

#[test]
fn blur_keeps_the_mean_and_smooths_edges() {
    let stripes = RgbImage::from_fn(64, 4, |x, _| Rgb([if x % 2 == 0 { 0 } else { 200 }; 3]));
    let blurred = motion_blur(&stripes, 9);
    assert!((mean(&blurred) - mean(&stripes)).abs() < 2.0);
    assert!(
        (85..=115).contains(&blurred.get_pixel(30, 1).0[0]),
        "stripes averaged out"
    );
    // Only along rows: a vertical edge is smeared, a horizontal one is not.
    let step = RgbImage::from_fn(20, 20, |x, y| {
        Rgb([if x < 10 && y < 10 { 0 } else { 240 }; 3])
    });
    let b = motion_blur(&step, 5);
    assert_eq!(b.get_pixel(9, 5).0[0], 96, "2 of 5 pixels bright");
    assert_eq!((b.get_pixel(5, 9).0[0], b.get_pixel(5, 10).0[0]), (0, 240));
}

#[test]
fn exposure_clips_and_noise_is_the_same_for_the_same_seed() {
    let (p, _) = photo();
    let mut dark = p.clone();
    expose(&mut dark, 0.5);
    assert_eq!(dark.get_pixel(200, 0).0[0], 100);
    let mut bright = p.clone();
    expose(&mut bright, 2.0);
    assert_eq!(bright.get_pixel(200, 0).0[0], 255, "clipped");
    let (mut a, mut b, mut c) = (p.clone(), p.clone(), p.clone());
    add_noise(&mut a, 8.0, 7);
    add_noise(&mut b, 8.0, 7);
    add_noise(&mut c, 8.0, 8);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!((mean(&a) - mean(&p)).abs() < 1.0, "zero-mean noise");
}

#[test]
fn recompression_changes_pixels_not_size_and_lower_quality_changes_more() {
    let (p, _) = photo();
    let diff = |q: &RgbImage| -> u64 {
        p.pixels()
            .zip(q.pixels())
            .map(|(a, b)| u64::from(a.0[0].abs_diff(b.0[0])))
            .sum()
    };
    let (q75, q30) = (recompress(&p, 75), recompress(&p, 30));
    assert_eq!(q75.dimensions(), p.dimensions());
    assert_ne!(q75, p);
    assert!(diff(&q30) > diff(&q75), "{} vs {}", diff(&q30), diff(&q75));
}

#[test]
fn draws_stay_in_range_grow_per_frame_and_repeat() {
    let c = Conditions::doorway();
    for walk in 0..50 {
        let first = c.draw(walk, 0);
        assert!((16.0..=48.0).contains(&first.eye_px), "{first:?}");
        for frame in 0..3 {
            let d = c.draw(walk, frame);
            assert!(d.blur_px <= 12 && (2.0..=10.0).contains(&d.noise), "{d:?}");
            assert!((55..=75).contains(&d.jpeg_quality) && (0.45..=1.5).contains(&d.gain));
            let grown = first.eye_px * GROWTH.powi(frame as i32);
            assert!((d.eye_px - grown).abs() < 1e-3, "the same person, closer");
            assert_eq!(d, c.draw(walk, frame), "deterministic");
        }
    }
    let jpeg: Vec<u8> = (0..400).map(|w| c.draw(w, 0).jpeg_quality).collect();
    assert!(jpeg.contains(&55) && jpeg.contains(&75), "both ends drawn");
    assert_eq!(
        Conditions::fixed(Degradation::CLEAN).draw(3, 0),
        Degradation::CLEAN
    );
}

#[test]
fn a_frame_is_deterministic_and_seeds_differ_by_photo_and_condition() {
    let (p, s) = photo();
    let d = Conditions::doorway().draw(5, 1);
    let a = frame(&p, &s, &d, 5, 1, Camera::HD);
    assert_eq!(a.image, frame(&p, &s, &d, 5, 1, Camera::HD).image);
    assert_ne!(
        a.image,
        frame(&p, &s, &d, 5, 2, Camera::HD).image,
        "noise is per frame"
    );
    assert_eq!(
        a.face_box,
        frame(&p, &s, &d, 5, 2, Camera::HD).face_box,
        "place is per walk-in"
    );
    let w = walk_seed(1, "a/b.jpg", "doorway");
    assert_eq!(w, walk_seed(1, "a/b.jpg", "doorway"));
    assert_ne!(w, walk_seed(1, "a/b.jpg", "clean"));
    assert_ne!(w, walk_seed(1, "a/c.jpg", "doorway"));
    assert_ne!(w, walk_seed(2, "a/b.jpg", "doorway"));
}

#[test]
fn every_named_condition_is_distinct_and_doorway_is_last() {
    let all = conditions();
    let names: std::collections::BTreeSet<_> = all.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), all.len());
    assert_eq!(all[0], ("clean", Conditions::fixed(Degradation::CLEAN)));
    assert_eq!(all.last().map(|c| c.0), Some("doorway"));
}
