#!/usr/bin/env python3
"""Writes models/tests/fixtures/minifasnet_reference.json: for each sample frame and each of
minivision's two MiniFASNet models, the 80×80 crop's SHA-256, the 3 logits and the softmax,
and the fused verdict; checked by models/tests/liveness_parity.rs.

PyTorch would not import here (the registry's Linux wheel needs the CUDA libraries), so the
reference is written independently in NumPy, in float64, straight from the layer list of
../shared/models/minifasnet/SOURCE.md: convolutions as sums of shifted slices, batch norm
applied as its own step from the running statistics (not folded), PReLU, squeeze-excitation.
It shares no code with the Rust port. Weights are read from the original .pth files with
the legacy-format reader of models/weights/minifasnet/convert.py.

The frames are the Rust decoder's pixels (EXIF orientation applied), dumped as PPM so both
sides crop the same bytes:

    for f in F1 F2 T1; do cargo run -p rollcall-models --example dump_rgb -- \
        ../shared/models/minifasnet/samples/image_$f.jpg /tmp/image_$f.ppm; done
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy
    /tmp/venv/bin/python models/parity/liveness/make_fixture.py /tmp \
        > models/tests/fixtures/minifasnet_reference.json

The face boxes ([x1, y1, x2, y2] in the oriented 480×640 frame) were chosen by eye on a
40-pixel grid, forehead to chin (no detector weights were at hand), and are written into
the fixture.
"""
import hashlib
import importlib.util
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "models", "minifasnet"))
# The three faces, then two boxes for the crop's other branches (these faces fill the frame,
# so their crops are all scale-limited): a small box whose crops keep their scale, and one
# at the frame's corner whose crops are shifted. Only the first three have an expected
# verdict (SOURCE.md: minivision's demo calls T1 real and F1, F2 fake).
CASES = [
    ("image_F1.jpg", [190, 120, 420, 350], "fake"),
    ("image_F2.jpg", [140, 200, 350, 480], "fake"),
    ("image_T1.jpg", [90, 110, 290, 340], "real"),
    ("image_T1.jpg", [150, 180, 230, 262], None),
    ("image_F2.jpg", [400, 10, 470, 95], None),
]
# Channel lists ("keep") from SOURCE.md.
KEEP = {
    "V2": "32 32 103 103 64 13 13 64 13 13 64 13 13 64 13 13 64 231 231 128 231 231 128 52 52 "
    "128 26 26 128 77 77 128 26 26 128 26 26 128 308 308 128 26 26 128 26 26 128 512 512",
    "V1SE": "32 32 103 103 64 13 13 64 26 26 64 13 13 64 52 52 64 231 231 128 154 154 128 52 52 "
    "128 26 26 128 52 52 128 26 26 128 26 26 128 308 308 128 26 26 128 26 26 128 512 512",
}
MODELS = [("V2", "2.7_80x80_MiniFASNetV2.pth", 2.7), ("V1SE", "4_0_0_80x80_MiniFASNetV1SE.pth", 4.0)]
EPS = 1e-5


