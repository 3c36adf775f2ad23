#!/usr/bin/env python3
"""Checks that two `rollcall-edge faces --json --embed` outputs agree (the Pi build under qemu
against the x86 build): same faces, boxes and landmarks within 0.5 px, scores within 1e-3,
embeddings within 1e-3 per value. Floating-point kernels differ between architectures (NEON
vs AVX fused multiply-adds), so agreement is to a tolerance, not bit for bit."""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(a_path, b_path):
    a, b = load(a_path), load(b_path)
    assert len(a) == len(b) > 0, f"{len(a)} vs {len(b)} images"
    worst = {"box": 0.0, "landmark": 0.0, "score": 0.0, "embedding": 0.0}
    for x, y in zip(a, b):
        assert "error" not in x and "error" not in y, (x, y)
        assert len(x["faces"]) == len(y["faces"]) > 0, f"{x['path']}: {len(x['faces'])} vs {len(y['faces'])} faces"
        for f, g in zip(x["faces"], y["faces"]):
            worst["box"] = max(worst["box"], *(abs(p - q) for p, q in zip(f["box"], g["box"])))
            pts = zip(sum(f["landmarks"], []), sum(g["landmarks"], []))
            worst["landmark"] = max(worst["landmark"], *(abs(p - q) for p, q in pts))
            worst["score"] = max(worst["score"], abs(f["score"] - g["score"]))
            worst["embedding"] = max(worst["embedding"], *(abs(p - q) for p, q in zip(f["embedding"], g["embedding"])))
    print("largest differences:", ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    limits = {"box": 0.5, "landmark": 0.5, "score": 1e-3, "embedding": 1e-3}
    bad = [k for k, v in worst.items() if v > limits[k]]
    if bad:
        sys.exit(f"aarch64 and x86 outputs differ beyond tolerance in: {', '.join(bad)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
