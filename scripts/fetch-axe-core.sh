#!/usr/bin/env bash
# Fetches axe-core, the accessibility checker the browser tests run in every page (WCAG 2 A
# and AA rules), from the npm registry with `npm pack`, pinned by version and SHA-256, into
# ${XDG_DATA_HOME:-~/.local/share}/rollcall/axe-core/ (or $AXE_CORE_DIR). Once is enough;
# afterwards the tests work offline. Prints the path of axe.min.js. With --check, fetches
# nothing and fails unless it is there (scripts/dev-setup asks so).
set -euo pipefail
version=4.14.1
sha256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
dir=${AXE_CORE_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/rollcall/axe-core}
js=$dir/axe-core-$version/axe.min.js
if [ "${1:-}" = --check ]; then
    [ -f "$js" ] && echo "$js"
    exit
fi
if [ ! -f "$js" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "axe-core@$version" >/dev/null)
    echo "$sha256  $work/axe-core-$version.tgz" | sha256sum --check --quiet
    mkdir -p "$dir/axe-core-$version"
    tar -xzf "$work/axe-core-$version.tgz" -C "$work"
    cp "$work/package/axe.min.js" "$work/package/LICENSE" "$dir/axe-core-$version/"
fi
echo "$js"
