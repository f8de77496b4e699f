#!/usr/bin/env bash
# verify.sh runs the built images from their tars the way the chart does and checks the answer and the shutdown.
#
# Usage: scripts/image/verify.sh [geecache tar] [curl tar]   (default: build.sh's and curl.sh's output)
#
# Steps: both docker-archive tars are loaded into a throw-away podman store under .cache/image/
# (so what is checked is the tar Kubernetes would import, not buildah's copy); the geecache image's
# config must say USER node and the Dockerfile's exec-form CMD; it then runs as the chart runs it
# (read-only root, /tmp a tmpfs, the image's own user and CMD) on host networking bound to
# 127.0.0.1; the curl image runs the chart's `helm test` script as 100:101 with a read-only root
# and must read 630 for Tom; finally SIGTERM must make node (PID 1) exit 0 within 15 s.
#
# Host quirks handled here, not in the images: crun refuses the hybrid cgroup mounts, so runc;
# root lacks CAP_SYS_RESOURCE, so podman's default rlimits (nofile 1048576) cannot be applied and
# explicit ones at or below the current hard limits are passed.
# Ports: VERIFY_PEER_PORT (8001) and VERIFY_HTTP_PORT (9999) on 127.0.0.1; they must be free.
# Progress and results go to stderr; exit status 0 means every check passed.
set -euo pipefail
log_prefix="verify" # read by log() in lib.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "run as root"
need_tools podman=podman runc=runc curl=curl
here="$(dirname "${BASH_SOURCE[0]}")"
app_tar="${1:-$("$here/build.sh")}"
curl_tar="${2:-$("$here/curl.sh")}"
peer_port="${VERIFY_PEER_PORT:-8001}"
http_port="${VERIFY_HTTP_PORT:-9999}"
for port in "$peer_port" "$http_port"; do
  ! ss -Hltn "sport = :$port" | grep -q . || die "127.0.0.1:$port is in use; set VERIFY_PEER_PORT/VERIFY_HTTP_PORT"
done

store="$image_cache/verify-store.$$"
cleanup_paths+=("$store")
pod() { podman --root "$store/root" --runroot "$store/run" --storage-driver overlay "$@"; }
run_opts=(--runtime "$(command -v runc)" --network host
  --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
app_ctr="geecache-verify-$$"
# Containers first, then the store's mounts: the EXIT trap runs this before removing $store.
stop_app() { pod rm -f -t 0 "$app_ctr" >/dev/null 2>&1 || true; }
trap 'stop_app; cleanup' EXIT

log "loading $app_tar and $curl_tar into a scratch store"
app_image="$(pod load -q -i "$app_tar" | sed -n 's/^Loaded image: //p' | head -n 1)"
curl_image="$(pod load -q -i "$curl_tar" | sed -n 's/^Loaded image: //p' | head -n 1)"
[[ -n "$app_image" && -n "$curl_image" ]] || die "podman load did not report the image names"
log "loaded $app_image and $curl_image"

fail=0
check() { # check <description> <actual> <expected>
  if [[ "$2" == "$3" ]]; then log "ok   $1: $2"; else log "FAIL $1: got '$2', want '$3'"; fail=1; fi
}
check "image user" "$(pod image inspect --format '{{.Config.User}}' "$app_image")" node
want_cmd="$(sed -n 's/^CMD \(\[.*\]\)$/\1/p' "$repo_root/Dockerfile" | tr -d ' ')"
check "image CMD (exec form, as in the Dockerfile)" \
  "$(pod image inspect --format '{{json .Config.Cmd}}' "$app_image" | tr -d ' ')" "$want_cmd"
check "/app/dist/src/main.js in the image" \
  "$(pod run --rm "${run_opts[@]}" --entrypoint /bin/sh "$app_image" -c 'test -f /app/dist/src/main.js && id -u')" 1000

# As the chart runs it: own user and CMD, read-only root, writable /tmp.
pod run -d --name "$app_ctr" "${run_opts[@]}" --read-only --tmpfs /tmp:size=16m \
  -e GEECACHE_BIND=127.0.0.1 -e GEECACHE_PORT="$peer_port" -e GEECACHE_HTTP_PORT="$http_port" \
  -e GEECACHE_SELF="http://127.0.0.1:$peer_port" "$app_image" >/dev/null
for _ in $(seq 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$http_port/readyz" 2>/dev/null && break
  sleep 0.2
done
check "PID 1 in the container" "$(pod exec "$app_ctr" sh -c 'tr "\0" " " </proc/1/cmdline | cut -d" " -f1; id -u' | tr '\n' ' ')" "node 1000 "

# The chart's helm-test script, verbatim in substance, as its pod runs it.
# shellcheck disable=SC2016 # expanded by the container's sh, not here
test_script='set -eu
body="$(curl --silent --show-error --fail --retry 5 --retry-connrefused --retry-delay 2 --max-time 10 "$URL")"
echo "GET $URL -> $body"
if [ -n "$EXPECTED" ] && [ "$body" != "$EXPECTED" ]; then echo "expected $EXPECTED" >&2; exit 1; fi'
if out="$(pod run --rm "${run_opts[@]}" --user 100:101 --read-only --cap-drop ALL \
  --security-opt no-new-privileges -e URL="http://127.0.0.1:$http_port/api?key=Tom" -e EXPECTED=630 \
  "$curl_image" sh -c "$test_script" 2>&1)"; then
  log "ok   helm-test script in $curl_image: $out"
else
  log "FAIL helm-test script in $curl_image: $out"; fail=1
fi

started=$SECONDS
pod kill --signal TERM "$app_ctr" >/dev/null
code="$(timeout 15 podman --root "$store/root" --runroot "$store/run" --storage-driver overlay wait "$app_ctr" || echo timeout)"
check "exit status after SIGTERM ($((SECONDS - started)) s)" "$code" 0
pod logs "$app_ctr" 2>&1 | tail -n 3 >&2
if pod logs "$app_ctr" 2>&1 | grep -qi "warning"; then
  log "FAIL the container printed a warning:"; pod logs "$app_ctr" 2>&1 | grep -i warning >&2; fail=1
fi

((fail == 0)) || die "verification failed"
log "all checks passed"
