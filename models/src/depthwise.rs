//! Depthwise 3×3 convolution as a candle `CustomOp1`: candle's `conv2d(groups = C)` is ~100× too slow.
