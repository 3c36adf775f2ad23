#!/usr/bin/env python3
"""Times the `face_recognition` library (dlib HOG detector + the same dlib embedder) per image,
on the photos named on the command line, the way `rollcall-edge faces --embed --json` is timed:
detection (face_locations) and embedding (face_encodings with those locations) separately.

Used by models/parity/reference/compare.sh to measure both systems in one run on the same
photos and cores. Prints one JSON object per image and a summary line on stderr.
"""
import json
import statistics
import sys
import time

import face_recognition


def main(paths):
    detect, embed = [], []
    for path in paths:
        image = face_recognition.load_image_file(path)
        t0 = time.perf_counter()
        boxes = face_recognition.face_locations(image)
        t1 = time.perf_counter()
        encodings = face_recognition.face_encodings(image, boxes)
        t2 = time.perf_counter()
        detect.append((t1 - t0) * 1e3)
        embed.append((t2 - t1) * 1e3)
        print(json.dumps({"path": path, "faces": len(encodings), "detect_ms": detect[-1], "embed_ms": embed[-1]}))
    print(
        f"face_recognition: {len(paths)} images, median detect {statistics.median(detect):.1f} ms, "
        f"median embed {statistics.median(embed):.1f} ms, mean total {statistics.mean(d + e for d, e in zip(detect, embed)):.1f} ms",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
