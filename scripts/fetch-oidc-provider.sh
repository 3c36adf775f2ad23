#!/usr/bin/env bash
# Installs the OpenID provider the hub's sign-in tests start (panva's oidc-provider, run by
# node) from the npm registry with `npm ci`: the exact versions of
# hub/tests/integration/support/oidc/package-lock.json, each checked against the lock's SHA-512
# integrity, into
# ${XDG_DATA_HOME:-~/.local/share}/rollcall/oidc-provider/ (or $OIDC_PROVIDER_DIR). Once is
# enough; afterwards the tests work offline. Prints the directory. With --check, installs
# nothing and fails unless the installed versions are the lock's (scripts/dev-setup asks so).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)/hub/tests/integration/support/oidc
dir=${OIDC_PROVIDER_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/rollcall/oidc-provider}
if [ "${1:-}" = --check ]; then
    cmp -s "$here/package-lock.json" "$dir/package-lock.json" && [ -d "$dir/node_modules/oidc-provider" ] && echo "$dir"
    exit
fi
mkdir -p "$dir"
if ! cmp -s "$here/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules/oidc-provider" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null)
fi
echo "$dir"
