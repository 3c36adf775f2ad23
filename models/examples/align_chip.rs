//! Cuts an aligned 150×150 chip out of an image given five landmarks, writes it, and prints its
//! quality figures.
//!
//! ```text
//! cargo run -p rollcall-models --example align_chip -- IN.jpg OUT.png \
//!     lex ley rex rey nx ny lmx lmy rmx rmy [PADDING]
//! ```
//!
//! Landmarks in RetinaFace order (left eye, right eye, nose, left and right mouth corner), image
//! pixels. `PADDING` is dlib's padding (default 0.25, the template's own).

use std::error::Error;

use rollcall_models::align::{AlignOptions, Landmarks, align_face};
use rollcall_models::quality::{FaceQuality, QualityGate, QualityInput};

fn parse_landmarks(args: &[String]) -> Result<Landmarks, Box<dyn Error>> {
    let values: Vec<f32> = args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
    let values: [f32; 10] = values
        .try_into()
        .map_err(|_| "need exactly 10 landmark numbers")?;
    Ok(std::array::from_fn(|i| [values[2 * i], values[2 * i + 1]]))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 12 {
        return Err(
            "usage: align_chip IN OUT lex ley rex rey nx ny lmx lmy rmx rmy [PADDING]".into(),
        );
    }
    let image = image::open(&args[0])?.to_rgb8();
    let landmarks = parse_landmarks(&args[2..12])?;
    let padding: f32 = args.get(12).map(|p| p.parse()).transpose()?.unwrap_or(0.25);
    let chip = align_face(
        &image,
        &landmarks,
        &AlignOptions::with_dlib_padding(padding),
    )?;
    chip.save(&args[1])?;
    let eye_gap = (landmarks[1][0] - landmarks[0][0]).hypot(landmarks[1][1] - landmarks[0][1]);
    // No detector box here: about twice the eye gap is a typical RetinaFace box side.
    let input = QualityInput {
        landmarks: &landmarks,
        shape: None,
        box_size: [eye_gap * 2.0; 2],
        detector_score: 1.0,
        chip: &chip,
    };
    let quality = FaceQuality::assess(&input);
    println!("{quality:?}");
    println!("gate: {:?}", QualityGate::default().check(&quality));
    Ok(())
}