def load_converter():
    path = os.path.join(REPO, "models", "weights", "minifasnet", "convert.py")
    spec = importlib.util.spec_from_file_location("convert", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_weights(path):
    conv = load_converter()
    state, storages = conv.read_legacy(path)
    out = {}
    for name, t in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        values = conv.tensor_values(t, storages)
        out[name.removeprefix("module.")] = np.array(values, dtype=np.float64).reshape(t.size)
    return out


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, w, h, maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P6" and maxval == b"255"
    w, h = int(w), int(h)
    return np.frombuffer(pixels[: w * h * 3], dtype=np.uint8).reshape(h, w, 3)


# ---- the crop (minivision's CropImage rule, OpenCV INTER_LINEAR resize) ----

def crop_box(src_w, src_h, bbox, scale):
    x1, y1, x2, y2 = bbox
    box_w, box_h = x2 - x1, y2 - y1
    scale = min(scale, (src_w - 1) / box_w, (src_h - 1) / box_h)
    cx, cy = x1 + box_w / 2, y1 + box_h / 2
    new_w, new_h = box_w * scale, box_h * scale
    left, right = cx - new_w / 2, cx + new_w / 2
    top, bottom = cy - new_h / 2, cy + new_h / 2
    if left < 0:
        right -= left
        left = 0
    if top < 0:
        bottom -= top
        top = 0
    if right > src_w - 1:
        left -= right - (src_w - 1)
        right = src_w - 1
    if bottom > src_h - 1:
        top -= bottom - (src_h - 1)
        bottom = src_h - 1
    return int(left), int(top), int(right), int(bottom)


def linear_taps(first, length, out=80):
    taps = []
    for i in range(out):
        src = (i + 0.5) * (length / out) - 0.5
        lo = math.floor(src)
        frac = src - lo
        if lo < 0:
            lo, frac = 0, 0.0
        if lo >= length - 1:
            lo, frac = length - 1, 0.0
        taps.append((first + lo, first + min(lo + 1, length - 1), frac))
    return taps


def crop_bgr(rgb, box):
    left, top, right, bottom = box
    xs = linear_taps(left, right - left + 1)
    ys = linear_taps(top, bottom - top + 1)
    out = bytearray()
    for y0, y1, fy in ys:
        for x0, x1, fx in xs:
            for ch in (2, 1, 0):
                a, b = float(rgb[y0, x0, ch]), float(rgb[y0, x1, ch])
                c, d = float(rgb[y1, x0, ch]), float(rgb[y1, x1, ch])
                t = (1.0 - fx) * a + fx * b
                u = (1.0 - fx) * c + fx * d
                v = (1.0 - fy) * t + fy * u
                out.append(min(255, max(0, math.floor(v + 0.5))))
    return bytes(out)


# ---- the network, unfolded, float64 ----

def conv2d(x, w, stride=1, pad=0, groups=1):
    """x: (C, H, W); w: (O, C/groups, k, k). A sum over kernel offsets of shifted slices."""
    c, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.zeros((o, ho, wo))
    for i in range(k):
        for j in range(k):
            patch = xp[:, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]
            if groups == 1:
                out += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
            else:
                assert groups == c == o
                out += w[:, 0, i, j][:, None, None] * patch
    return out


def bn(x, p, name):
    g, b = p[name + ".weight"], p[name + ".bias"]
    m, v = p[name + ".running_mean"], p[name + ".running_var"]
    shape = (-1,) + (1,) * (x.ndim - 1)
    return (x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + EPS) * g.reshape(shape) + b.reshape(shape)


def prelu(x, a):
    return np.where(x >= 0, x, a[:, None, None] * x)


def conv_block(x, p, name, stride=1, pad=0, groups=1, act=True):
    y = bn(conv2d(x, p[name + ".conv.weight"], stride, pad, groups), p, name + ".bn")
    return prelu(y, p[name + ".prelu.weight"]) if act else y


def se_module(x, p, name):
    s = x.mean(axis=(1, 2), keepdims=True)
    s = np.maximum(bn(conv2d(s, p[name + ".fc1.weight"]), p, name + ".bn1"), 0)
    s = bn(conv2d(s, p[name + ".fc2.weight"]), p, name + ".bn2")
    return x * (1 / (1 + np.exp(-s)))


def depth_wise(x, p, name, stride, residual, se):
    y = conv_block(x, p, name + ".conv")
    mid = y.shape[0]
    y = conv_block(y, p, name + ".conv_dw", stride=stride, pad=1, groups=mid)
    y = conv_block(y, p, name + ".project", act=False)
    if se:
        y = se_module(y, p, name + ".se_module")
    return x + y if residual else y


def forward(x, p, keep, se):
    x = conv_block(x, p, "conv1", stride=2, pad=1)
    x = conv_block(x, p, "conv2_dw", pad=1, groups=keep[1])
    x = depth_wise(x, p, "conv_23", 2, False, False)
    for stage, count, down in (("conv_3", 4, "conv_34"), ("conv_4", 6, "conv_45"), ("conv_5", 2, None)):
        for j in range(count):
            x = depth_wise(x, p, f"{stage}.model.{j}", 1, True, se and j == count - 1)
        if down:
            x = depth_wise(x, p, down, 2, False, False)
    x = conv_block(x, p, "conv_6_sep")
    x = conv_block(x, p, "conv_6_dw", groups=keep[48], act=False)
    x = x.reshape(-1)
    x = p["linear.weight"] @ x
    x = bn(x, p, "bn")
    return p["prob.weight"] @ x


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def main():
    frames_dir = sys.argv[1]
    models = [(name, load_weights(os.path.join(SHARED, file)), scale) for name, file, scale in MODELS]
    frames = []
    for image, bbox, expect in CASES:
        with open(os.path.join(SHARED, "samples", image), "rb") as f:
            jpeg_sha = hashlib.sha256(f.read()).hexdigest()
        rgb = read_ppm(os.path.join(frames_dir, image.replace(".jpg", ".ppm")))
        h, w, _ = rgb.shape
        outputs, total = [], np.zeros(3)
        for name, params, scale in models:
            box = crop_box(w, h, bbox, scale)
            crop = crop_bgr(rgb, box)
            x = np.frombuffer(crop, dtype=np.uint8).reshape(80, 80, 3).transpose(2, 0, 1).astype(np.float64)
            keep = [int(v) for v in KEEP[name].split()]
            logits = forward(x, params, keep, name == "V1SE")
            probs = softmax(logits)
            total += probs
            outputs.append({
                "model": name,
                "crop_box": list(box),
                "crop_sha256": hashlib.sha256(crop).hexdigest(),
                "logits": [float(v) for v in logits],
                "softmax": [float(v) for v in probs],
            })
        label = int(np.argmax(total))
        frames.append({
            "image": image,
            "jpeg_sha256": jpeg_sha,
            "size": [w, h],
            "rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
            "bbox": bbox,
            "expect": expect,
            "models": outputs,
            "label": label,
            "real": label == 1,
            "score": float(total[label] / 2),
        })
    json.dump({"reference": "models/parity/liveness/make_fixture.py (NumPy, float64)", "frames": frames},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
