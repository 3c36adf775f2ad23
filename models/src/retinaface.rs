//! RetinaFace with a MobileNet-0.25 backbone, written with candle-nn.
