#!/usr/bin/env bash
# build.sh builds the repository's Dockerfile with buildah and prints the path of a docker-archive tar of it.
#
# Usage: scripts/image/build.sh [tag]
#
# What is built: by default the committed tree at HEAD (`git archive`), because src/ is often
# mid-refactor in the working tree and a half-moved file breaks `tsc`; IMAGE_SOURCE=worktree
# builds a snapshot of the working tree instead. Either way only the Dockerfile's build context
# (the .dockerignore allow-list: package.json, package-lock.json, tsconfig*.json, src/) plus the
# Dockerfile is copied into a private directory first, so edits during the build cannot leak in.
#
# Tag: the argument, else `c<12 hex>` from a hash of that context, so a tag names one content.
# Cached: when .cache/image/geecache-<tag>.tar exists and was built from the same context hash
# and the same base image, it is printed again without building (FORCE=1 rebuilds). buildah's
# --layers cache additionally reuses the `npm ci` layers while only sources change.
#
# Image name, in buildah's storage and in the tar: docker.io/library/geecache:<tag>, the name
# `ctr -n k8s.io images import` gives it and the one to put in Kubernetes
# (image.repository=docker.io/library/geecache, image.tag=<tag>, pullPolicy Never).
#
# For these machines only: `-v /etc/ssl/certs:/etc/ssl/certs:ro` lets `npm ci` trust the
# TLS-inspecting proxy (base.sh sets NODE_EXTRA_CA_CERTS). The Dockerfile stays as users get it.
#
# Progress goes to stderr; stdout carries only the tar's path.
set -euo pipefail
log_prefix="build" # read by log() in lib.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "run as root (buildah's storage is root's here)"
source_kind="${IMAGE_SOURCE:-head}"
[[ "$source_kind" == head || "$source_kind" == worktree ]] || die "IMAGE_SOURCE must be head or worktree (got '$source_kind')"

need_tools buildah=buildah git=git runc=runc
# FORCE is ours: it rebuilds this image, not the base (run base.sh with FORCE=1 for that).
base_image="$(env -u FORCE "$(dirname "${BASH_SOURCE[0]}")/base.sh")"
base_id="$(buildah inspect --type image --format '{{.FromImageID}}' "$base_image")"

# The build context, exactly as the Dockerfile's COPY lines see it.
context_paths=(Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json src)
mkdir -p "$image_cache"
ctx="$(mktemp -d "$image_cache/context.XXXXXX")"
cleanup_paths+=("$ctx")
if [[ "$source_kind" == head ]]; then
  commit="$(git -C "$repo_root" rev-parse --verify HEAD)"
  # tar.umask=022: files as a checkout under the usual umask has them (git archive's default, 002,
  # would make the image's /app/package.json group-writable).
  git -C "$repo_root" -c tar.umask=0022 archive "$commit" -- "${context_paths[@]}" | tar -xf - -C "$ctx"
  described="HEAD $(git -C "$repo_root" log -1 --format='%h %s' "$commit" | cut -c1-72)"
else
  (cd "$repo_root" && tar -cf - "${context_paths[@]}") | tar -xf - -C "$ctx"
  described="working tree of $repo_root"
fi

# Content hash of the context: relative paths and bytes, in a fixed order.
context_hash="$(cd "$ctx" && find . -type f -print0 | LC_ALL=C sort -z \
  | xargs -0 sha256sum | sha256sum | cut -c1-64)"
tag="${1:-c${context_hash:0:12}}"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$tag' is not a valid image tag"
# Named fully qualified in buildah's storage too, so the archive carries this one name only.
k8s_name="docker.io/library/geecache:$tag"
local_name="$k8s_name"
tar_path="$image_cache/geecache-$tag.tar"
key_path="$image_cache/geecache-$tag.key"
# The key also covers these scripts, so a change in how we build rebuilds.
key="context=$context_hash base=$base_id scripts=$(cat "$(dirname "${BASH_SOURCE[0]}")"/{build,lib}.sh | sha256sum | cut -c1-16)"

if [[ "${FORCE:-0}" != 1 && -f "$tar_path" && -f "$key_path" && "$(cat "$key_path")" == "$key" ]]; then
  log "$k8s_name is up to date for $described"
  echo "$tar_path"
  exit 0
fi

log "buildah bud $described as $local_name (base $base_image)"
start=$SECONDS
# --pull-never: FROM must resolve to base.sh's stand-in, never a registry.
# --network host: npm ci reaches the npm registry (through the proxy) from the build container.
# --layers: keep intermediate layers so unchanged manifests skip npm ci next time.
# --runtime runc: buildah's default, crun, refuses this host's hybrid cgroup v1/v2 mounts
# ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"); runc runs here.
(cd "$ctx" && buildah bud \
  --runtime "$(command -v runc)" \
  --network host \
  --pull-never \
  --layers \
  -v /etc/ssl/certs:/etc/ssl/certs:ro \
  --label org.geecache.context="$context_hash" \
  -t "$local_name" \
  -f Dockerfile \
  . >&2) || die "buildah bud failed (the step and its error are above)"
log "built in $((SECONDS - start)) s"

partial="$tar_path.partial"
rm -f "$partial"
cleanup_paths+=("$partial")
buildah push --quiet "$local_name" "docker-archive:$partial:$k8s_name" >&2
mv "$partial" "$tar_path"
echo "$key" >"$key_path"
# Hash-named tars pile up as sources change (300+ MB each): keep the newest three. Named tags
# (an explicit argument) are never pruned.
find "$image_cache" -maxdepth 1 -name 'geecache-c????????????.tar' -printf '%T@ %p\n' | sort -rn \
  | tail -n +4 | cut -d' ' -f2- | while read -r old; do
  log "pruning $(basename "$old")"
  rm -f "$old" "${old%.tar}.key"
done
log "$k8s_name -> $tar_path ($(du -h "$tar_path" | cut -f1)) in $((SECONDS - start)) s"
echo "$tar_path"
