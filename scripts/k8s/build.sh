#!/usr/bin/env bash
# build.sh builds the Kubernetes binaries, etcd, CoreDNS and the pause image into .cache/k8s/, once per version.
#
# Nothing ships kube-apiserver for this machine and no container registry is
# reachable, so everything comes from the Go module proxy (docs/kubernetes-on-one-machine.md):
#   - Kubernetes: a throw-away wrapper module that replaces each staging repo
#     (k8s.io/<name> v0.0.0 in k8s.io/kubernetes' go.mod) by its v0.<minor>.<patch> tag;
#   - etcd: a wrapper main around etcdmain.Main (the server module's own replace
#     directives make `go install` refuse it);
#   - CoreDNS: a wrapper main that compiles in only the plugins the cluster's
#     Corefile uses (no forward, no cloud backends: a smaller, faster build, and
#     a binary that cannot send a query beyond this machine whatever its config);
#   - pause: pause.c from the downloaded Kubernetes module, linked statically and
#     packed by pack-image.sh as a docker-archive tar whose only file is /pause.
#
# Idempotent: when every artifact exists and answers --version, nothing is built.
# Each artifact is written beside its final path and renamed into place, so an
# interrupted build never leaves a half-written file where the fast path looks.
# Progress and timings go to stderr; set BUILD_NICE=0 to build at normal priority.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=versions.sh
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

nice_level="${BUILD_NICE:-10}"
work_dir="$K8S_CACHE_DIR/work"
timings_log="$K8S_CACHE_DIR/build-times.log"

log() { echo "build: $*" >&2; }
now() { date +%s; }
now_ms() { date +%s%3N; }

# Record a component's build time on stderr and in build-times.log (the numbers outlive the terminal).
record_time() {
  local name="$1" start="$2" secs
  secs=$(($(now) - start))
  log "$name built in ${secs}s"
  mkdir -p "$K8S_CACHE_DIR"
  echo "$(date -u +%FT%TZ) $name ${secs}s" >>"$timings_log"
}

# Output is captured before matching: with pipefail, `cmd | grep -q` fails
# whenever grep exits before cmd has finished writing (SIGPIPE).
output_has() { local out; out="$("${@:2}" 2>/dev/null)" && [[ "$out" == *"$1"* ]]; }
kube_ok() { [[ -x "$KUBE_BIN_DIR/$1" ]] && output_has "Kubernetes v$KUBE_VERSION" "$KUBE_BIN_DIR/$1" --version; }
etcd_ok() { [[ -x "$ETCD_BIN" ]] && output_has "etcd Version: $ETCD_VERSION" "$ETCD_BIN" --version; }
coredns_ok() { [[ -x "$COREDNS_BIN" ]] && output_has "CoreDNS-$COREDNS_VERSION" "$COREDNS_BIN" -version; }
pause_ok() { [[ -s "$PAUSE_TAR" ]] && output_has "\"$PAUSE_IMAGE\"" tar -xOf "$PAUSE_TAR" manifest.json; }

all_ok() {
  local cmd
  for cmd in "${KUBE_COMMANDS[@]}"; do kube_ok "$cmd" || return 1; done
  etcd_ok && coredns_ok && pause_ok
}

go_build() { nice -n "$nice_level" go build "$@"; }

started=$(now)
started_ms=$(now_ms)
if all_ok; then
  log "all artifacts present for Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, CoreDNS $COREDNS_VERSION, pause $PAUSE_TAG (checked in $(($(now_ms) - started_ms)) ms)"
  exit 0
fi
# Partial files of an interrupted build are useless; a rerun starts them over.
trap 'rm -rf "$KUBE_BIN_DIR"/.*.partial "$ETCD_BIN.partial" "$COREDNS_BIN.partial" "$K8S_CACHE_DIR"/.pause-rootfs.*' EXIT

