#!/usr/bin/env bash
# curl.sh builds a local stand-in for the chart's `helm test` image (curlimages/curl) and prints its docker-archive tar.
#
# The chart's test pod runs `sh -c '... curl --silent --show-error --fail --retry 5
# --retry-connrefused --retry-delay 2 --max-time 10 "$URL" ...'` as uid 100 / gid 101 with a
# read-only root filesystem. No registry is reachable here, so this image is a Debian minbase
# rootfs with curl (from deb.debian.org) and curlimages' user, committed under the chart's name
# docker.io/curlimages/curl:<tag> (tag read from helm/geecache/values.yaml, tests.image.tag).
# It offers what that script uses (POSIX sh, curl and those flags); it is Debian's curl, not
# curl <tag> on Alpine (see the report printed on stderr).
#
# Suite: CURL_SUITE, else trixie, falling back to bookworm when trixie's debootstrap fails.
# Cached: when the tar exists and the image is in buildah storage nothing is built (FORCE=1
# rebuilds). Progress goes to stderr; stdout carries only the tar's path.
set -euo pipefail
log_prefix="curl" # read by log() in lib.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "run as root (debootstrap, chroot and buildah's storage need it)"

# values.yaml: `tests: image: repository: curlimages/curl` then `tag: 8.20.0`.
tag="${CURL_TAG:-$(awk '/repository: *curlimages\/curl/ {found=1; next} found && /tag:/ {print $2; exit}' \
  "$repo_root/helm/geecache/values.yaml" 2>/dev/null | tr -d '"')}"
tag="${tag:-8.20.0}"
image="docker.io/curlimages/curl:$tag"
tar_path="$image_cache/curl-$tag.tar"
# curlimages/curl's user and group; the chart's runAsUser/runAsGroup use these numbers.
uid=100 gid=101 user=curl_user group=curl_group

need_tools buildah=buildah debootstrap=debootstrap

if [[ "${FORCE:-0}" != 1 && -f "$tar_path" ]] && image_exists "$image"; then
  log "$image is cached"
  echo "$tar_path"
  exit 0
fi
start=$SECONDS

# Its own debootstrap tree (not base.sh's): --include=curl pulls curl's libraries, and
# ca-certificates gives https:// the public roots curlimages ships too.
suite="${CURL_SUITE:-trixie}"
tree="$image_cache/debootstrap/$suite-curl"
if ! debootstrap_cached "$suite" "$tree" --include=curl,ca-certificates; then
  [[ -z "${CURL_SUITE:-}" && "$suite" != bookworm ]] || die "debootstrap $suite failed"
  log "falling back to bookworm: debootstrap $suite failed on this host"
  suite=bookworm
  tree="$image_cache/debootstrap/$suite-curl"
  debootstrap_cached "$suite" "$tree" --include=curl,ca-certificates || die "debootstrap bookworm failed too"
fi

work="$image_cache/curl-$tag.partial"
remove_tree "$work"
cleanup_paths+=("$work")
mkdir -p "$work"
rootfs="$work/rootfs"
cp -a "$tree" "$rootfs"
tidy_rootfs "$rootfs"

# bookworm gives uid 100 to apt's _apt user (trixie moved it to 42): move any other owner of
# 100/101 out of the way, so the chart's numbers mean curl_user/curl_group as in curlimages.
holder="$(chroot "$rootfs" getent passwd "$uid" | cut -d: -f1 || true)"
if [[ -n "$holder" && "$holder" != "$user" ]]; then
  log "uid $uid belongs to $holder in Debian $suite; moving it to uid 999"
  chroot "$rootfs" usermod --uid 999 "$holder"
fi
holder="$(chroot "$rootfs" getent group "$gid" | cut -d: -f1 || true)"
if [[ -n "$holder" && "$holder" != "$group" ]]; then
  log "gid $gid belongs to $holder in Debian $suite; moving it to gid 999"
  chroot "$rootfs" groupmod --gid 999 "$holder"
fi
chroot "$rootfs" groupadd --gid "$gid" "$group"
chroot "$rootfs" useradd --system --uid "$uid" --gid "$group" --create-home --shell /bin/sh "$user"

# The test's own way of running: sh -c, as 100:101, nothing written to /.
chroot --userspec="$uid:$gid" "$rootfs" /bin/sh -c 'set -eu; curl --version | head -n 1; id' >&2 \
  || die "curl does not run as $uid:$gid inside the rootfs"
curl_version="$(chroot "$rootfs" curl --version | awk 'NR==1 {print $2}')"

commit_rootfs "$rootfs" "$image" \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --user "$user" \
  --workingdir "/home/$user" \
  --cmd '["curl"]' \
  --label org.geecache.stand-in="curlimages/curl:$tag, built by scripts/image/curl.sh from Debian $suite (curl $curl_version)"
remove_tree "$work"

partial="$tar_path.partial"
rm -f "$partial"
cleanup_paths+=("$partial")
buildah push --quiet "$image" "docker-archive:$partial:$image" >&2
mv "$partial" "$tar_path"
log "$image (Debian $suite, curl $curl_version, user $user $uid:$gid) -> $tar_path ($(du -h "$tar_path" | cut -f1)) in $((SECONDS - start)) s"
echo "$tar_path"
