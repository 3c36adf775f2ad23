#!/usr/bin/env bash
# Photos per second of `rollcall-hub enrol` on the developer face set (docs/PERFORMANCE.md):
# a new hub with one student per identity (consent given, by the roster import), a folder of
# the first N photos in name order named by those students' references, enrolled twice (the
# second run finds every photo already enrolled); then the same photos as one zip file,
# deflated, enrolled on a second new hub.
#
#   scripts/enrol-throughput.sh [HUB_BINARY] [N]     (default target/release/rollcall-hub, 1000)
#
# Needs the face models (scripts/dev-setup) and ../shared/faces beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
hub=${1:-target/release/rollcall-hub}
n=${2:-1000}
faces=../shared/faces/identities
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

roster=$work/roster.csv
echo "student_id,student_name,class_id,class_name,consent,consent_by,consent_signed_on,consent_reference" >"$roster"
mkdir "$work/photos"
i=0 taken=0
for person in $(ls "$faces" | sort); do
    i=$((i + 1))
    ref=$(printf 'S%04d' "$i")
    echo "$ref,${person//_/ },ALL,Everyone,given,A parent,2026-09-01,form $i" >>"$roster"
    k=0
    for photo in $(ls "$faces/$person" | sort); do
        [ "$taken" -lt "$n" ] || break 2
        k=$((k + 1))
        name=$ref; [ "$k" -eq 1 ] || name=$ref-$k
        ln -s "$(realpath "$faces/$person/$photo")" "$work/photos/$name.jpg"
        taken=$((taken + 1))
    done
done

printf 'a throughput password\n' >"$work/password"
"$hub" init --data-dir "$work/hub" --admin-user admin --admin-password-file "$work/password" >/dev/null
"$hub" roster import "$roster" --data-dir "$work/hub" >/dev/null
echo "first run ($taken photos of $i students):"
"$hub" enrol "$work/photos" --data-dir "$work/hub" --report "$work/first.csv" | grep "photos/s"
echo "again (every photo enrolled before):"
"$hub" enrol "$work/photos" --data-dir "$work/hub" | grep "photos/s"

echo "the same photos as a zip, on a new hub:"
(cd "$work/photos" && python3 -c '
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(".")):
        z.write(name, "photographer/" + name)
' "$work/photos.zip")
"$hub" init --data-dir "$work/hub2" --admin-user admin --admin-password-file "$work/password" >/dev/null
"$hub" roster import "$roster" --data-dir "$work/hub2" >/dev/null
"$hub" enrol "$work/photos.zip" --data-dir "$work/hub2" | grep "photos/s"
