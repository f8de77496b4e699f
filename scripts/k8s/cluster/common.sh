# shellcheck shell=bash
# common.sh holds what every part of cluster.sh shares: the cluster's addresses, ports and run-folder layout,
# logging, starting and stopping daemons (start_daemon, stop_daemon, wait_for), the checks before up, and the
# host settings and directories up changes and down puts back.
# The settings below are read by the other parts, which shellcheck cannot see from here.
# shellcheck disable=SC2034

EXIT_CANNOT_RUN=77

RUN="${K8S_RUN_DIR:-$K8S_REPO_ROOT/.cache/k8s-run}"
NODE_NAME="${K8S_NODE_NAME:-geecache-node}"
NODE_BRIDGE=k8snode
NODE_IP=10.250.0.1
POD_BRIDGE=cni0
POD_SUBNET=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/24
KUBERNETES_SERVICE_IP=10.96.0.1
CLUSTER_DOMAIN=cluster.local
# CoreDNS listens on the node address, which every pod has a route to.
CLUSTER_DNS_IP="$NODE_IP"
COREDNS_READY_PORT=8181
CNI_NETWORK=geecache-k8s
ETCD_PORT="${K8S_ETCD_PORT:-23790}"
ETCD_PEER_PORT=$((ETCD_PORT + 10))
APISERVER_PORT="${K8S_APISERVER_PORT:-6443}"
WAIT_SECONDS="${K8S_WAIT_SECONDS:-120}"
# Fixed default ports of the other components, all bound to loopback or NODE_IP.
LOOPBACK_PORTS=(10248 10249 10256 10257 10259 "$COREDNS_READY_PORT")

PIDS="$RUN/pids"
LOGS="$RUN/logs"
PKI="$RUN/pki"
CONF="$RUN/config"
CTRD="$RUN/containerd"
CTRD_SOCK="$CTRD/containerd.sock"
KUBELET_ROOT="$RUN/kubelet"
ADMIN_KUBECONFIG="$RUN/kubeconfig"
# Left by `apiserver stop` so that status reports the API server as stopped.
APISERVER_STOPPED="$RUN/apiserver-stopped"
SYSCTL_SAVED="$RUN/sysctl.saved"
# A pause container is the cheapest proof that kubelet, containerd and CNI work together.
CHECK_POD=cluster-sh-check

# Host directories that the kubelet, libcni and the shims use at fixed paths
# whatever our configuration says; down removes the ones up found missing
# (only their empty directories and our files, in case someone else uses them).
HOST_DIRS=(/var/lib/kubelet /var/log/containers /var/lib/cni /run/containerd /usr/libexec/kubernetes)

# The kubelet sets these once at start (panic on oops, overcommit, ...); on a
# shared machine up puts them back as soon as the node is Ready.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# Every host setting up may change; up saves them, down restores them.
SYSCTLS=(net.ipv4.ip_forward "${KUBELET_SYSCTLS[@]}")

log() { echo "cluster: $*" >&2; }
cannot_run() { echo "cluster: cannot run here: $*" >&2; exit "$EXIT_CANNOT_RUN"; }
kc() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }
ctr_ours() { ctr --address "$CTRD_SOCK" --namespace k8s.io "$@"; }
now_ms() { date +%s%3N; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }

# The start time (field 22 of /proc/PID/stat) pins a PID to one process, so a
# recycled PID is never signalled. A zombie (state Z) counts as gone: a daemon
# that died during `up` stays our unreaped child.
proc_start_time() { awk '{ sub(/^.*\) /, ""); if ($1 != "Z") print $20 }' "/proc/$1/stat" 2>/dev/null; }

# start_daemon NAME CMD...: runs CMD in its own session (it outlives this shell
# and a Ctrl-C at the terminal), logs to logs/NAME.log, records "PID STARTTIME".
start_daemon() {
  local name="$1" pid
  shift
  log "starting $name"
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  pid=$!
  echo "$pid $(proc_start_time "$pid")" >"$PIDS/$name.pid"
}

# The recorded PID of NAME if that very process is still alive.
live_pid() {
  local file="$PIDS/$1.pid" pid start
  [[ -f "$file" ]] || return 1
  read -r pid start <"$file" || return 1
  [[ -n "$pid" && "$(proc_start_time "$pid")" == "$start" ]] || return 1
  echo "$pid"
}

# stop_daemon NAME [GRACE_SECONDS]: SIGTERM, wait, SIGKILL; forgets the PID.
stop_daemon() {
  local name="$1" grace="${2:-10}" pid i
  if pid="$(live_pid "$name")"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      [[ "$(proc_start_time "$pid")" ]] || break
      sleep 0.1
    done
    if [[ "$(proc_start_time "$pid")" ]]; then
      log "$name did not exit in ${grace}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while [[ "$(proc_start_time "$pid")" ]]; do sleep 0.1; done
    fi
  fi
  rm -f "$PIDS/$name.pid"
}

