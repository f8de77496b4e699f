#!/usr/bin/env bash
# cluster.sh runs a throw-away single-node Kubernetes on this machine: up | down | status | import | tag | apiserver | kubeconfig.
#
#   up | down | status          start the cluster / stop it leaving nothing behind / list its processes
#   import <image.tar>          load a docker-archive or OCI tar into the cluster's containerd
#   tag <source-ref> <new-ref>  give an imported image another name (e.g. the one a manifest pulls)
#   apiserver stop | start      stop kube-apiserver alone / start it with the same flags and
#                               wait for /readyz; everything else keeps running
#   kubeconfig                  print the admin kubeconfig's path
#
# Components (built by build.sh, packages from install-packages.sh) start in this
# order: etcd, the node address, kube-apiserver, controller-manager, scheduler,
# CoreDNS, containerd, CNI, kubelet, kube-proxy (each needs the ones before it;
# docs/kubernetes-on-one-machine.md says why). Each has its file under cluster/:
# common.sh (settings, daemons, host state), etcd.sh, control-plane.sh, node.sh,
# networking.sh, images.sh; this file holds the verbs.
# Every process, file, mount, link and iptables chain the cluster makes lives in
# (or is recorded in) the run folder, so `down` removes exactly what `up` made.
#
# Servers listen only on 127.0.0.1 or on addresses made here: the node bridge
# k8snode (10.250.0.1), the pod bridge cni0 (10.244.0.0/24), Services 10.96.0.0/24.
#
# Cluster DNS: CoreDNS runs on the host like the other components, on
# 10.250.0.1:53 (udp and tcp), which pods already have a route to; the kubelet
# gives ClusterFirst pods that nameserver and the search list <ns>.svc.cluster.local
# svc.cluster.local cluster.local. CoreDNS answers cluster.local and reverse
# names from the API server and NXDOMAIN for every other name: it has no
# upstream, and build.sh compiles it without any forwarding plugin.
#
# Environment: K8S_RUN_DIR (default .cache/k8s-run), K8S_NODE_NAME, K8S_ETCD_PORT,
# K8S_APISERVER_PORT, K8S_WAIT_SECONDS. Exit 77: this machine cannot run it
# (not root, no cgroups, missing tools, a port taken). The commands after up
# must see the same environment as up did.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=versions.sh
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/common.sh
source "$SCRIPT_DIR/cluster/common.sh"
# shellcheck source=cluster/etcd.sh
source "$SCRIPT_DIR/cluster/etcd.sh"
# shellcheck source=cluster/control-plane.sh
source "$SCRIPT_DIR/cluster/control-plane.sh"
# shellcheck source=cluster/networking.sh
source "$SCRIPT_DIR/cluster/networking.sh"
# shellcheck source=cluster/node.sh
source "$SCRIPT_DIR/cluster/node.sh"
# shellcheck source=cluster/images.sh
source "$SCRIPT_DIR/cluster/images.sh"

cmd_up() {
  local started step
  preflight_host
  if [[ -d "$RUN" ]] && find "$RUN" -mindepth 1 -maxdepth 1 ! -name logs | grep -q .; then
    log "a previous run folder exists; tearing it down first"
    cmd_down
  fi
  preflight_ports
  started=$(now_ms)
  "$SCRIPT_DIR/build.sh"
  rm -rf "$LOGS"
  mkdir -p "$PIDS" "$LOGS" "$PKI" "$CONF" "$KUBELET_ROOT" "$RUN/pod-logs"

  # Whatever stops up before the end (an error, Ctrl-C) takes down what it started.
  trap on_up_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  save_sysctls
  record_missing_host_dirs
  make_pki
  make_credentials

  start_etcd
  make_node_bridge
  start_apiserver
  apply_coredns_rbac
  start_controllers
  start_coredns
  start_containerd
  import_pause_image

  wait_for kube-controller-manager "kube-controller-manager /healthz" curl -fsSk https://127.0.0.1:10257/healthz
  wait_for kube-scheduler "kube-scheduler /healthz" curl -fsSk https://127.0.0.1:10259/healthz
  # Ready once its Service and EndpointSlice caches are synced, so pods resolve names from their start.
  wait_for coredns "CoreDNS /ready" curl -fsS "http://127.0.0.1:$COREDNS_READY_PORT/ready"

  start_kubelet
  start_kube_proxy

  wait_for kubelet "node $NODE_NAME Ready" node_ready
  restore_sysctls "${KUBELET_SYSCTLS[@]}"
  wait_for kube-proxy "kube-proxy /healthz" curl -fsS http://127.0.0.1:10256/healthz

  # Pods are refused until the namespace's default ServiceAccount exists.
  wait_for kube-controller-manager "default ServiceAccount" kc get serviceaccount default
  step=$(now_ms)
  kc run "$CHECK_POD" --image="$PAUSE_IMAGE" --image-pull-policy=Never --restart=Never >/dev/null
  wait_for kubelet "pod $CHECK_POD Running" pod_ready "$CHECK_POD"
  kc delete pod "$CHECK_POD" --wait=true >/dev/null
  log "check pod ran and was deleted in $(since "$step")"

  trap - EXIT INT TERM
  log "up in $(since "$started") (node $NODE_NAME, apiserver https://$NODE_IP:$APISERVER_PORT)"
  echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
}

