//! RetinaFace post-processing as pure functions: anchors, box and landmark decoding, NMS.
//!
//! Owns the prior-box geometry of RetinaFace-mnet0.25 (steps 8/16/32, anchor sizes
//! (16, 32), (64, 128), (256, 512), variances 0.1 / 0.2) and turns the network's raw,
//! per-anchor outputs into [`Detection`]s. No tensors and no I/O: everything here works on
//! plain slices so it can be unit-tested with hand-computed numbers.
//!
//! All coordinates are in pixels of the network input; the caller maps them back to the
//! original image (see [`Detection::scaled`]).

/// Feature-map strides of the three pyramid levels.
pub const STEPS: [usize; 3] = [8, 16, 32];
/// Square anchor sizes (pixels) per level, in the order the network emits them.
pub const ANCHOR_SIZES: [[f32; 2]; 3] = [[16.0, 32.0], [64.0, 128.0], [256.0, 512.0]];
/// Variance of the centre offsets.
pub const CENTRE_VARIANCE: f32 = 0.1;
/// Variance of the log size offsets.
pub const SIZE_VARIANCE: f32 = 0.2;

/// One prior box: centre and side length, in input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    pub cx: f32,
    pub cy: f32,
    pub size: f32,
}

/// One face: box `[x1, y1, x2, y2]`, face probability, and five landmarks
/// (image-left eye, image-right eye, nose tip, image-left and image-right mouth corner).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub bbox: [f32; 4],
    pub score: f32,
    pub landmarks: [[f32; 2]; 5],
}

impl Detection {
    /// Box width in pixels.
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }

    /// Box height in pixels.
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }

    /// The same detection moved by `dx` across and `dy` down.
    pub fn shifted(&self, dx: f32, dy: f32) -> Detection {
        let b = self.bbox;
        Detection {
            bbox: [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy],
            score: self.score,
            landmarks: self.landmarks.map(|[x, y]| [x + dx, y + dy]),
        }
    }

    /// The same detection with every x multiplied by `sx` and every y by `sy`.
    pub fn scaled(&self, sx: f32, sy: f32) -> Detection {
        let b = self.bbox;
        Detection {
            bbox: [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy],
            score: self.score,
            landmarks: self.landmarks.map(|[x, y]| [x * sx, y * sy]),
        }
    }
}

/// Raw per-anchor network outputs in the ONNX model's layout: `loc` is `n × 4`, `conf` is
/// `n × 2` (background, face; already softmaxed), `landmarks` is `n × 10`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawOutputs {
    pub loc: Vec<f32>,
    pub conf: Vec<f32>,
    pub landmarks: Vec<f32>,
}

impl RawOutputs {
    /// Number of anchors these outputs cover.
    pub fn len(&self) -> usize {
        self.conf.len() / 2
    }

    /// True when there are no anchors.
    pub fn is_empty(&self) -> bool {
        self.conf.is_empty()
    }
}

/// Feature-map sizes `(rows, cols)` of the three levels for an input of `height × width`:
/// each stride-2 convolution (kernel 3, padding 1) maps n to ⌈n/2⌉, so level stride s has ⌈n/s⌉.
pub fn feature_sizes(height: usize, width: usize) -> [(usize, usize); 3] {
    STEPS.map(|s| (height.div_ceil(s), width.div_ceil(s)))
}

/// All anchors for an input of `height × width`, ordered level, row, column, anchor size:
/// the order of the network's flattened outputs.
pub fn anchors(height: usize, width: usize) -> Vec<Anchor> {
    let mut out = Vec::new();
    for ((rows, cols), (step, sizes)) in feature_sizes(height, width)
        .into_iter()
        .zip(STEPS.into_iter().zip(ANCHOR_SIZES))
    {
        for row in 0..rows {
            for col in 0..cols {
                let cx = (col as f32 + 0.5) * step as f32;
                let cy = (row as f32 + 0.5) * step as f32;
                out.extend(sizes.map(|size| Anchor { cx, cy, size }));
            }
        }
    }
    out
}

