//! The RetinaFace-mnet0.25 graph: MobileNet-0.25 backbone, 3-level FPN, SSH context modules
//! and the three 1×1 heads, with the weight-name mapping from the ONNX file.
//!
//! ## Weight names
//!
//! The safetensors file keeps the ONNX initialiser names. PyTorch's exporter named the folded
//! conv+batch-norm parameters `onnx::Conv_{n}` (weight `n`, bias `n + 1`; `n + 2` was used by
//! the export for the batch-norm and is absent), numbered in graph order; only the heads kept
//! their module names (`class_head.class_head.{level}.weight`, …). Reading the ONNX nodes:
//!
//! | ONNX node                         | weight n            | shape              |
//! |-----------------------------------|---------------------|--------------------|
//! | `fx/stage1.0` stem 3×3 s2         | 587                 | 8×3×3×3            |
//! | `fx/stage1.1 … stage1.5` dw + pw  | 590, 596, 602, …    | depthwise n, pw n+3|
//! | `fx/stage2.0 … stage2.5`          | 620, 626, …, 650    |                    |
//! | `fx/stage3.0, stage3.1`           | 656, 662            |                    |
//! | `fpn/output1, output2, output3`   | 668, 671, 674       | 64×{64,128,256}×1×1|
//! | `fpn/merge2, merge1`              | 677, 680            | 64×64×3×3          |
//! | `ssh{1,2,3}` base b               | 683, 701, 719       | see [`Ssh`]        |
//!
//! The ONNX graph runs each SSH's `conv5X5_1` twice on the same input (its second copy reads
//! the weights through `Identity` nodes, e.g. `onnx::Conv_728` → `onnx::Conv_722`); here it
//! runs once, stacked with `conv3X3` into one 64→48 convolution.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{Act, Conv, ConvDims, DepthwiseSeparable, onnx_name};
use super::upsample::UpsampleAdd;

/// Depthwise-separable blocks per stage: (first initialiser, c_in, c_out, stride).
const STAGE1: [(u32, usize, usize, usize); 5] = [
    (590, 8, 16, 1),
    (596, 16, 32, 2),
    (602, 32, 32, 1),
    (608, 32, 64, 2),
    (614, 64, 64, 1),
];
const STAGE2: [(u32, usize, usize, usize); 6] = [
    (620, 64, 128, 2),
    (626, 128, 128, 1),
    (632, 128, 128, 1),
    (638, 128, 128, 1),
    (644, 128, 128, 1),
    (650, 128, 128, 1),
];
const STAGE3: [(u32, usize, usize, usize); 2] = [(656, 128, 256, 2), (662, 256, 256, 1)];
const STEM: u32 = 587;
const FPN_OUTPUTS: [(u32, usize); 3] = [(668, 64), (671, 128), (674, 256)];
const FPN_MERGE2: u32 = 677;
const FPN_MERGE1: u32 = 680;
const SSH_BASES: [u32; 3] = [683, 701, 719];
/// Channels between the FPN, the SSH modules and the heads.
const WIDTH: usize = 64;

fn conv(vb: &VarBuilder, n: u32, dims: ConvDims, act: Act) -> Result<Conv> {
    Conv::load(vb, (&onnx_name(n), &onnx_name(n + 1)), dims, act)
}

/// MobileNet-0.25: returns the outputs of its three stages (strides 8, 16, 32).
#[derive(Debug, Clone)]
pub struct Backbone {
    stem: Conv,
    stages: [Vec<DepthwiseSeparable>; 3],
}

impl Backbone {
    pub fn load(vb: &VarBuilder) -> Result<Self> {
        let stem = conv(vb, STEM, ConvDims::new(3, 8, 3, 2), Act::Leaky)?;
        let blocks = |spec: &[(u32, usize, usize, usize)]| -> Result<Vec<DepthwiseSeparable>> {
            spec.iter()
                .map(|&(n, ci, co, s)| DepthwiseSeparable::load(vb, n, ci, co, s))
                .collect()
        };
        Ok(Self {
            stem,
            stages: [blocks(&STAGE1)?, blocks(&STAGE2)?, blocks(&STAGE3)?],
        })
    }

    pub fn forward(&self, xs: &Tensor) -> Result<[Tensor; 3]> {
        let run = |xs: Tensor, stage: &[DepthwiseSeparable]| {
            stage.iter().try_fold(xs, |x, b| b.forward(&x))
        };
        let s1 = run(self.stem.forward(xs)?, &self.stages[0])?;
        let s2 = run(s1.clone(), &self.stages[1])?;
        let s3 = run(s2.clone(), &self.stages[2])?;
        Ok([s1, s2, s3])
    }
}

/// Feature pyramid: 1×1 lateral convs, nearest upsampling to the finer level's exact size
/// (the ONNX `Resize` takes its output size from the finer tensor, so odd sizes just work),
/// add, then a 3×3 merge conv.
#[derive(Debug, Clone)]
pub struct Fpn {
    outputs: [Conv; 3],
    merge2: Conv,
    merge1: Conv,
}

impl Fpn {
    pub fn load(vb: &VarBuilder) -> Result<Self> {
        let lateral =
            |(n, c_in): (u32, usize)| conv(vb, n, ConvDims::new(c_in, WIDTH, 1, 1), Act::Leaky);
        let [o1, o2, o3] = FPN_OUTPUTS;
        let merge = |n| conv(vb, n, ConvDims::new(WIDTH, WIDTH, 3, 1), Act::Leaky);
        Ok(Self {
            outputs: [lateral(o1)?, lateral(o2)?, lateral(o3)?],
            merge2: merge(FPN_MERGE2)?,
            merge1: merge(FPN_MERGE1)?,
        })
    }

