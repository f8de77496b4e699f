# shellcheck shell=bash
# node.sh is the node: containerd and the kubelet, and tearing down what they leave (containers, shims, pod
# processes and cgroups, sandbox files).

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

# containerd with our CNI network, its socket and state in the run folder.
start_containerd() {
  write_containerd_config
  write_cni_config
  start_daemon containerd containerd --config "$CTRD/config.toml"
  wait_for containerd "containerd socket" ctr_ours version
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

# The kubelet, after the host routes between pods and ClusterIPs.
start_kubelet() {
  # Pods talking to other pods through a ClusterIP are routed by the host.
  sysctl -qw net.ipv4.ip_forward=1
  write_kubelet_config
  start_daemon kubelet "$KUBE_BIN_DIR/kubelet" \
    --config="$CONF/kubelet.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
    --root-dir="$KUBELET_ROOT" --cert-dir="$KUBELET_ROOT/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
}

node_ready() {
  [[ "$(kc get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

pod_ready() {
  [[ "$(kc get pod "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
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
