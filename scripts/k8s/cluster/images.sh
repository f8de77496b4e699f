# shellcheck shell=bash
# images.sh loads images into the cluster's containerd (nothing is pulled): the pause image, import, tag.

# The sandbox image every pod starts with; nothing can be pulled here.
import_pause_image() {
  log "importing $PAUSE_IMAGE"
  ctr_ours images import "$PAUSE_TAR" >/dev/null
}

cmd_import() {
  local tar="${1:-}"
  [[ -f "$tar" ]] || { log "usage: cluster.sh import <docker-archive-or-oci.tar>"; exit 2; }
  live_pid containerd >/dev/null || { log "containerd is not running; run cluster.sh up first"; exit 1; }
  ctr_ours images import "$tar"
}

# The name the kubelet uses for REF: docker.io/library/ for a bare name, docker.io/
# for a path without a registry host, :latest when there is no tag or digest.
normalize_ref() {
  local ref="$1" first="${1%%/*}"
  if [[ "$ref" != */* ]]; then
    ref="docker.io/library/$ref"
  elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then
    ref="docker.io/$ref"
  fi
  [[ "${ref##*/}" == *[:@]* ]] || ref="$ref:latest"
  echo "$ref"
}

# tag SOURCE NEW: another name for an imported image; --force replaces a NEW that
# already exists, so tagging twice (or retagging) succeeds.
cmd_tag() {
  local source="${1:-}" target="${2:-}" images
  [[ -n "$source" && -n "$target" && $# == 2 ]] || { log "usage: cluster.sh tag <source-ref> <new-ref>"; exit 2; }
  live_pid containerd >/dev/null || { log "containerd is not running; run cluster.sh up first"; exit 1; }
  images="$(ctr_ours images ls -q)"
  if ! grep -qxF -- "$source" <<<"$images"; then
    source="$(normalize_ref "$source")"
    grep -qxF -- "$source" <<<"$images" || { log "no image $1 in the cluster's containerd (cluster.sh import it first)"; exit 1; }
  fi
  ctr_ours images tag --force "$source" "$(normalize_ref "$target")"
}
