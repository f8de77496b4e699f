#!/usr/bin/env bash
# pack-image.sh packs a root filesystem directory into a one-layer docker-archive tar that `ctr images import` accepts.
#
# Usage: pack-image.sh <rootfs-dir> <image-ref> <out.tar> [entrypoint...]
# e.g.   pack-image.sh rootfs registry.k8s.io/pause:3.6 pause.tar /pause
#
# No registry is reachable and no image builder is needed for images this small:
# a docker-archive is a tar of manifest.json, one config blob named by its
# sha256 and one layer tar. Owner, mtime and entry order are fixed so the same
# rootfs always gives the same digests. The archive is written beside <out.tar>
# and renamed into place, so a reader never sees half an image.
set -euo pipefail

if (($# < 3)); then
  echo "usage: pack-image.sh <rootfs-dir> <image-ref> <out.tar> [entrypoint...]" >&2
  exit 2
fi
rootfs="$1" ref="$2" out="$3"
shift 3
[[ -d "$rootfs" ]] || { echo "pack-image: $rootfs is not a directory" >&2; exit 2; }
[[ "$ref" == *:* ]] || { echo "pack-image: image ref $ref needs a :tag" >&2; exit 2; }

entrypoint="null"
if (($# > 0)); then entrypoint="$(jq -cn '$ARGS.positional' --args "$@")"; fi

work="$(mktemp -d "$(dirname "$out")/.pack-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tar_fixed=(--owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name)

tar --create --file "$work/layer.tar" --directory "$rootfs" "${tar_fixed[@]}" .
layer_sha="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
mkdir "$work/$layer_sha"
mv "$work/layer.tar" "$work/$layer_sha/layer.tar"

jq -cn --arg layer "sha256:$layer_sha" --argjson entrypoint "$entrypoint" '{
  architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
  config: {Entrypoint: $entrypoint, Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
  rootfs: {type: "layers", diff_ids: [$layer]},
  history: [{created: "1970-01-01T00:00:00Z", created_by: "scripts/k8s/pack-image.sh"}]
}' >"$work/config.json"
config_sha="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
mv "$work/config.json" "$work/$config_sha.json"

jq -cn --arg config "$config_sha.json" --arg ref "$ref" --arg layer "$layer_sha/layer.tar" \
  '[{Config: $config, RepoTags: [$ref], Layers: [$layer]}]' >"$work/manifest.json"

# Entries are named without a leading ./ : importers look up "manifest.json" verbatim.
tar --create --file "$work/image.tar" --directory "$work" "${tar_fixed[@]}" \
  manifest.json "$config_sha.json" "$layer_sha"
mv -f "$work/image.tar" "$out"
echo "pack-image: $ref -> $out" >&2