/// Decodes box offsets `[dx, dy, dw, dh]` against `anchor` into `[x1, y1, x2, y2]`.
pub fn decode_box(anchor: &Anchor, delta: &[f32; 4]) -> [f32; 4] {
    let cx = anchor.cx + delta[0] * CENTRE_VARIANCE * anchor.size;
    let cy = anchor.cy + delta[1] * CENTRE_VARIANCE * anchor.size;
    let w = anchor.size * (delta[2] * SIZE_VARIANCE).exp();
    let h = anchor.size * (delta[3] * SIZE_VARIANCE).exp();
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

/// Decodes five landmark offsets `[dx0, dy0, …, dx4, dy4]` against `anchor`.
pub fn decode_landmarks(anchor: &Anchor, delta: &[f32; 10]) -> [[f32; 2]; 5] {
    std::array::from_fn(|i| {
        [
            anchor.cx + delta[2 * i] * CENTRE_VARIANCE * anchor.size,
            anchor.cy + delta[2 * i + 1] * CENTRE_VARIANCE * anchor.size,
        ]
    })
}

/// Every anchor whose face score exceeds `score_threshold`, decoded, in anchor order.
/// Anchors beyond the shorter of `anchors` and `raw` are ignored.
pub fn decode(anchors: &[Anchor], raw: &RawOutputs, score_threshold: f32) -> Vec<Detection> {
    let loc = raw.loc.chunks_exact(4);
    let conf = raw.conf.chunks_exact(2);
    let landmarks = raw.landmarks.chunks_exact(10);
    anchors
        .iter()
        .zip(loc.zip(conf).zip(landmarks))
        .filter(|(_, ((_, c), _))| c[1] > score_threshold)
        .filter_map(|(anchor, ((l, c), m))| {
            Some(Detection {
                bbox: decode_box(anchor, l.try_into().ok()?),
                score: c[1],
                landmarks: decode_landmarks(anchor, m.try_into().ok()?),
            })
        })
        .collect()
}

/// Intersection over union of two `[x1, y1, x2, y2]` boxes; 0 when both are empty.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Greedy non-maximum suppression: keeps the best-scoring detection, drops every other whose
/// IoU with a kept one exceeds `iou_threshold`, and returns the kept ones by descending score.
pub fn nms(mut detections: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::with_capacity(detections.len().min(64));
    for det in detections {
        if kept
            .iter()
            .all(|k| iou(&k.bbox, &det.bbox) <= iou_threshold)
        {
            kept.push(det);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approx(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-4
    }

    fn det(bbox: [f32; 4], score: f32) -> Detection {
        Detection {
            bbox,
            score,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn feature_sizes_round_up() {
        assert_eq!(feature_sizes(480, 640), [(60, 80), (30, 40), (15, 20)]);
        assert_eq!(feature_sizes(100, 33), [(13, 5), (7, 3), (4, 2)]);
    }

    #[test]
    fn anchors_are_ordered_level_row_col_size() {
        let a = anchors(32, 64);
        // level 0: 4×8 cells, level 1: 2×4, level 2: 1×2; two sizes each.
        assert_eq!(a.len(), 2 * (32 + 8 + 2));
        assert_eq!(
            a[0],
            Anchor {
                cx: 4.0,
                cy: 4.0,
                size: 16.0
            }
        );
        assert_eq!(
            a[1],
            Anchor {
                cx: 4.0,
                cy: 4.0,
                size: 32.0
            }
        );
        assert_eq!(
            a[2],
            Anchor {
                cx: 12.0,
                cy: 4.0,
                size: 16.0
            }
        );
        assert_eq!(
            a[16],
            Anchor {
                cx: 4.0,
                cy: 12.0,
                size: 16.0
            }
        );
        assert_eq!(
            a[64],
            Anchor {
                cx: 8.0,
                cy: 8.0,
                size: 64.0
            }
        );
        assert_eq!(
            a[83],
            Anchor {
                cx: 48.0,
                cy: 16.0,
                size: 512.0
            }
        );
    }

    #[test]
    fn zero_offsets_decode_to_the_anchor() {
        let a = Anchor {
            cx: 20.0,
            cy: 30.0,
            size: 16.0,
        };
        assert_eq!(decode_box(&a, &[0.0; 4]), [12.0, 22.0, 28.0, 38.0]);
        assert_eq!(decode_landmarks(&a, &[0.0; 10]), [[20.0, 30.0]; 5]);
    }

    #[test]
    fn offsets_use_the_variances() {
        let a = Anchor {
            cx: 100.0,
            cy: 50.0,
            size: 32.0,
        };
        // centre moves by d·0.1·32 = 3.2·d; size is 32·exp(0.2·d).
        let ln2 = std::f32::consts::LN_2;
        let b = decode_box(&a, &[1.0, -2.0, ln2 / 0.2, 0.0]);
        let expected = [103.2 - 32.0, 43.6 - 16.0, 103.2 + 32.0, 43.6 + 16.0];
        assert!(b.iter().zip(expected).all(|(x, y)| approx(*x, y)), "{b:?}");
        let mut d = [0.0; 10];
        d[2] = 1.0;
        d[9] = -1.0;
        let l = decode_landmarks(&a, &d);
        assert!(approx(l[1][0], 103.2) && approx(l[1][1], 50.0));
        assert!(approx(l[4][0], 100.0) && approx(l[4][1], 46.8));
    }

    #[test]
    fn decode_keeps_only_scores_above_threshold() {
        let anchors = [
            Anchor {
                cx: 4.0,
                cy: 4.0,
                size: 16.0,
            },
            Anchor {
                cx: 4.0,
                cy: 4.0,
                size: 32.0,
            },
        ];
        let raw = RawOutputs {
            loc: vec![0.0; 8],
            conf: vec![0.6, 0.4, 0.1, 0.9],
            landmarks: vec![0.0; 20],
        };
        let dets = decode(&anchors, &raw, 0.5);
        assert_eq!(dets.len(), 1);
        assert_eq!(dets[0].bbox, [-12.0, -12.0, 20.0, 20.0]);
        assert_eq!(dets[0].score, 0.9);
    }

    #[test]
    fn iou_of_hand_computed_boxes() {
        assert!(approx(
            iou(&[0.0, 0.0, 2.0, 2.0], &[1.0, 1.0, 3.0, 3.0]),
            1.0 / 7.0
        ));
        assert_eq!(iou(&[0.0, 0.0, 1.0, 1.0], &[2.0, 2.0, 3.0, 3.0]), 0.0);
        assert_eq!(iou(&[0.0, 0.0, 4.0, 4.0], &[0.0, 0.0, 4.0, 4.0]), 1.0);
        assert_eq!(iou(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0, 1.0, 1.0]), 0.0);
    }

    #[test]
    fn nms_suppresses_overlaps_and_sorts() {
        let dets = vec![
            det([0.0, 0.0, 10.0, 10.0], 0.8),
            det([1.0, 0.0, 11.0, 10.0], 0.95), // IoU 9/11 with the first
            det([20.0, 20.0, 30.0, 30.0], 0.7),
            det([0.0, 5.0, 10.0, 15.0], 0.9), // IoU 5/15 with the second: kept
        ];
        let kept = nms(dets, 0.4);
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, [0.95, 0.9, 0.7]);
    }

    #[test]
    fn scaled_maps_boxes_and_landmarks() {
        let mut d = det([1.0, 2.0, 3.0, 4.0], 0.5);
        d.landmarks[0] = [5.0, 6.0];
        let s = d.scaled(2.0, 0.5);
        assert_eq!(s.bbox, [2.0, 1.0, 6.0, 2.0]);
        assert_eq!(s.landmarks[0], [10.0, 3.0]);
        assert_eq!(s.width(), 4.0);
        assert_eq!(s.height(), 1.0);
        let m = d.shifted(10.0, -1.0);
        assert_eq!(m.bbox, [11.0, 1.0, 13.0, 3.0]);
        assert_eq!(m.landmarks[0], [15.0, 5.0]);
    }
}
