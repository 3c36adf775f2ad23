//! The 2-D similarity transform (uniform scale, rotation, translation) and its closed-form
//! least-squares fit to point correspondences.
//!
//! The map is `(x, y) ↦ (a·x − b·y + tx, b·x + a·y + ty)`, with `a = s·cos θ`, `b = s·sin θ`.
//! Every constructor checks that the scale is finite and positive, so [`Similarity::inverse`]
//! cannot fail and no NaN ever leaves this module.

use super::options::{AlignError, Point};

/// Below this mean squared spread (px²) the source points are treated as coincident.
const MIN_SPREAD: f64 = 1e-6;

/// A similarity transform `p ↦ s·R(θ)·p + t` in image coordinates (y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    a: f32,
    b: f32,
    tx: f32,
    ty: f32,
}

impl Similarity {
    /// The identity map.
    pub const IDENTITY: Similarity = Similarity {
        a: 1.0,
        b: 0.0,
        tx: 0.0,
        ty: 0.0,
    };

    /// Builds a transform from its scale, rotation (radians; positive turns +x towards +y,
    /// i.e. clockwise on screen) and translation.
    pub fn new(scale: f32, angle: f32, translation: Point) -> Result<Self, AlignError> {
        let (sin, cos) = angle.sin_cos();
        Self::from_parts(scale * cos, scale * sin, translation)
    }

    /// `p ↦ scale·p + translation` for a known-positive `scale` (crate-internal shortcut).
    pub(super) fn scale_translate(scale: f32, [tx, ty]: Point) -> Similarity {
        Similarity {
            a: scale,
            b: 0.0,
            tx,
            ty,
        }
    }

    fn from_parts(a: f32, b: f32, [tx, ty]: Point) -> Result<Self, AlignError> {
        let finite = [a, b, tx, ty].iter().all(|v| v.is_finite());
        let scale = a.hypot(b);
        if !finite || scale.is_nan() || scale <= f32::MIN_POSITIVE {
            return Err(AlignError::DegenerateTransform);
        }
        Ok(Similarity { a, b, tx, ty })
    }

    /// Least-squares fit of the similarity mapping `src[i]` onto `dst[i]` (Umeyama's method
    /// restricted to 2-D without reflection, which has this closed form).
    ///
    /// Fails if any coordinate is not finite, or if either point set has (almost) no spread.
    pub fn estimate<const N: usize>(
        src: &[Point; N],
        dst: &[Point; N],
    ) -> Result<Self, AlignError> {
        if !all_finite(src) || !all_finite(dst) {
            return Err(AlignError::NonFinite);
        }
        let (ms, md) = (mean(src), mean(dst));
        let (mut dot, mut cross, mut spread_src, mut spread_dst) = (0.0, 0.0, 0.0, 0.0);
        for (p, q) in src.iter().zip(dst) {
            let (x, y) = (f64::from(p[0]) - ms[0], f64::from(p[1]) - ms[1]);
            let (u, v) = (f64::from(q[0]) - md[0], f64::from(q[1]) - md[1]);
            dot += x * u + y * v;
            cross += x * v - y * u;
            spread_src += x * x + y * y;
            spread_dst += u * u + v * v;
        }
        let n = N as f64;
        if spread_src / n < MIN_SPREAD || spread_dst / n < MIN_SPREAD {
            return Err(AlignError::DegenerateLandmarks);
        }
        let (a, b) = (dot / spread_src, cross / spread_src);
        let tx = md[0] - (a * ms[0] - b * ms[1]);
        let ty = md[1] - (b * ms[0] + a * ms[1]);
        Self::from_parts(a as f32, b as f32, [tx as f32, ty as f32])
    }

    /// Maps a point.
    pub fn apply(&self, [x, y]: Point) -> Point {
        [
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        ]
    }

