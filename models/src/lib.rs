//! Rollcall's face pipeline: detect (RetinaFace), align (5-point similarity onto a 150×150
//! template), embed (dlib ResNet, 128-D), match, judge liveness (MiniFASNet), and the weight
//! files they load.
//!
//! Everything here is pure computation on images and tensors: no networking, no database,
//! no async. The edge daemon and the hub both use it, so both compute the same embeddings.
//!
//! Architecture invariants:
//! - No MQTT, SQL, HTTP or async here; weights are checked by SHA-256 before any is used.
//! - One rule, one place: the burst's rule (`burst`), the decision (`matching`) and the bands
//!   for the size of a search (`Thresholds::for_searched`) are what both the door and the
//!   benchmarks run.

pub mod align;
pub mod burst;
pub mod depthwise;
pub mod detect;
pub mod dlib_resnet;
pub mod eval;
pub mod image_io;
mod kernel_input;
pub mod landmarks;
pub mod learning;
pub mod liveness;
pub mod matching;
pub mod pipeline;
mod product;
pub mod quality;
pub mod resize;
pub mod retinaface;
mod scratch;
pub mod weights;