    pub fn forward(&self, [s1, s2, s3]: &[Tensor; 3]) -> Result<[Tensor; 3]> {
        let o1 = self.outputs[0].forward(s1)?;
        let o2 = self.outputs[1].forward(s2)?;
        let o3 = self.outputs[2].forward(s3)?;
        let o2 = self
            .merge2
            .forward(&o2.apply_op2_no_bwd(&o3, &UpsampleAdd)?)?;
        let o1 = self
            .merge1
            .forward(&o1.apply_op2_no_bwd(&o2, &UpsampleAdd)?)?;
        Ok([o1, o2, o3])
    }
}

/// SSH context module. With base initialiser b: `conv3X3` b (64→32), `conv5X5_1` b+3
/// (64→16, leaky), `conv5X5_2` b+6 (16→16), `conv7X7_2` b+12 (16→16, leaky), `conv7x7_3`
/// b+15 (16→16). Output: ReLU of the concatenation [conv3X3, conv5X5_2, conv7x7_3]; the ReLU
/// is fused into each branch's last conv.
#[derive(Debug, Clone)]
pub struct Ssh {
    /// conv3X3 (ReLU) and conv5X5_1 (leaky) stacked: 64 → 32 + 16.
    first: Conv,
    conv5x5_2: Conv,
    conv7x7_2: Conv,
    conv7x7_3: Conv,
}

impl Ssh {
    pub fn load(vb: &VarBuilder, b: u32) -> Result<Self> {
        let d = |c_in, c_out| ConvDims::new(c_in, c_out, 3, 1);
        let conv3x3 = conv(vb, b, d(WIDTH, WIDTH / 2), Act::Relu)?;
        let conv5x5_1 = conv(vb, b + 3, d(WIDTH, WIDTH / 4), Act::Leaky)?;
        Ok(Self {
            first: Conv::stack(&conv3x3, &conv5x5_1)?,
            conv5x5_2: conv(vb, b + 6, d(WIDTH / 4, WIDTH / 4), Act::Relu)?,
            conv7x7_2: conv(vb, b + 12, d(WIDTH / 4, WIDTH / 4), Act::Leaky)?,
            conv7x7_3: conv(vb, b + 15, d(WIDTH / 4, WIDTH / 4), Act::Relu)?,
        })
    }
}

impl Module for Ssh {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let first = self.first.forward(xs)?;
        let conv3x3 = first.narrow(1, 0, WIDTH / 2)?;
        let conv5x5_1 = first.narrow(1, WIDTH / 2, WIDTH / 4)?;
        let conv5x5 = self.conv5x5_2.forward(&conv5x5_1)?;
        let conv7x7 = self
            .conv7x7_3
            .forward(&self.conv7x7_2.forward(&conv5x5_1)?)?;
        Tensor::cat(&[&conv3x3, &conv5x5, &conv7x7], 1)
    }
}

/// The class (2 anchors × 2), box (2 × 4) and landmark (2 × 10) 1×1 heads of one level,
/// stacked into one 64 → 32 convolution: channels 0..4 class, 4..12 box, 12..32 landmarks.
#[derive(Debug, Clone)]
pub struct Heads {
    conv: Conv,
}

/// Output channels of the stacked heads per anchor kind: class, box, landmarks.
pub const HEAD_CHANNELS: [usize; 3] = [4, 8, 20];

impl Heads {
    pub fn load(vb: &VarBuilder, level: usize) -> Result<Self> {
        let names = [
            "class_head.class_head",
            "bbox_head.bbox_head",
            "landmark_head.landmark_head",
        ];
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for (name, c_out) in names.iter().zip(HEAD_CHANNELS) {
            weights.push(vb.get((c_out, WIDTH, 1, 1), &format!("{name}.{level}.weight"))?);
            biases.push(vb.get(c_out, &format!("{name}.{level}.bias"))?);
        }
        let (weight, bias) = (Tensor::cat(&weights, 0)?, Tensor::cat(&biases, 0)?);
        let total = HEAD_CHANNELS.iter().sum();
        Ok(Self {
            conv: Conv::from_tensors(weight, bias, 1, &vec![Act::None; total])?,
        })
    }
}

impl Module for Heads {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.conv.forward(xs)
    }
}

/// The whole network: image tensor in, per-level stacked head outputs `(n, 32, h_l, w_l)` out.
#[derive(Debug, Clone)]
pub struct Network {
    backbone: Backbone,
    fpn: Fpn,
    ssh: [Ssh; 3],
    heads: [Heads; 3],
}

impl Network {
    pub fn load(vb: &VarBuilder) -> Result<Self> {
        let [b1, b2, b3] = SSH_BASES;
        Ok(Self {
            backbone: Backbone::load(vb)?,
            fpn: Fpn::load(vb)?,
            ssh: [Ssh::load(vb, b1)?, Ssh::load(vb, b2)?, Ssh::load(vb, b3)?],
            heads: [
                Heads::load(vb, 0)?,
                Heads::load(vb, 1)?,
                Heads::load(vb, 2)?,
            ],
        })
    }

    pub fn forward(&self, xs: &Tensor) -> Result<[Tensor; 3]> {
        let features = self.fpn.forward(&self.backbone.forward(xs)?)?;
        let level = |l: usize| self.heads[l].forward(&self.ssh[l].forward(&features[l])?);
        Ok([level(0)?, level(1)?, level(2)?])
    }
}
