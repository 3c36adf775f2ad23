#!/usr/bin/env python3
"""Fits the mapping from a RetinaFace detection to the face box dlib's HOG detector would give
(the box dlib's 5-point shape predictor was trained on), for `SpBoxFit::FITTED` in
models/src/landmarks/rect.rs.

Inputs (both JSON lines, produced offline on the same photos):
  * HOG boxes from dlib_hog_landmarks.py;
  * RetinaFace primary detections cached by
    `cargo run --release -p rollcall-models --example tune_alignment -- DIR --cache FILE`.

The box is a square centred at (landmark centroid + (dx, dy)·s) with side side·s, for a face
size s computed from the five RetinaFace landmarks. Several definitions of s are tried; the
one with the smallest spread of the side ratio wins. Constants are medians (robust to the odd
HOG box on a bystander). Prints the constants and the residuals, as a fraction of the HOG side.

    python3 models/parity/reference/fit_sp_box.py hog.jsonl detections.jsonl
"""
import json
import math
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def scales(lm):
    (lx, ly), (rx, ry), (nx, ny), (ml_x, ml_y), (mr_x, mr_y) = lm
    eyes = ((lx + rx) / 2, (ly + ry) / 2)
    mouth = ((ml_x + mr_x) / 2, (ml_y + mr_y) / 2)
    eye_dist = math.hypot(rx - lx, ry - ly)
    eye_mouth = math.hypot(mouth[0] - eyes[0], mouth[1] - eyes[1])
    cx, cy = sum(p[0] for p in lm) / 5, sum(p[1] for p in lm) / 5
    spread = math.sqrt(sum((p[0] - cx) ** 2 + (p[1] - cy) ** 2 for p in lm) / 5)
    return {
        "eye_mouth+eyes/2": eye_mouth + 0.5 * eye_dist,
        "eye_dist": eye_dist,
        "eye_mouth": eye_mouth,
        "rms_spread": spread,
    }


def pairs(hog, dets):
    by_path = {h["path"]: h for h in hog}
    out = []
    for d in dets:
        h = by_path.get(d["path"])
        if h is None or d["landmarks"] is None:
            continue
        lm = d["landmarks"]
        cx, cy = sum(p[0] for p in lm) / 5, sum(p[1] for p in lm) / 5
        # The HOG box containing the landmark centroid, the most central if several.
        inside = [f["box"] for f in h["faces"] if f["box"][0] <= cx <= f["box"][2] and f["box"][1] <= cy <= f["box"][3]]
        if not inside:
            continue
        box = min(inside, key=lambda b: math.hypot((b[0] + b[2]) / 2 - cx, (b[1] + b[3]) / 2 - cy))
        out.append((lm, (cx, cy), box))
    return out


def fit(matched, name):
    rows = []
    for lm, (cx, cy), (l, t, r, b) in matched:
        s = scales(lm)[name]
        side = ((r - l + 1) + (b - t + 1)) / 2
        rows.append((((l + r) / 2 - cx) / s, ((t + b) / 2 - cy) / s, side / s, s, side, (l, t, r, b), (cx, cy)))
    dx = statistics.median(r[0] for r in rows)
    dy = statistics.median(r[1] for r in rows)
    k = statistics.median(r[2] for r in rows)
    # residuals in units of the HOG side
    res_c = [math.hypot(r[0] - dx, r[1] - dy) * r[3] / r[4] for r in rows]
    res_s = [abs(r[2] * r[3] - k * r[3]) / r[4] for r in rows]
    return dict(scale=name, dx=dx, dy=dy, side=k, n=len(rows),
                centre_err_median=statistics.median(res_c), centre_err_p90=sorted(res_c)[int(0.9 * len(res_c))],
                side_err_median=statistics.median(res_s), side_err_p90=sorted(res_s)[int(0.9 * len(res_s))])


def main(hog_path, det_path):
    matched = pairs(load(hog_path), load(det_path))
    results = [fit(matched, name) for name in scales([[0, 0], [1, 0], [0.5, 0.5], [0, 1], [1, 1]])]
    for r in results:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))
    best = min(results, key=lambda r: r["side_err_median"] + r["centre_err_median"])
    print(f"best: s = {best['scale']}: dx {best['dx']:.4f} dy {best['dy']:.4f} side {best['side']:.4f} "
          f"({best['n']} photos matched)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