on_up_exit() {
  local rc=$?
  log "up failed (exit $rc); cleaning up"
  cmd_down || true
}

cmd_down() {
  local started
  started=$(now_ms)
  mkdir -p "$PIDS"
  # The kubelet goes first so it does not restart the containers removed next.
  stop_daemon kubelet 15
  stop_daemon kube-proxy
  stop_daemon coredns
  remember_sandbox_ids
  remove_containers
  stop_daemon containerd 15
  kill_our_shims
  kill_pod_processes
  stop_daemon kube-scheduler
  stop_daemon kube-controller-manager
  stop_daemon kube-apiserver 20
  stop_daemon etcd
  local file
  for file in "$PIDS"/*.pid; do
    if [[ -e "$file" ]]; then stop_daemon "$(basename "$file" .pid)"; fi
  done
  unmount_run_dir
  remove_links
  # kube-proxy knows its own rules best; the generic sweep then catches the rest
  # (the kubelet's chains, the CNI portmap chains, anything from a killed kube-proxy).
  if [[ -x "$KUBE_BIN_DIR/kube-proxy" && "$(iptables-save 2>/dev/null)" == *$'\n:KUBE-'* ]]; then
    timeout 30 "$KUBE_BIN_DIR/kube-proxy" --cleanup --proxy-mode=iptables >/dev/null 2>&1 || true
  fi
  iptables_cleanup iptables
  iptables_cleanup ip6tables
  remove_pod_cgroups
  # Files the kubelet and libcni write outside the run folder, by fixed paths.
  remove_sandbox_leftovers
  find /var/log/containers -maxdepth 1 -type l -lname "$RUN/*" -delete 2>/dev/null || true
  restore_sysctls
  remove_created_host_dirs
  # Logs stay for a post-mortem; up clears them.
  if [[ -d "$RUN" ]]; then
    find "$RUN" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + 2>/dev/null || log "could not remove everything in $RUN"
  fi
  log "down in $(since "$started")"
}

cmd_status() {
  local file name pid up=0 down=0
  if ! compgen -G "$PIDS/*.pid" >/dev/null; then
    echo "cluster: not running (run folder $RUN)"
    return 3
  fi
  for file in "$PIDS"/*.pid; do
    name="$(basename "$file" .pid)"
    if pid="$(live_pid "$name")"; then
      printf '%-24s running (pid %s)\n' "$name" "$pid"
      up=$((up + 1))
    else
      printf '%-24s NOT RUNNING (log %s)\n' "$name" "$LOGS/$name.log"
      down=$((down + 1))
    fi
  done
  if [[ -f "$APISERVER_STOPPED" ]] && ! live_pid kube-apiserver >/dev/null; then
    printf '%-24s STOPPED (cluster.sh apiserver start)\n' kube-apiserver
    down=$((down + 1))
  fi
  if live_pid kube-apiserver >/dev/null; then
    kc get nodes -o wide 2>/dev/null || true
  fi
  echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
  ((down == 0))
}

cmd_apiserver() {
  if [[ ! -f "$PKI/tokens.csv" ]] || ! live_pid etcd >/dev/null; then
    log "no running cluster in $RUN; run cluster.sh up first"
    exit 1
  fi
  case "${1:-}" in
    stop)
      touch "$APISERVER_STOPPED"
      stop_daemon kube-apiserver 20
      ;;
    start)
      if live_pid kube-apiserver >/dev/null; then
        log "kube-apiserver is already running"
        wait_apiserver_ready
      else
        start_apiserver
      fi
      rm -f "$APISERVER_STOPPED"
      ;;
    *) log "usage: cluster.sh apiserver stop | start"; exit 2 ;;
  esac
}

usage="usage: cluster.sh up | down | status | import <image.tar> | tag <source-ref> <new-ref> | apiserver stop|start | kubeconfig"
case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  import) shift; cmd_import "$@" ;;
  tag) shift; cmd_tag "$@" ;;
  apiserver) shift; cmd_apiserver "$@" ;;
  kubeconfig) echo "$ADMIN_KUBECONFIG" ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
esac