command -v go >/dev/null || { log "go is not installed"; exit 1; }
mkdir -p "$work_dir" "$KUBE_BIN_DIR" "$(dirname "$ETCD_BIN")" "$(dirname "$COREDNS_BIN")"

# --- Kubernetes wrapper module -------------------------------------------------
kube_mod="$work_dir/kube-$KUBE_VERSION"
kube_module_dir=""

# Creates (or reuses) the wrapper module and sets kube_module_dir to the
# downloaded k8s.io/kubernetes source, which the pause build also needs.
prepare_kube_module() {
  [[ -n "$kube_module_dir" ]] && return 0
  local start gomod staging name cmd
  start=$(now)
  if [[ ! -f "$kube_mod/.ready" ]]; then
    log "preparing wrapper module for k8s.io/kubernetes@v$KUBE_VERSION"
    rm -rf "$kube_mod"
    mkdir -p "$kube_mod"
    (cd "$kube_mod" && go mod init wrapper.local/kube >/dev/null 2>&1)
    gomod="$(cd "$kube_mod" && go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | jq -r .GoMod)"
    [[ -f "$gomod" ]] || { log "go mod download gave no go.mod for k8s.io/kubernetes"; exit 1; }
    # Only requirements written exactly `k8s.io/<name> v0.0.0` are staging repos;
    # pseudo-versions such as v0.0.0-2025... are real modules and stay as they are.
    staging="$(sed -nE 's#^[[:space:]]*(require[[:space:]]+)?(k8s\.io/[A-Za-z0-9._-]+)[[:space:]]+v0\.0\.0([[:space:]].*)?$#\2#p' "$gomod" | sort -u)"
    [[ -n "$staging" ]] || { log "no staging requirements found in $gomod"; exit 1; }
    for name in $staging; do
      (cd "$kube_mod" && go mod edit -replace "$name=$name@v$KUBE_STAGING_VERSION")
    done
    log "replaced $(wc -w <<<"$staging") staging modules with v$KUBE_STAGING_VERSION"
    # One `go get` per command package: a bare `go get k8s.io/kubernetes@...`
    # leaves go.sum without the entries the commands' imports need.
    local pkgs=()
    for cmd in "${KUBE_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd@v$KUBE_VERSION"); done
    (cd "$kube_mod" && nice -n "$nice_level" go get "${pkgs[@]}" >&2)
    touch "$kube_mod/.ready"
    record_time "kube-module-download" "$start"
  fi
  kube_module_dir="$(cd "$kube_mod" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
}

# Without the stamp the binaries report v0.0.0-master and helm refuses charts with a kubeVersion.
kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION \
 -X k8s.io/component-base/version.gitMajor=${KUBE_VERSION%%.*} \
 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION") \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"

build_kube() {
  local cmd="$1" start partial
  prepare_kube_module
  start=$(now)
  partial="$KUBE_BIN_DIR/.$cmd.partial"
  log "building $cmd v$KUBE_VERSION"
  # Static binaries, as the official release builds them; no gcc in the hot loop.
  (cd "$kube_mod" && CGO_ENABLED=0 go_build -o "$partial" -ldflags "$kube_ldflags" "k8s.io/kubernetes/cmd/$cmd")
  mv -f "$partial" "$KUBE_BIN_DIR/$cmd"
  kube_ok "$cmd" || { log "$cmd does not report v$KUBE_VERSION"; exit 1; }
  record_time "$cmd" "$start"
}

# --- pause image ----------------------------------------------------------------
build_pause() {
  local start rootfs
  prepare_kube_module
  start=$(now)
  log "building $PAUSE_IMAGE from $kube_module_dir/build/pause/linux/pause.c"
  rootfs="$(mktemp -d "$K8S_CACHE_DIR/.pause-rootfs.XXXXXX")"
  # Static: the image holds nothing but /pause, no libc to link against.
  gcc -Os -static -Wall -DVERSION="v$PAUSE_TAG" -o "$rootfs/pause" "$kube_module_dir/build/pause/linux/pause.c"
  strip "$rootfs/pause"
  chmod 0755 "$rootfs/pause"
  "$(dirname "${BASH_SOURCE[0]}")/pack-image.sh" "$rootfs" "$PAUSE_IMAGE" "$PAUSE_TAR" /pause
  rm -rf "$rootfs"
  pause_ok || { log "$PAUSE_TAR has no $PAUSE_IMAGE tag"; exit 1; }
  record_time "pause" "$start"
}

