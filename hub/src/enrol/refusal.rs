//! Why a photo was not enrolled, with a stable code and the figures behind it.

use rollcall_models::image_io::ImageError;
use rollcall_models::quality::QualityIssue;
use serde_json::{Value, json};

/// Why a photo was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Image(#[from] ImageError),
    #[error("no face found in the photo")]
    NoFace,
    #[error("{count} faces found; an enrolment photo must show exactly one person")]
    SeveralFaces { count: usize },
    #[error("{0}")]
    Quality(#[from] QualityIssue),
    #[error("face pipeline failed: {0}")]
    Pipeline(String),
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
        }
    }

    /// The figures behind the refusal (face count, measured value and limit), if any.
    pub fn details(&self) -> Option<Value> {
        match self {
            Refusal::SeveralFaces { count } => Some(json!({"faces": count})),
            Refusal::Quality(issue) => serde_json::to_value(issue).ok(),
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
        let several = Refusal::SeveralFaces { count: 3 };
        assert_eq!(several.code(), "several_faces");
        assert_eq!(several.details().unwrap()["faces"], 3);
        assert!(several.to_string().contains('3'));
        assert_eq!(Refusal::from(ImageError::NotAnImage).code(), "not_an_image");
    }
}
