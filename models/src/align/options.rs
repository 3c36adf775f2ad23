//! What alignment aims at and how: the landmark types, the [`Template`] they are mapped onto,
//! the [`Border`] rule and the knobs in [`AlignOptions`], and [`AlignError`].

use serde::{Deserialize, Serialize};

/// An image point `[x, y]` in pixels.
pub type Point = [f32; 2];

/// Five landmarks in RetinaFace order (see the conventions in the `align` module docs).
pub type Landmarks = [Point; 5];

/// Why a face could not be aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AlignError {
    /// A landmark or template coordinate is NaN or infinite: drop the detection.
    #[error("landmark or template coordinates are not finite")]
    NonFinite,
    /// The points (nearly) coincide, so no scale or rotation can be estimated: drop the detection.
    #[error("landmarks coincide: no similarity transform can be estimated")]
    DegenerateLandmarks,
    /// A transform was built with zero, negative or non-finite scale.
    #[error("transform has zero or non-finite scale")]
    DegenerateTransform,
    /// The source image has no pixels.
    #[error("source image is empty")]
    EmptyImage,
    /// The options cannot produce a chip; fix the configuration.
    #[error("invalid alignment options: {0}")]
    InvalidOptions(&'static str),
}

/// Where the five landmarks should land in the chip, and the chip's side length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Target positions in chip pixels, RetinaFace landmark order.
    pub points: Landmarks,
    /// Chip width and height in pixels.
    pub size: u32,
}

impl Template {
    /// dlib's 150×150 template (padding 0.25), derived from its mean face shape; the input of
    /// the dlib ResNet embedder.
    pub const DLIB_150: Template = Template {
        points: [
            [47.55, 46.60],
            [100.48, 46.60],
            [74.01, 76.56],
            [50.41, 103.02],
            [97.61, 103.02],
        ],
        size: 150,
    };

    /// The ArcFace/InsightFace 112×112 template, for other embedders.
    pub const ARCFACE_112: Template = Template {
        points: [
            [38.29, 51.70],
            [73.53, 51.50],
            [56.03, 71.74],
            [41.55, 92.37],
            [70.73, 92.20],
        ],
        size: 112,
    };
}

impl Default for Template {
    fn default() -> Self {
        Template::DLIB_150
    }
}

/// What to do with chip pixels that fall outside the source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Border {
    /// Fill with one colour (black matches dlib's training chips).
    Constant([u8; 3]),
    /// Repeat the nearest edge pixel.
    Replicate,
}

/// Alignment knobs. The defaults reproduce dlib's `get_face_chip_details(…, 150, 0.25)` chip.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlignOptions {
    /// Target landmark positions and chip size.
    pub template: Template,
    /// Scales the template about the chip centre: 1.0 = as given, above 1 the face fills more
    /// of the chip (less padding). See [`AlignOptions::with_dlib_padding`].
    pub zoom: f32,
    /// Added to every template point after zooming, in chip pixels (`[0, 2]` moves the face down).
    pub shift: Point,
    /// Fill rule outside the source image.
    pub border: Border,
    /// Box-filter the source first when the face is at least twice the chip's scale.
    pub antialias: bool,
}

impl Default for AlignOptions {
    fn default() -> Self {
        AlignOptions {
            template: Template::DLIB_150,
            zoom: 1.0,
            shift: [0.0, 0.0],
            border: Border::Constant([0, 0, 0]),
            antialias: true,
        }
    }
}

impl AlignOptions {
    /// Default options with dlib's padding parameter changed: dlib places its unit-square mean
    /// face at `(padding + p) / (1 + 2·padding) · size`, so moving from the template's 0.25 to
    /// `padding` is a zoom of `1.5 / (1 + 2·padding)` about the centre.
    pub fn with_dlib_padding(padding: f32) -> Self {
        AlignOptions {
            zoom: 1.5 / (1.0 + 2.0 * padding),
            ..AlignOptions::default()
        }
    }

    /// Checks that the options can produce a chip.
    pub fn validate(&self) -> Result<(), AlignError> {
        if !(1..=4096).contains(&self.template.size) {
            return Err(AlignError::InvalidOptions("template size must be 1..=4096"));
        }
        if !(self.zoom.is_finite() && self.zoom > 0.0) {
            return Err(AlignError::InvalidOptions(
                "zoom must be finite and positive",
            ));
        }
        if !self.shift.iter().all(|v| v.is_finite()) {
            return Err(AlignError::InvalidOptions("shift must be finite"));
        }
        Ok(())
    }

    /// The template points after `zoom` and `shift`, in chip pixels.
    pub fn target_points(&self) -> Landmarks {
        let centre = (self.template.size as f32 - 1.0) / 2.0;
        let [dx, dy] = self.shift;
        self.template.points.map(|[x, y]| {
            [
                centre + (x - centre) * self.zoom + dx,
                centre + (y - centre) * self.zoom + dy,
            ]
        })
    }
}
