//! MiniFASNet V2 and V1SE: silent (one RGB frame) face anti-spoofing, fused as minivision does.
//!
//! * Source: minivision-ai/Silent-Face-Anti-Spoofing (commit `b6d5f04`, 2020-08-05), a
//!   MobileFaceNet pruned by channel; no paper beyond the repository's README.
//! * Weights: that repository's `2.7_80x80_MiniFASNetV2.pth` and
//!   `4_0_0_80x80_MiniFASNetV1SE.pth` (Apache-2.0), converted unchanged to f32 safetensors by
//!   `models/weights/minifasnet/convert.py` and compiled into the binary (`include_bytes!`,
//!   SHA-256 checked at load): 1.8 MB each, and the door needs no download to judge a face.
//! * Input: per model, a crop around the face box (box × 2.7 for V2, × 4.0 for V1SE, kept
//!   inside the frame; `liveness/crop.rs`) resized to 80×80; **BGR, 0–255, not normalised**,
//!   NCHW f32.
//! * Output: 3 logits per model; softmax each, average the two ([`fuse`]); the argmax is the
//!   label, and **class 1 is a real face** (0 and 2 are two kinds of fake).
//!
//! The graph is in `liveness/net.rs`, its blocks (batch norms folded at load) in
//! `liveness/layers.rs`. This module owns the pure decision; the door decides what to do
//! with a verdict.

mod crop;
mod error;
mod layers;
mod net;

use candle_core::{DType, Device, IndexOp, Module};
use candle_nn::VarBuilder;
use image::RgbImage;

pub use crop::{BgrCrop, CropBox, INPUT_SIZE, crop_bgr, crop_box};
pub use error::LivenessError;
pub use layers::CLASSES;
pub use net::{KEEP_V1SE, KEEP_V2, Keep, MiniFasNet};

use crate::weights::sha256_hex;

/// The class a real face gets.
pub const REAL_CLASS: usize = 1;

/// The door's operating point: a face is judged not live when the two networks' averaged
/// probability that it is real is below this. minivision's own rule (the label, the argmax)
/// flags 12 % of the developer set's real portraits as photographed and 27 % with 20 px
/// between the eyes; below 0.05 flags 1.7 % and 6.4 % of them (calibration half) and still
/// both of minivision's spoof samples (0.026 and 0.003). docs/ACCURACY.md, "Liveness on real
/// portraits"; no operating point flags at most 1 % at the door's sizes.
pub const FLAGGED_BELOW: f32 = 0.05;

/// One of the two networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    V2,
    V1Se,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::V2, Variant::V1Se];

    pub fn name(self) -> &'static str {
        match self {
            Variant::V2 => "V2",
            Variant::V1Se => "V1SE",
        }
    }

    /// How much wider and taller than the face box the crop is.
    pub fn scale(self) -> f64 {
        match self {
            Variant::V2 => 2.7,
            Variant::V1Se => 4.0,
        }
    }

    /// The embedded safetensors file and its SHA-256.
    fn weights(self) -> (&'static [u8], &'static str) {
        match self {
            Variant::V2 => (
                include_bytes!("../weights/minifasnet/minifasnet_v2.safetensors"),
                "ae6c53e1dc774552cf7fc4f36e2ade38c48f0bc0a2c42ca993d237ccb2c86ba9",
            ),
            Variant::V1Se => (
                include_bytes!("../weights/minifasnet/minifasnet_v1se.safetensors"),
                "6a1ff2900d837b6e0892fcc228cea1383bc33f39e9e3daaa0312979b5982edea",
            ),
        }
    }
}

/// One loaded network with its crop rule.
#[derive(Debug, Clone)]
pub struct Model {
    variant: Variant,
    net: MiniFasNet,
    device: Device,
}

impl Model {
    /// Loads the embedded weights of `variant`, checking their SHA-256 first.
    pub fn load(variant: Variant, device: &Device) -> Result<Self, LivenessError> {
        let (bytes, expected) = variant.weights();
        let found = sha256_hex(bytes);
        if found != expected {
            let model = variant.name();
            return Err(LivenessError::WeightsChecksum {
                model,
                expected,
                found,
            });
        }
        let err = |source| LivenessError::Weights {
            model: variant.name(),
            source,
        };
        let tensors = candle_core::safetensors::load_buffer(bytes, device).map_err(err)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let net = match variant {
            Variant::V2 => MiniFasNet::load(&vb, &KEEP_V2, false),
            Variant::V1Se => MiniFasNet::load(&vb, &KEEP_V1SE, true),
        }
        .map_err(err)?;
        Ok(Self {
            variant,
            net,
            device: device.clone(),
        })
    }

    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// This model's input for the face `bbox` (`[x1, y1, x2, y2]`, pixels) in `image`.
    pub fn crop(&self, image: &RgbImage, bbox: [f32; 4]) -> Result<BgrCrop, LivenessError> {
        let area = crop_box(image.dimensions(), bbox, self.variant.scale())?;
        Ok(crop_bgr(image, area))
    }

