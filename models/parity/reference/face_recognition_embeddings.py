#!/usr/bin/env python3
"""Runs the `face_recognition` library end to end on photos (`face_locations`: dlib's HOG
detector upsampled once; then `face_encodings` with those boxes) and prints, one JSON object
per photo: its path, size, every box (top, right, bottom, left) and every 128-D encoding.

Used offline to score the reference library itself with `score_embeddings.py`
(docs/ACCURACY.md); never by tests.

    cd ../shared/faces && /work/fr-venv/bin/python \
        $OLDPWD/models/parity/reference/face_recognition_embeddings.py \
        $(find identities -type f | sort) > fr.jsonl
"""
import json
import sys

import face_recognition


def main(paths):
    for path in paths:
        image = face_recognition.load_image_file(path)
        boxes = face_recognition.face_locations(image)
        encodings = face_recognition.face_encodings(image, boxes)
        print(json.dumps({
            "path": path,
            "width": image.shape[1],
            "height": image.shape[0],
            "boxes": boxes,
            "encodings": [e.tolist() for e in encodings],
        }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
