use super::*;

fn face(bbox: [f32; 4], score: f32) -> Detection {
    Detection {
        bbox,
        score,
        landmarks: [[0.0; 2]; 5],
    }
}

#[test]
fn large_faces_are_looked_at_64_px_across_small_ones_at_full_size() {
    assert_eq!(look_scale(&face([0.0, 0.0, 100.0, 128.0], 0.9)), 0.5);
    assert_eq!(look_scale(&face([0.0, 0.0, 40.0, 64.0], 0.9)), 1.0);
    assert_eq!(look_scale(&face([0.0, 0.0, 20.0, 30.0], 0.3)), 1.0);
}

#[test]
fn the_window_is_three_faces_across_centred_on_the_face() {
    let w = window(&face([600.0, 300.0, 640.0, 350.0], 0.9), 1280, 720);
    // 50 px tall: 150 px across, centred on (620, 325).
    assert_eq!(
        w,
        Window {
            x: 545,
            y: 250,
            width: 150,
            height: 150
        }
    );
}

#[test]
fn small_faces_get_the_smallest_window() {
    let w = window(&face([100.0, 100.0, 110.0, 112.0], 0.3), 1280, 720);
    assert_eq!((w.width, w.height), (MIN_WINDOW_PX, MIN_WINDOW_PX));
    assert_eq!((w.x, w.y), (57, 58));
}

#[test]
fn windows_stay_inside_the_frame() {
    let corner = window(&face([-5.0, -5.0, 25.0, 35.0], 0.9), 1280, 720);
    assert_eq!((corner.x, corner.y), (0, 0));
    let far = window(&face([1260.0, 700.0, 1290.0, 740.0], 0.9), 1280, 720);
    assert_eq!(
        (far.x + far.width, far.y + far.height),
        (1280, 720),
        "moved back inside"
    );
    let tiny = window(&face([10.0, 10.0, 40.0, 40.0], 0.9), 50, 60);
    assert_eq!(
        tiny,
        Window {
            x: 0,
            y: 0,
            width: 50,
            height: 60
        },
        "cut to a frame smaller than the window"
    );
}

#[test]
fn a_face_counts_in_the_window_holding_its_centre() {
    let w = Window {
        x: 100,
        y: 100,
        width: 100,
        height: 100,
    };
    assert!(centre_inside(&face([90.0, 90.0, 130.0, 130.0], 0.9), &w));
    assert!(!centre_inside(&face([60.0, 90.0, 100.0, 130.0], 0.9), &w));
    assert!(!centre_inside(&face([180.0, 180.0, 220.0, 220.0], 0.9), &w));
}
