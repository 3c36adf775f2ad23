"""Times the `face_recognition` library on photos named one per line on stdin, for
`rollcall-edge bench --compare-face-recognition`, which interleaves these with its own runs.

Per photo, after decoding (which Rollcall's figure leaves out too): `face_locations` (dlib's
HOG detector, upsampled once: the library's default), then `face_encodings` on those boxes
(dlib's 5-point shape predictor, chip, the dlib ResNet, one jitter: the default). Answers one
JSON line per photo: {"detect_ms", "embed_ms", "faces"}. Prints {"ready": true} once loaded.
"""
import json
import sys
import time

import dlib
import face_recognition


def time_one(path):
    image = face_recognition.load_image_file(path)
    t0 = time.perf_counter()
    boxes = face_recognition.face_locations(image)
    t1 = time.perf_counter()
    encodings = face_recognition.face_encodings(image, boxes)
    t2 = time.perf_counter()
    return {"detect_ms": (t1 - t0) * 1e3, "embed_ms": (t2 - t1) * 1e3, "faces": len(encodings)}


def main():
    print(json.dumps({"ready": True, "dlib": dlib.__version__}), flush=True)
    for line in sys.stdin:
        path = line.rstrip("\n")
        if path:
            print(json.dumps(time_one(path)), flush=True)


if __name__ == "__main__":
    main()
