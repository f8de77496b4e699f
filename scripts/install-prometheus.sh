#!/usr/bin/env bash
# install-prometheus.sh builds Prometheus with Kubernetes service discovery into .cache/prometheus/<version>/prometheus and prints its path.
#
# Debian's prometheus package is built without Kubernetes service discovery (a
# config with kubernetes_sd_configs fails to load), and only package registries
# are reachable, so Prometheus comes from the Go module proxy, as in
# scripts/k8s/build.sh: a throw-away wrapper module requires
# github.com/prometheus/prometheus/cmd/prometheus (no replace directives to undo).
# The build tags leave out every service discovery plugin except Kubernetes (and
# file and http, which the plugins package always keeps), which shortens the cold build.
# The web UI is not embedded (no builtinassets tag): the tests use only the HTTP API.
#
# Idempotent: when the binary exists and reports the pinned version, nothing is built.
# The binary is written beside its final path and renamed into place, so an
# interrupted build never leaves a half-written file where the fast path looks.
# Progress and timings go to stderr; stdout carries only the path. Set
# BUILD_NICE=0 to build at normal priority.
set -euo pipefail

PROMETHEUS_VERSION=3.16.0
# Prometheus 3.x is tagged v0.3<minor>.<patch> in Go (3.16.0 is v0.316.0); go.mod asks for Go 1.26.7.
major="${PROMETHEUS_VERSION%%.*}"
rest="${PROMETHEUS_VERSION#*.}"
MODULE_VERSION="v0.$((major * 100 + ${rest%%.*})).${rest#*.}"
# Only kubernetes_sd_configs is compiled in (see plugins/ in the module); netgo as in the release builds.
BUILD_TAGS="netgo,remove_all_sd,enable_kubernetes_sd"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="$repo_root/.cache/prometheus"
bin="$cache_dir/$PROMETHEUS_VERSION/prometheus"
wrapper="$cache_dir/work/prometheus-$PROMETHEUS_VERSION"
nice_level="${BUILD_NICE:-10}"

log() { echo "install-prometheus: $*" >&2; }
now() { date +%s; }
# Output is captured before matching: with pipefail, `cmd | grep -q` fails
# whenever grep exits before cmd has finished writing (SIGPIPE).
output_has() { local out; out="$("${@:2}" 2>&1)" && [[ "$out" == *"$1"* ]]; }
prometheus_ok() { [[ -x "$bin" ]] && output_has "prometheus, version $PROMETHEUS_VERSION " "$bin" --version; }

if prometheus_ok; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "go is not installed"; exit 1; }
partial="$bin.partial"
trap 'rm -f "$partial"' EXIT
mkdir -p "$(dirname "$bin")"

started=$(now)
if [[ ! -f "$wrapper/.ready" ]]; then
  log "preparing wrapper module for github.com/prometheus/prometheus@$MODULE_VERSION"
  rm -rf "$wrapper"
  mkdir -p "$wrapper"
  (cd "$wrapper" && go mod init wrapper.local/prometheus >/dev/null 2>&1 &&
    nice -n "$nice_level" go get "github.com/prometheus/prometheus/cmd/prometheus@$MODULE_VERSION" >&2)
  touch "$wrapper/.ready"
fi

log "building prometheus $PROMETHEUS_VERSION with tags $BUILD_TAGS"
# Static, no gcc needed; the stamp makes --version (and the fast path) report the release.
(cd "$wrapper" && CGO_ENABLED=0 nice -n "$nice_level" go build -tags "$BUILD_TAGS" -o "$partial" \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Revision=$MODULE_VERSION" \
  github.com/prometheus/prometheus/cmd/prometheus)
mv -f "$partial" "$bin"
prometheus_ok || { log "$bin does not report version $PROMETHEUS_VERSION"; exit 1; }
log "prometheus $PROMETHEUS_VERSION built in $(($(now) - started))s"
echo "$bin"