# --- etcd -------------------------------------------------------------------------
build_etcd() {
  local start etcd_mod partial
  start=$(now)
  etcd_mod="$work_dir/etcd-$ETCD_VERSION"
  log "building etcd v$ETCD_VERSION"
  if [[ ! -f "$etcd_mod/.ready" ]]; then
    rm -rf "$etcd_mod"
    mkdir -p "$etcd_mod"
    cat >"$etcd_mod/main.go" <<'GO'
// Command etcd is etcd's server entry point, wrapped because the server module's
// replace directives make `go install` of it refuse to build.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    (cd "$etcd_mod" && go mod init wrapper.local/etcd >/dev/null 2>&1 &&
      nice -n "$nice_level" go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2 &&
      nice -n "$nice_level" go mod tidy >&2)
    touch "$etcd_mod/.ready"
  fi
  partial="$ETCD_BIN.partial"
  # etcd reads its version from its own constant, so no ldflags stamp is needed.
  (cd "$etcd_mod" && CGO_ENABLED=0 go_build -o "$partial" -ldflags "-s -w" .)
  mv -f "$partial" "$ETCD_BIN"
  etcd_ok || { log "etcd does not report $ETCD_VERSION"; exit 1; }
  record_time "etcd" "$start"
}

# --- CoreDNS ----------------------------------------------------------------------
build_coredns() {
  local start coredns_mod partial
  start=$(now)
  coredns_mod="$work_dir/coredns-$COREDNS_VERSION"
  log "building CoreDNS v$COREDNS_VERSION"
  if [[ ! -f "$coredns_mod/.ready" ]]; then
    rm -rf "$coredns_mod"
    mkdir -p "$coredns_mod"
    cat >"$coredns_mod/main.go" <<'GO'
// Command coredns is CoreDNS with only the plugins the local cluster's Corefile
// uses. Without forward (or any other upstream plugin) compiled in, no
// configuration can make it send a query beyond this machine.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/template"
)

// The order in which plugins handle a query, as in CoreDNS's plugin.cfg.
func init() {
	dnsserver.Directives = []string{"bind", "ready", "errors", "log", "template", "kubernetes"}
}

func main() { coremain.Run() }
GO
    (cd "$coredns_mod" && go mod init wrapper.local/coredns >/dev/null 2>&1 &&
      nice -n "$nice_level" go get "github.com/coredns/coredns@v$COREDNS_VERSION" >&2 &&
      nice -n "$nice_level" go mod tidy >&2)
    touch "$coredns_mod/.ready"
  fi
  partial="$COREDNS_BIN.partial"
  # The version comes from coremain.CoreVersion; GitCommit only fills the -version line.
  (cd "$coredns_mod" && CGO_ENABLED=0 go_build -o "$partial" \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=v$COREDNS_VERSION" .)
  mv -f "$partial" "$COREDNS_BIN"
  coredns_ok || { log "coredns does not report $COREDNS_VERSION"; exit 1; }
  record_time "coredns" "$start"
}

pause_ok || build_pause
for cmd in "${KUBE_COMMANDS[@]}"; do
  kube_ok "$cmd" || build_kube "$cmd"
done
etcd_ok || build_etcd
coredns_ok || build_coredns

all_ok || { log "some artifact still fails its --version check"; exit 1; }
record_time "all missing artifacts" "$started"
log "artifacts: $KUBE_BIN_DIR, $ETCD_BIN, $COREDNS_BIN, $PAUSE_TAR"
