# lib.sh holds what base.sh, build.sh and curl.sh share: paths, logging, tool installation, debootstrap.
# Sourced, not run. Callers have already set `set -euo pipefail`.
# shellcheck shell=bash disable=SC2034 # variables here are read by the scripts that source this

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Everything we build (rootfs trees, tarballs, archives) stays under the gitignored .cache/.
image_cache="$repo_root/.cache/image"
# The mirror apt on these machines already uses; only package registries are reachable.
debian_mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# What an interrupted or failed run leaves behind is removed on exit: working containers and
# partial directories. Scripts append to these arrays; the EXIT trap is set here once.
cleanup_ctrs=()
cleanup_paths=()
cleanup() {
  local c p
  for c in "${cleanup_ctrs[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  for p in "${cleanup_paths[@]}"; do remove_tree "$p"; done
}
trap cleanup EXIT

log() { echo "${log_prefix:-image}: $*" >&2; }
die() { log "$*"; exit 1; }

# Installs the Debian packages that provide the given commands, once, when a command is missing.
# Usage: need_tools command=package ...
need_tools() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  if ((${#missing[@]} > 0)); then
    [[ "$(id -u)" == 0 ]] || die "need root to apt-get install ${missing[*]}"
    log "apt-get install -y ${missing[*]}"
    # apt-get update only when the package lists are too old to know the package.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
      apt-get update >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
    fi
  fi
}

# Lazily unmounts everything mounted at or below a directory, deepest first. debootstrap mounts
# /proc and /sys inside its target and leaves them there when it fails; `rm -rf` over a live
# sysfs or proc would be both slow and wrong.
unmount_under() {
  local dir mnt
  dir="$(realpath -m "$1")"
  { awk '{print $2}' /proc/self/mounts | grep -E "^${dir}(/|$)" || true; } | sort -r | while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done
}

remove_tree() { # remove_tree <dir>: unmount whatever is left inside, then delete.
  [[ -e "$1" ]] || return 0
  unmount_under "$1"
  rm -rf --one-file-system "$1"
}

# True when an image with this exact name is in buildah's local storage.
image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# debootstrap_cached <suite> <dest> [extra debootstrap args...]: a pristine minbase rootfs of <suite>
# at <dest>, built once into <dest>.partial and renamed, so an interrupted run never leaves a
# half-built tree at the path later runs trust. Returns non-zero (after cleaning up) on failure,
# so the caller can fall back to another suite.
debootstrap_cached() {
  local suite="$1" dest="$2" partial
  shift 2
  if [[ -f "$dest/.debootstrap-ok" ]]; then
    log "debootstrap $suite: cached at $dest"
    return 0
  fi
  partial="$dest.partial"
  remove_tree "$partial"
  cleanup_paths+=("$partial")
  mkdir -p "$(dirname "$dest")"
  log "debootstrap --variant=minbase $* $suite (log: $dest.log)"
  local start=$SECONDS
  if ! debootstrap --variant=minbase "$@" "$suite" "$partial" "$debian_mirror" >"$dest.log" 2>&1; then
    log "debootstrap $suite failed; last lines of $dest.log:"
    tail -n 5 "$dest.log" >&2
    remove_tree "$partial"
    return 1
  fi
  unmount_under "$partial"
  # debootstrap installs the point release only; Debian's images also carry <suite>-updates and
  # the security archive. Same sources as theirs, then one upgrade (a failure only warns: the
  # tree is still a valid, older system).
  rm -f "$partial/etc/apt/sources.list"
  cat >"$partial/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: ${debian_mirror}
Suites: ${suite} ${suite}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${debian_mirror}-security
Suites: ${suite}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  if ! { chroot "$partial" apt-get update && DEBIAN_FRONTEND=noninteractive chroot "$partial" apt-get -y upgrade; } >>"$dest.log" 2>&1; then
    log "WARNING: apt-get upgrade from $suite-updates/$suite-security failed (see $dest.log); keeping the point release"
  fi
  chroot "$partial" apt-get clean >/dev/null 2>&1 || true
  # apt's lists and downloaded .debs are not part of a slim image (the official ones drop them too).
  rm -rf "$partial"/var/lib/apt/lists/* "$partial"/var/cache/apt/archives/*.deb
  date -u +%FT%TZ >"$partial/.debootstrap-ok"
  remove_tree "$dest"
  mv "$partial" "$dest"
  log "debootstrap $suite: done in $((SECONDS - start)) s"
}

# tidy_rootfs <rootfs>: what a container image should not carry from debootstrap, and the "slim"
# trimming of Debian's -slim images (documentation, man pages and translations dropped, licences
# kept), with a dpkg exclude file so packages installed later in a build stay slim too.
tidy_rootfs() {
  local r="$1"
  # The host's resolver config and hostname ("vm"); container runtimes provide both.
  rm -f "$r/etc/resolv.conf" "$r/etc/hostname" "$r/var/log/bootstrap.log"
  mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
  cat >"$r/etc/dpkg/dpkg.cfg.d/geecache-slim" <<'CFG'
# Written by scripts/image (a local stand-in for a Debian -slim image): no docs, man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  find "$r/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/*
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
}

# commit_rootfs <rootfs> <image name> [buildah config args...]: a one-layer image from a directory.
# `buildah mount` + a tar pipe keeps owners, modes, links and device nodes exactly as debootstrap
# made them (buildah copy would chown everything to root).
commit_rootfs() {
  local rootfs="$1" name="$2" ctr mnt
  shift 2
  ctr="$(buildah from scratch)"
  cleanup_ctrs+=("$ctr")
  mnt="$(buildah mount "$ctr")"
  # The .debootstrap-ok marker is ours, not the image's.
  (cd "$rootfs" && tar --exclude=./.debootstrap-ok -cf - .) | tar -xpf - --numeric-owner -C "$mnt"
  buildah umount "$ctr" >/dev/null
  buildah config "$@" "$ctr"
  buildah commit --quiet --rm "$ctr" "$name" >/dev/null
}
