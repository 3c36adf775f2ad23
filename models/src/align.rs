//! 5-point similarity alignment onto a face template (default: the 150×150 dlib template),
//! and the warp that cuts the aligned chip out of the frame.
//!
//! Owns: the [`Template`], the tuning knobs in [`AlignOptions`], the least-squares
//! [`Similarity`] fit and the resampling. It must not know about detectors or networks: input is
//! an RGB image plus five landmarks, output is an RGB chip.
//!
//! Conventions:
//! * Landmarks come in RetinaFace order: left eye, right eye (image-left first), nose tip,
//!   left mouth corner, right mouth corner, in image pixels with the **pixel-centre**
//!   convention (pixel `(i, j)` is centred on `(i, j)`), like dlib's template.
//! * The chip is an [`image::RgbImage`] of `template.size`² pixels (150×150 for the dlib
//!   embedder), HWC, RGB, u8: `chip.as_raw()` is exactly the buffer the embedder normalises.
//!   A plain `RgbImage` rather than a newtype, because the template (hence the size) is a
//!   parameter and callers want to save or inspect chips with the `image` crate.
//! * Outside the frame the default border is black, [`Border::Constant`]`([0, 0, 0])`: dlib's
//!   `extract_image_chips`, which made the embedder's training chips, sets such pixels to 0,
//!   so black keeps faces at the frame edge closest to what the network has seen.
//!   [`Border::Replicate`] is available for other embedders.
//! * Large faces are box-filtered before the bilinear warp (see [`AlignOptions::antialias`]),
//!   as dlib does with its image pyramid; plain bilinear sampling of a face several times
//!   larger than the chip aliases hair, stubble and glasses frames into noise.

pub mod dlib_chip;
mod options;
mod similarity;
mod warp;

use image::RgbImage;

pub use options::{AlignError, AlignOptions, Border, Landmarks, Point, Template};
pub use similarity::Similarity;

/// The image → chip transform that best maps `landmarks` onto the (zoomed, shifted) template.
pub fn chip_transform(
    landmarks: &Landmarks,
    opts: &AlignOptions,
) -> Result<Similarity, AlignError> {
    opts.validate()?;
    Similarity::estimate(landmarks, &opts.target_points())
}

/// Cuts the aligned chip for one face out of `image`.
pub fn align_face(
    image: &RgbImage,
    landmarks: &Landmarks,
    opts: &AlignOptions,
) -> Result<RgbImage, AlignError> {
    let image_to_chip = chip_transform(landmarks, opts)?;
    warp_to_chip(image, &image_to_chip, opts)
}

/// Resamples `image` through a given image → chip transform into a `template.size`² chip,
/// with the border and antialiasing rules of `opts` (the template points are not used).
pub fn warp_to_chip(
    image: &RgbImage,
    image_to_chip: &Similarity,
    opts: &AlignOptions,
) -> Result<RgbImage, AlignError> {
    opts.validate()?;
    if image.width() == 0 || image.height() == 0 {
        return Err(AlignError::EmptyImage);
    }
    let size = opts.template.size;
    Ok(warp::warp(
        image,
        &image_to_chip.inverse(),
        size,
        opts.border,
        opts.antialias,
    ))
}

#[cfg(test)]
mod tests;