    /// The network's 3 logits for one crop.
    pub fn logits(&self, crop: &BgrCrop) -> Result<[f32; CLASSES], LivenessError> {
        let out = self.net.forward(&crop.to_tensor(&self.device)?)?;
        let v: Vec<f32> = out.i(0)?.to_vec1()?;
        let logits = v.as_slice().try_into().map_err(|_| {
            candle_core::Error::Msg(format!("MiniFASNet: {} logits, not {CLASSES}", v.len()))
        })?;
        Ok(logits)
    }
}

/// What the two networks say about one face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivenessVerdict {
    /// The label is [`REAL_CLASS`] (minivision's decision, which the parity test checks; the
    /// door judges by [`LivenessVerdict::live`]).
    pub real: bool,
    /// The label's averaged probability (minivision's "score": the summed softmax / 2).
    pub score: f32,
    /// The averaged softmax per class.
    pub probs: [f32; CLASSES],
}

impl LivenessVerdict {
    /// The door's judgement: live unless the probability that the face is real is below
    /// [`FLAGGED_BELOW`].
    pub fn live(&self) -> bool {
        self.probs[REAL_CLASS] >= FLAGGED_BELOW
    }
}

/// Both networks, loaded once and shared by reference.
#[derive(Debug, Clone)]
pub struct Liveness {
    models: [Model; 2],
}

impl Liveness {
    /// Loads both embedded networks.
    pub fn load(device: &Device) -> Result<Self, LivenessError> {
        Ok(Self {
            models: [
                Model::load(Variant::V2, device)?,
                Model::load(Variant::V1Se, device)?,
            ],
        })
    }

    pub fn models(&self) -> &[Model; 2] {
        &self.models
    }

    /// Judges the face `bbox` (`[x1, y1, x2, y2]`, pixels) in the RGB frame `image`.
    pub fn judge(
        &self,
        image: &RgbImage,
        bbox: [f32; 4],
    ) -> Result<LivenessVerdict, LivenessError> {
        let mut probs = Vec::with_capacity(self.models.len());
        for model in &self.models {
            probs.push(softmax(model.logits(&model.crop(image, bbox)?)?));
        }
        Ok(fuse(&probs))
    }
}

/// Softmax of one model's logits.
pub fn softmax(logits: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e = logits.map(|l| (l - max).exp());
    let sum: f32 = e.iter().sum();
    e.map(|v| v / sum)
}

/// The reference's decision: add the models' softmax vectors, take the argmax (the first on
/// a tie), divide by the number of models.
pub fn fuse(probs: &[[f32; CLASSES]]) -> LivenessVerdict {
    let mut sum = [0f32; CLASSES];
    for p in probs {
        sum.iter_mut().zip(p).for_each(|(s, v)| *s += v);
    }
    let n = probs.len().max(1) as f32;
    let mean = sum.map(|s| s / n);
    let label = (0..CLASSES).fold(0, |best, c| if mean[c] > mean[best] { c } else { best });
    LivenessVerdict {
        real: label == REAL_CLASS,
        score: mean[label],
        probs: mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_a_distribution_and_stable() {
        let p = softmax([0.0, (2f32).ln(), 0.0]);
        assert!((p[1] - 0.5).abs() < 1e-6 && (p[0] - 0.25).abs() < 1e-6);
        let big = softmax([1000.0, 0.0, -1000.0]);
        assert_eq!(big, [1.0, 0.0, 0.0]);
    }

    #[test]
    fn fusion_adds_then_takes_the_argmax() {
        // V2 leans real, V1SE leans fake (class 2) more strongly: the sum says fake.
        let v = fuse(&[[0.1, 0.6, 0.3], [0.1, 0.2, 0.7]]);
        assert!(!v.real);
        assert!((v.score - 0.5).abs() < 1e-6);
        assert!((v.probs[1] - 0.4).abs() < 1e-6);
        let v = fuse(&[[0.2, 0.7, 0.1], [0.3, 0.5, 0.2]]);
        assert!(v.real);
        assert!((v.score - 0.6).abs() < 1e-6);
    }

    #[test]
    fn the_door_flags_a_face_only_when_it_is_almost_surely_not_real() {
        // The label says fake (0.4 real against 0.5), but the face is not flagged.
        let doubtful = fuse(&[[0.1, 0.6, 0.3], [0.1, 0.2, 0.7]]);
        assert!(!doubtful.real && doubtful.live());
        let spoof = fuse(&[[0.9, 0.04, 0.06], [0.8, 0.05, 0.15]]);
        assert!(!spoof.live(), "{spoof:?}");
        let edge = fuse(&[[0.5, FLAGGED_BELOW, 0.45], [0.5, FLAGGED_BELOW, 0.45]]);
        assert!(edge.live());
    }

    #[test]
    fn embedded_weights_load_and_keep_their_shapes() -> Result<(), LivenessError> {
        let liveness = Liveness::load(&Device::Cpu)?;
        let image = RgbImage::from_pixel(120, 160, image::Rgb([90, 120, 150]));
        let v = liveness.judge(&image, [30.0, 40.0, 90.0, 120.0])?;
        assert!((v.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(v.probs.iter().all(|p| p.is_finite() && *p >= 0.0));
        let err = liveness.judge(&image, [30.0, 40.0, 30.0, 120.0]);
        assert!(matches!(err, Err(LivenessError::BadBox { .. })));
        Ok(())
    }
}
