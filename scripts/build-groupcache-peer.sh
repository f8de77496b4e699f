#!/usr/bin/env bash
# build-groupcache-peer.sh builds Go groupcache as a peer process (bench/reference/groupcache-server) and prints the binary's path.
#
# The bench compares geecache with it, and the mixed-ring test proves the two speak one protocol.
# Built with the installed Go from the Go module proxy into .cache/bin/, keyed by a hash of the
# reference's sources: a changed main.go, go.mod or go.sum builds a new binary beside the old.
# Exits 1 with a message when there is no `go`. Progress goes to stderr; stdout carries only the path.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$repo_root/bench/reference/groupcache-server"
command -v go >/dev/null 2>&1 || { echo "build-groupcache-peer: no go on PATH" >&2; exit 1; }
hash="$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)"
bin="$repo_root/.cache/bin/groupcache-server-$hash"
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$repo_root/.cache/bin"
echo "build-groupcache-peer: go build $src" >&2
(cd "$src" && go build -o "$bin.partial" .)
mv -f "$bin.partial" "$bin"
echo "$bin"
