//! Why a photo was not enrolled, with a stable code and the figures behind it.

use rollcall_models::image_io::ImageError;
use rollcall_models::quality::QualityIssue;
use serde_json::{Value, json};

use super::look_alike::LookAlike;

/// Why a photo was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Image(#[from] ImageError),
    #[error("no face found in the photo")]
    NoFace,
    /// Several faces, none clearly the photo's subject; `boxes` are the competing faces
    /// (`[x1, y1, x2, y2]` in photo pixels, most prominent first).
    #[error(
        "{} faces of about the same prominence; none is clearly the student's",
        boxes.len()
    )]
    SeveralFaces { boxes: Vec<[f32; 4]> },
    #[error("{0}")]
    Quality(#[from] QualityIssue),
    #[error("face pipeline failed: {0}")]
    Pipeline(String),
    /// More faces than a class photo may have (`class_photo::MAX_FACES`).
    #[error("{found} faces in the photo; a class photo has at most {max}")]
    TooManyFaces { found: usize, max: usize },
    /// The face lies within the door's Confident band of another enrolled student's photo
    /// ([`look_alike`](super::look_alike)): held until an admin confirms it.
    #[error(
        "this face looks like {}: the door could name either child as the other. \
         If it really is this student (twins), confirm to enrol it anyway",
        .0.described()
    )]
    LooksLike(LookAlike),
}

impl Refusal {
    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Image(
                ImageError::TooLarge { .. }
                | ImageError::TooManyPixels { .. }
                | ImageError::OverPixelBudget { .. },
            ) => "image_too_large",
            Refusal::Image(ImageError::NotAnImage) => "not_an_image",
            Refusal::Image(_) => "bad_image",
            Refusal::NoFace => "no_face",
            Refusal::SeveralFaces { .. } => "several_faces",
            Refusal::Quality(issue) => quality_code(issue),
            Refusal::Pipeline(_) => "pipeline_failed",
            Refusal::TooManyFaces { .. } => "too_many_faces",
            Refusal::LooksLike(_) => "looks_like_another_student",
        }
    }

    /// The figures behind the refusal (face count, measured value and limit), if any.
    pub fn details(&self) -> Option<Value> {
        match self {
            Refusal::SeveralFaces { boxes } => Some(json!({
                "faces": boxes.len(),
                "boxes": boxes.iter().map(|b| b.map(f32::round)).collect::<Vec<_>>(),
            })),
            Refusal::Quality(issue) => serde_json::to_value(issue).ok(),
            Refusal::LooksLike(like) => serde_json::to_value(like).ok(),
            _ => None,
        }
    }

    /// Whether the photo itself is not a usable image (as opposed to an image that fails).
    pub fn is_unreadable(&self) -> bool {
        matches!(self, Refusal::Image(_))
    }
}

fn quality_code(issue: &QualityIssue) -> &'static str {
    match issue {
        QualityIssue::BadLandmarks => "bad_landmarks",
        QualityIssue::LowScore { .. } => "low_score",
        QualityIssue::TooSmall { .. } => "too_small",
        QualityIssue::TurnedAway { .. } => "turned_away",
        QualityIssue::Blurry { .. } => "blurry",
    }
}

#[cfg(test)]
mod tests {
    use rollcall_models::quality::SizeMeasure;

    use super::*;

    #[test]
    fn codes_and_figures_name_the_reason() {
        let small = Refusal::from(QualityIssue::TooSmall {
            measure: SizeMeasure::Box,
            px: 20.0,
            min: 40.0,
        });
        assert_eq!(small.code(), "too_small");
        assert_eq!(small.details().unwrap()["too_small"]["min"], 40.0);
        let boxes = vec![[10.2, 20.0, 60.0, 80.0], [70.0, 20.0, 120.0, 80.0]];
        let several = Refusal::SeveralFaces { boxes };
        assert_eq!(several.code(), "several_faces");
        let details = several.details().unwrap();
        assert_eq!(details["faces"], 2);
        assert_eq!(
            details["boxes"][0],
            serde_json::json!([10.0, 20.0, 60.0, 80.0])
        );
        assert!(several.to_string().starts_with("2 faces"));
        assert_eq!(Refusal::from(ImageError::NotAnImage).code(), "not_an_image");
    }
}
