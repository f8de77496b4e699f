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
# Components (built by build.sh, packages from install-packages.sh) start in the
# order that worked here (KUBERNETES.md): etcd, the node address, kube-apiserver,
# controller-manager, scheduler, CoreDNS, containerd, CNI, kubelet, kube-proxy.
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

# --- processes ---------------------------------------------------------------------

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

# --- files -------------------------------------------------------------------------

make_pki() {
  local ext="$PKI/apiserver.ext"
  mkdir -p "$PKI"
  # One CA signs the apiserver's serving cert; kubeconfigs and kube-root-ca.crt carry it.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=geecache-k8s-ca" \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  # Pods reach the apiserver as kubernetes.default (10.96.0.1), the host as 10.250.0.1.
  cat >"$ext" <<EOF
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:$NODE_IP, IP:$KUBERNETES_SERVICE_IP, IP:127.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:$NODE_NAME
EOF
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$PKI/apiserver.crt" 2>/dev/null
  # Service-account tokens are signed with sa.key and checked with sa.pub.
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
}

# write_kubeconfig FILE USER TOKEN
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: geecache-k8s
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: geecache-k8s
  context: {cluster: geecache-k8s, user: $2, namespace: default}
current-context: geecache-k8s
EOF
  chmod 600 "$1"
}

make_credentials() {
  local admin_token node_token coredns_token
  admin_token="$(openssl rand -hex 24)"
  node_token="$(openssl rand -hex 24)"
  coredns_token="$(openssl rand -hex 24)"
  # The kubelet authenticates as a node so the Node authorizer and NodeRestriction apply to it.
  # CoreDNS is a user in no group: it may do only what apply_coredns_rbac grants.
  cat >"$PKI/tokens.csv" <<EOF
$admin_token,admin,uid-admin,"system:masters"
$node_token,system:node:$NODE_NAME,uid-node,"system:nodes"
$coredns_token,system:coredns,uid-coredns
EOF
  chmod 600 "$PKI/tokens.csv"
  write_kubeconfig "$ADMIN_KUBECONFIG" admin "$admin_token"
  write_kubeconfig "$CONF/kubelet.kubeconfig" "system:node:$NODE_NAME" "$node_token"
  write_kubeconfig "$CONF/coredns.kubeconfig" system:coredns "$coredns_token"
}

# The rights kubeadm gives CoreDNS (its system:coredns ClusterRole), bound to
# our token's user rather than a ServiceAccount, since CoreDNS runs on the host.
apply_coredns_rbac() {
  kc apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns"}
EOF
}

write_corefile() {
  cat >"$CONF/Corefile" <<EOF
# Service, pod and reverse (Service and pod IP) names come from the API server.
# No fallthrough: a name the cluster does not know is NXDOMAIN.
$CLUSTER_DOMAIN:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $CLUSTER_DNS_IP
    errors
    log . {
        class denial error
    }
    ready 127.0.0.1:$COREDNS_READY_PORT
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $CONF/coredns.kubeconfig
        pods insecure
    }
}
# Every other name: there is no upstream (no internet, and no query may leave
# this machine), so answer NXDOMAIN at once rather than let clients time out.
.:53 {
    bind $CLUSTER_DNS_IP
    errors
    log . {
        class denial error
    }
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
}

write_containerd_config() {
  mkdir -p "$CTRD"/{root,state,runc,opt}
  # Only what differs from containerd's defaults; every path is ours so this
  # containerd never meets the system one (/run/containerd, /var/lib/containerd).
  cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$CTRD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE and cannot lower oom_score_adj: without
  # this every sandbox fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  # Pod network namespaces are mounted under our state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_tcp_service = true

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni/net.d"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # No systemd here: the kubelet uses the cgroupfs driver too.
        SystemdCgroup = false
        Root = "$CTRD/runc"
EOF
}

