#!/usr/bin/env bash
# Per-image speed of Rollcall's pipeline against the `face_recognition` library, on the same
# photos and the same cores, one after the other in one run.
#
#   models/parity/reference/compare.sh [N]     # N photos (default 200) from ../shared/faces
#
# Needs a Python environment with face_recognition (it builds dlib from source: cmake and a
# C++ compiler, about 20 minutes): python3 -m venv /tmp/fr && /tmp/fr/bin/pip install cmake
# face_recognition, then FR_PYTHON=/tmp/fr/bin/python3. Rollcall is timed with the release build.
set -euo pipefail
cd "$(dirname "$0")/../../.."
n=${1:-200}
faces=${ROLLCALL_FACES_DIR:-../shared/faces}
python=${FR_PYTHON:-python3}
mapfile -t photos < <(find "$faces/identities" -type f | sort | awk -v n="$n" 'NR % 14 == 1' | head -n "$n")
cargo build --release -p rollcall-edge >/dev/null
edge="${CARGO_TARGET_DIR:-target}/release/rollcall-edge"
summary() { python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
d = [r["detect_ms"] for r in rows]; e = [r["embed_ms"] or 0 for r in rows]
print(f"{sys.argv[1]}: {len(rows)} images, median detect {statistics.median(d):.1f} ms, "
      f"median embed {statistics.median(e):.1f} ms, mean total {statistics.mean(a + b for a, b in zip(d, e)):.1f} ms")
' "$1"; }
echo "cores: $(nproc), photos: ${#photos[@]}"
"$edge" faces --embed --json "${photos[@]}" | summary rollcall
"$python" models/parity/reference/face_recognition_timing.py "${photos[@]}" | summary face_recognition