    /// The inverse map (always exists: the scale is positive by construction).
    pub fn inverse(&self) -> Similarity {
        let norm = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / norm, -self.b / norm);
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }

    /// `self` followed by `next`: `p ↦ next(self(p))`.
    pub fn then(&self, next: &Similarity) -> Similarity {
        let [tx, ty] = next.apply([self.tx, self.ty]);
        Similarity {
            a: next.a * self.a - next.b * self.b,
            b: next.b * self.a + next.a * self.b,
            tx,
            ty,
        }
    }

    /// Uniform scale factor (output length per input length).
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// Rotation in radians (positive = clockwise on screen, since y points down).
    pub fn angle(&self) -> f32 {
        self.b.atan2(self.a)
    }

    /// Translation (the image of the origin).
    pub fn translation(&self) -> Point {
        [self.tx, self.ty]
    }

    /// Root-mean-square distance between `self(src[i])` and `dst[i]`, in `dst` units: how
    /// well the landmarks fit the template (large values flag implausible landmarks).
    pub fn rms_error<const N: usize>(&self, src: &[Point; N], dst: &[Point; N]) -> f32 {
        let sum: f32 = src
            .iter()
            .zip(dst)
            .map(|(p, q)| {
                let [x, y] = self.apply(*p);
                (x - q[0]).powi(2) + (y - q[1]).powi(2)
            })
            .sum();
        (sum / N.max(1) as f32).sqrt()
    }
}

fn all_finite(points: &[Point]) -> bool {
    points.iter().flatten().all(|v| v.is_finite())
}

fn mean(points: &[Point]) -> [f64; 2] {
    let n = points.len().max(1) as f64;
    let sum = points.iter().fold([0.0, 0.0], |acc, p| {
        [acc[0] + f64::from(p[0]), acc[1] + f64::from(p[1])]
    });
    [sum[0] / n, sum[1] / n]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: [Point; 5] = [
        [312.0, 210.5],
        [388.25, 204.0],
        [350.0, 251.0],
        [318.0, 290.0],
        [384.5, 286.25],
    ];

    fn close(p: Point, q: Point, tol: f32) -> bool {
        (p[0] - q[0]).abs() <= tol && (p[1] - q[1]).abs() <= tol
    }

    #[test]
    fn recovers_a_known_transform_exactly() {
        let truth = Similarity::new(0.37, -0.3, [-80.0, 40.0]).unwrap();
        let dst = SRC.map(|p| truth.apply(p));
        let fit = Similarity::estimate(&SRC, &dst).unwrap();
        assert!((fit.scale() - 0.37).abs() < 1e-5, "{fit:?}");
        assert!((fit.angle() + 0.3).abs() < 1e-5, "{fit:?}");
        assert!(close(fit.translation(), [-80.0, 40.0], 2e-3), "{fit:?}");
        assert!(fit.rms_error(&SRC, &dst) < 1e-3);
    }

    #[test]
    fn identity_fits_identical_points() {
        let fit = Similarity::estimate(&SRC, &SRC).unwrap();
        for p in SRC {
            assert!(close(fit.apply(p), p, 1e-3));
        }
        assert!((fit.scale() - 1.0).abs() < 1e-6 && fit.angle().abs() < 1e-6);
    }

    #[test]
    fn inverse_and_then_round_trip() {
        let t = Similarity::new(2.5, 1.1, [7.0, -3.0]).unwrap();
        let round = t.then(&t.inverse());
        for p in SRC {
            assert!(close(round.apply(p), p, 1e-3), "{:?}", round.apply(p));
            assert!(close(t.inverse().apply(t.apply(p)), p, 1e-3));
        }
    }

    #[test]
    fn least_squares_averages_noise() {
        let truth = Similarity::new(1.5, 0.2, [3.0, 4.0]).unwrap();
        let noise = [
            [0.5, -0.5],
            [-0.5, 0.5],
            [0.5, 0.5],
            [-0.5, -0.5],
            [0.0, 0.0],
        ];
        let dst: Vec<Point> = SRC
            .iter()
            .zip(noise)
            .map(|(p, n)| {
                let [x, y] = truth.apply(*p);
                [x + n[0], y + n[1]]
            })
            .collect();
        let fit = Similarity::estimate(&SRC, &dst.try_into().unwrap()).unwrap();
        assert!((fit.scale() - 1.5).abs() < 0.02 && (fit.angle() - 0.2).abs() < 0.02);
    }

    #[test]
    fn degenerate_landmarks_are_an_error_not_nan() {
        let same = [[100.0, 100.0]; 5];
        assert_eq!(
            Similarity::estimate(&same, &SRC),
            Err(AlignError::DegenerateLandmarks)
        );
        assert_eq!(
            Similarity::estimate(&SRC, &same),
            Err(AlignError::DegenerateLandmarks)
        );
        let mut nan = SRC;
        nan[2][1] = f32::NAN;
        assert_eq!(Similarity::estimate(&nan, &SRC), Err(AlignError::NonFinite));
        assert_eq!(
            Similarity::new(0.0, 0.0, [0.0, 0.0]),
            Err(AlignError::DegenerateTransform)
        );
    }
}