write_cni_config() {
  mkdir -p "$RUN/cni/net.d" "$RUN/cni/ipam"
  # Routes cover only the Service range and the node address, not a default
  # route: pods can reach the cluster and nothing beyond this machine.
  # No ipMasq for the same reason (nothing outside to masquerade to).
  cat >"$RUN/cni/net.d/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_SUBNET"}]],
        "routes": [{"dst": "$SERVICE_CIDR"}, {"dst": "$NODE_IP/32"}],
        "dataDir": "$RUN/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
}

write_kubelet_config() {
  cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
# Test cluster: the apiserver (logs, exec, port-forward) talks to the kubelet unauthenticated.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$CTRD_SOCK
cgroupDriver: cgroupfs
# These machines mount cgroup v1, which kubelet >= 1.35 refuses unless told otherwise.
failCgroupV1: false
failSwapOn: false
# cadvisor misjudges this disk as nearly full; eviction and image GC would then
# delete our imported images, which cannot be pulled back.
evictionHard: {memory.available: "0%", nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: $RUN/pod-logs
volumePluginDir: $KUBELET_ROOT/volume-plugins
# No host resolv.conf in pods: their DNS queries would go to the host's
# resolver, beyond the addresses this cluster may talk to. ClusterFirst pods get
# CoreDNS alone, the cluster search list and options ndots:5.
resolvConf: ""
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
serializeImagePulls: false
EOF
}

# --- host state --------------------------------------------------------------------

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

make_node_bridge() {
  # This kernel has no dummy netdev; a bridge without ports holds an address just as well.
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || ip link add "$NODE_BRIDGE" type bridge
  ip addr replace "$NODE_IP/32" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
}

# iptables_cleanup FAMILY (iptables | ip6tables): removes every KUBE-* chain
# (kube-proxy, kubelet) and the CNI chains and rules of our network, in one
# --noflush restore so other rules on this machine are left as they are.
iptables_cleanup() {
  local family="$1" table save script
  command -v "$family-save" >/dev/null 2>&1 || return 0
  for table in filter nat mangle raw; do
    save="$("$family-save" -t "$table" 2>/dev/null)" || continue
    script="$(awk -v net="$CNI_NETWORK" -v table="$table" '
      # Pass over iptables-save output once, then decide.
      /^:/ { chain = substr($1, 2); chains[++n] = chain; next }
      /^-A / {
        rules[++r] = $0; rule_chain[r] = $2
        if (index($0, "name: \\\"")) {
          if (index($0, "name: \\\"" net "\\\"")) mine_rule[r] = 1
          else foreign = 1
        }
      }
      function target(line) {
        if (match(line, / -[jg] [^ ]+/)) return substr(line, RSTART + 4, RLENGTH - 4)
        return ""
      }
      END {
        # Our chains: all KUBE-*, per-container CNI-* chains holding our rules, and
        # the shared CNI-HOSTPORT-* chains when no other CNI network uses them.
        for (i = 1; i <= r; i++) {
          if (!mine_rule[i]) continue
          if (rule_chain[i] ~ /^CNI-/ && rule_chain[i] !~ /^CNI-HOSTPORT-/) ours[rule_chain[i]] = 1
          t = target(rules[i])
          if (t ~ /^CNI-/ && t !~ /^CNI-HOSTPORT-/) ours[t] = 1
        }
        for (i = 1; i <= n; i++) {
          if (chains[i] ~ /^KUBE-/) ours[chains[i]] = 1
          if (chains[i] ~ /^CNI-HOSTPORT-/ && !foreign) ours[chains[i]] = 1
        }
        out = ""
        for (i = 1; i <= r; i++) {
          if (ours[rule_chain[i]]) continue
          if (mine_rule[i] || ours[target(rules[i])]) out = out "-D " substr(rules[i], 4) "\n"
        }
        for (i = 1; i <= n; i++) if (ours[chains[i]]) out = out "-F " chains[i] "\n"
        for (i = 1; i <= n; i++) if (ours[chains[i]]) out = out "-X " chains[i] "\n"
        if (out != "") printf "*%s\n%sCOMMIT\n", table, out
      }' <<<"$save")"
    if [[ -n "$script" ]]; then
      "$family-restore" --noflush <<<"$script" || log "could not remove all $family $table rules"
    fi
  done
}

# Processes of our pods: everything in the kubepods cgroups our kubelet made.
kill_pod_processes() {
  local procs pid
  [[ -f "$RUN/kubepods-ours" ]] || return 0
  procs="$(find /sys/fs/cgroup -path '*/kubepods*' -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)" || true
  for pid in $procs; do kill -KILL "$pid" 2>/dev/null || true; done
}

remove_pod_cgroups() {
  local dir
  [[ -f "$RUN/kubepods-ours" ]] || return 0
  for dir in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d "$dir" ]] || continue
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# Shims of our containerd only: they carry our socket in their -address argument.
kill_our_shims() {
  local cmdline pid args
  for cmdline in /proc/[0-9]*/cmdline; do
    args="$({ tr '\0' '\n' <"$cmdline"; } 2>/dev/null)" || continue
    [[ "$args" == *containerd-shim* ]] || continue
    grep -qxF -- "$CTRD_SOCK" <<<"$args" || continue
    pid="${cmdline#/proc/}"
    pid="${pid%/cmdline}"
    log "killing leftover shim $pid"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# Sandboxes torn down by down never see a CNI DEL, so libcni's cached results
# (/var/lib/cni/results/*-<id>-*) go by hand, and so does the socket of a shim
# that had to be killed. containerd's own directories name every sandbox even
# when containerd itself is dead.
remember_sandbox_ids() {
  local dir
  for dir in "$CTRD/root/io.containerd.grpc.v1.cri/sandboxes" "$CTRD/state/io.containerd.runtime.v2.task/k8s.io"; do
    [[ -d "$dir" ]] && ls -1 "$dir" >>"$RUN/cni-ids"
  done
  return 0
}

remove_sandbox_leftovers() {
  local id hash
  rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
  [[ -f "$RUN/cni-ids" ]] || return 0
  sort -u "$RUN/cni-ids" | while read -r id; do
    [[ -n "$id" ]] || continue
    rm -f /var/lib/cni/results/*-"$id"-* 2>/dev/null || true
    # containerd 1.6 names a shim's socket /run/containerd/s/sha256(<containerd socket>/<namespace>/<id>).
    hash="$(printf '%s' "$CTRD_SOCK/k8s.io/$id" | sha256sum | cut -d' ' -f1)"
    rm -f "/run/containerd/s/$hash"
  done
}

# Kills and deletes our containers through our containerd, if it still runs.
remove_containers() {
  local id
  live_pid containerd >/dev/null || return 0
  for id in $(ctr_ours tasks ls -q 2>/dev/null); do
    ctr_ours tasks kill --signal SIGKILL "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ours tasks ls -q 2>/dev/null); do
    ctr_ours tasks delete --force "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ours containers ls -q 2>/dev/null); do
    ctr_ours containers delete "$id" >/dev/null 2>&1 || true
  done
}

unmount_run_dir() {
  local mnt
  # Deepest first, so a mount inside another mount goes before its parent.
  awk -v run="$RUN/" 'index($2, run) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || log "could not unmount $mnt"
  done
}

remove_links() {
  local veth
  for veth in $(ip -o link show master "$POD_BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
    ip link delete "$veth" 2>/dev/null || true
  done
  ip link delete "$POD_BRIDGE" 2>/dev/null || true
  ip link delete "$NODE_BRIDGE" 2>/dev/null || true
}

# --- commands ----------------------------------------------------------------------

# Starts kube-apiserver and waits for /readyz; up and `apiserver start` share it.
# Every flag comes from constants and run-folder files, so a restart gets the same ones.
# --shutdown-watch-termination-grace-period ends open watches at SIGTERM: without
# it the HTTP server waits for them until its 60 s shutdown timeout, and
# `apiserver stop` under load ended in SIGKILL after 20 s.
start_apiserver() {
  start_daemon kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
    --cert-dir="$PKI/apiserver-certs" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --kubelet-preferred-address-types=InternalIP \
    --shutdown-watch-termination-grace-period=5s \
    --profiling=false
  wait_apiserver_ready
}

wait_apiserver_ready() {
  local token
  token="$(awk -F, '$2 == "admin" { print $1 }' "$PKI/tokens.csv")"
  wait_for kube-apiserver "kube-apiserver /readyz" \
    curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $token" "https://$NODE_IP:$APISERVER_PORT/readyz"
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

  start_daemon etcd "$ETCD_BIN" --name=geecache-k8s --data-dir="$RUN/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="geecache-k8s=http://127.0.0.1:$ETCD_PEER_PORT" --log-level=warn \
    --unsafe-no-fsync # a throw-away cluster: fsync only slows it down on these disks
  wait_for etcd "etcd health" curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

  make_node_bridge

  start_apiserver
  apply_coredns_rbac

  # '*' runs every controller: a shorter list leaves e.g. StatefulSets without pods.
  # --root-ca-file fills the kube-root-ca.crt ConfigMap pods use to trust the apiserver.
  start_daemon kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig="$ADMIN_KUBECONFIG" --authentication-kubeconfig="$ADMIN_KUBECONFIG" \
    --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
    --bind-address=127.0.0.1 --cert-dir="$PKI/controller-manager-certs" \
    --controllers='*' --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --flex-volume-plugin-dir="$KUBELET_ROOT/volume-plugins" \
    --leader-elect=false --profiling=false
  start_daemon kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" \
    --kubeconfig="$ADMIN_KUBECONFIG" --authentication-kubeconfig="$ADMIN_KUBECONFIG" \
    --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
    --bind-address=127.0.0.1 --cert-dir="$PKI/scheduler-certs" \
    --leader-elect=false --profiling=false
  write_corefile
  start_daemon coredns "$COREDNS_BIN" -conf "$CONF/Corefile"

  write_containerd_config
  write_cni_config
  start_daemon containerd containerd --config "$CTRD/config.toml"
  wait_for containerd "containerd socket" ctr_ours version
  log "importing $PAUSE_IMAGE"
  ctr_ours images import "$PAUSE_TAR" >/dev/null

  wait_for kube-controller-manager "kube-controller-manager /healthz" curl -fsSk https://127.0.0.1:10257/healthz
  wait_for kube-scheduler "kube-scheduler /healthz" curl -fsSk https://127.0.0.1:10259/healthz
  # Ready once its Service and EndpointSlice caches are synced, so pods resolve names from their start.
  wait_for coredns "CoreDNS /ready" curl -fsS "http://127.0.0.1:$COREDNS_READY_PORT/ready"

  # Pods talking to other pods through a ClusterIP are routed by the host.
  sysctl -qw net.ipv4.ip_forward=1
  write_kubelet_config
  start_daemon kubelet "$KUBE_BIN_DIR/kubelet" \
    --config="$CONF/kubelet.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
    --root-dir="$KUBELET_ROOT" --cert-dir="$KUBELET_ROOT/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"

  # Conntrack sizes 0: leave the host's values (setting them needs CAP_SYS_RESOURCE-like rights
  # and changes the whole machine). NodePorts only on the node address, never on eth0.
  start_daemon kube-proxy "$KUBE_BIN_DIR/kube-proxy" \
    --kubeconfig="$ADMIN_KUBECONFIG" --hostname-override="$NODE_NAME" --bind-address="$NODE_IP" \
    --proxy-mode=iptables --cluster-cidr="$CLUSTER_CIDR" --nodeport-addresses="$NODE_IP/32" \
    --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249 \
    --conntrack-max-per-core=0 --conntrack-min=0 \
    --conntrack-tcp-timeout-established=0s --conntrack-tcp-timeout-close-wait=0s

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

node_ready() {
  [[ "$(kc get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

pod_ready() {
  [[ "$(kc get pod "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
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
