//! RetinaFace post-processing as pure functions: anchors, box and landmark decoding, NMS.