# wait_for NAME WHAT CMD...: polls CMD until it succeeds. Fails early when NAME's
# process has died, and prints the tail of its log on failure.
wait_for() {
  local name="$1" what="$2" deadline
  shift 2
  deadline=$(($(date +%s) + WAIT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if ! live_pid "$name" >/dev/null; then
      log "$name exited while waiting for $what; last lines of $LOGS/$name.log:"
      tail -n 40 "$LOGS/$name.log" >&2 || true
      return 1
    fi
    if (($(date +%s) >= deadline)); then
      log "timed out after ${WAIT_SECONDS}s waiting for $what; last lines of $LOGS/$name.log:"
      tail -n 40 "$LOGS/$name.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# Checks that need no cluster state: who we are and what is installed.
preflight_host() {
  local tool
  ((EUID == 0)) || cannot_run "must be root (network links, mounts, cgroups)"
  grep -qE '^[^ ]+ /sys/fs/cgroup[^ ]* (cgroup|cgroup2) ' /proc/self/mounts || cannot_run "no cgroup filesystem under /sys/fs/cgroup"
  for tool in ip ss sysctl iptables iptables-save iptables-restore containerd containerd-shim-runc-v2 runc ctr openssl curl jq kubectl setsid; do
    command -v "$tool" >/dev/null 2>&1 || cannot_run "$tool not found (scripts/k8s/install-packages.sh installs the packages)"
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/portmap ]] ||
    cannot_run "CNI plugins missing in /usr/lib/cni (scripts/k8s/install-packages.sh)"
}

# Checks run after our own previous run is torn down: whatever is left belongs to someone else.
preflight_ports() {
  local port
  for port in "$ETCD_PORT" "$ETCD_PEER_PORT" "${LOOPBACK_PORTS[@]}"; do
    if ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then cannot_run "port $port is already in use"; fi
  done
  # CoreDNS binds NODE_IP:53, which a wildcard listener on port 53 would block too.
  if ss -Htuln "sport = :53" 2>/dev/null | awk '{ print $5 }' | grep -qE "^($NODE_IP|0\.0\.0\.0|\*|\[::\]):53$"; then
    cannot_run "port 53 on $NODE_IP is already in use"
  fi
  if ip -o addr show to "$NODE_IP/32" 2>/dev/null | grep -qv " $NODE_BRIDGE "; then
    cannot_run "$NODE_IP is already on another interface"
  fi
}

save_sysctls() {
  local key
  [[ -f "$SYSCTL_SAVED" ]] && return 0
  for key in "${SYSCTLS[@]}"; do
    echo "$key $(sysctl -n "$key" 2>/dev/null || echo '?')"
  done >"$SYSCTL_SAVED"
}

# restore_sysctls [KEY...]: puts back the saved values (of KEYs, or of all and forgets them).
restore_sysctls() {
  local key value
  [[ -f "$SYSCTL_SAVED" ]] || return 0
  while read -r key value; do
    [[ "$value" == "?" ]] && continue
    if (($# > 0)) && [[ " $* " != *" $key "* ]]; then continue; fi
    [[ "$(sysctl -n "$key" 2>/dev/null)" == "$value" ]] || sysctl -qw "$key=$value" >/dev/null 2>&1 || true
  done <"$SYSCTL_SAVED"
  (($# > 0)) || rm -f "$SYSCTL_SAVED"
}

record_missing_host_dirs() {
  local dir
  for dir in "${HOST_DIRS[@]}"; do
    [[ -e "$dir" ]] || echo "$dir"
  done >"$RUN/host-dirs-created"
  # The kubepods cgroups are ours to empty and remove only if no kubelet had made them before us.
  if compgen -G '/sys/fs/cgroup/*/kubepods' >/dev/null || [[ -d /sys/fs/cgroup/kubepods ]]; then
    log "warning: kubepods cgroups already exist; down will leave them alone"
  else
    touch "$RUN/kubepods-ours"
  fi
}

remove_created_host_dirs() {
  local dir
  [[ -f "$RUN/host-dirs-created" ]] || return 0
  while read -r dir; do
    [[ -d "$dir" ]] || continue
    # The kubelet's device-plugin socket is the only file it leaves there.
    rm -f "$dir/device-plugins/kubelet.sock"
    find "$dir" -depth -type d -empty -delete 2>/dev/null || true
  done <"$RUN/host-dirs-created"
}

unmount_run_dir() {
  local mnt
  # Deepest first, so a mount inside another mount goes before its parent.
  awk -v run="$RUN/" 'index($2, run) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || log "could not unmount $mnt"
  done
}
