#!/usr/bin/env bash
# smoke-test.sh proves the local cluster end to end: up, pods, a ClusterIP Service, logs, exec, down leaving nothing behind, a warm up/down.
#
# Needs root and the packages of install-packages.sh (busybox-static gives the
# test image a shell, wget and httpd). Exit 77 when the machine cannot run the
# cluster; 1 on any failed check. Timings go to stderr at the end.
set -euo pipefail

# shellcheck source=versions.sh
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cluster="$here/cluster.sh"
run_dir="${K8S_RUN_DIR:-$K8S_REPO_ROOT/.cache/k8s-run}"
test_image=geecache.local/busybox-test:1
test_tar="$K8S_CACHE_DIR/busybox-test.tar"

log() { echo "smoke-test: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }

# A one-file image: static busybox plus a page for its httpd to serve.
make_test_image() {
  local busybox rootfs
  [[ -s "$test_tar" ]] && return 0
  busybox="$(command -v busybox)" || { log "busybox not found (install-packages.sh)"; exit 77; }
  file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || { log "$busybox is not static"; exit 77; }
  rootfs="$(mktemp -d "$K8S_CACHE_DIR/.busybox-rootfs.XXXXXX")"
  mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/tmp"
  cp "$busybox" "$rootfs/bin/busybox"
  ln -s busybox "$rootfs/bin/sh"
  echo "hello from the geecache smoke test" >"$rootfs/www/index.html"
  "$here/pack-image.sh" "$rootfs" "$test_image" "$test_tar" /bin/busybox
  rm -rf "$rootfs"
}

# Nothing of the cluster may outlive `down`: processes, links, iptables chains, mounts.
check_clean() {
  local leftovers=0 n
  if ip -o link show | grep -E ' (k8snode|cni0|veth[0-9a-f]+)[@:]'; then leftovers=1; fi
  n="$(iptables-save 2>/dev/null | grep -c -E 'KUBE-|CNI-' || true)"
  [[ "$n" == 0 ]] || { log "iptables still has $n KUBE-/CNI- lines"; leftovers=1; }
  n="$(ip6tables-save 2>/dev/null | grep -c -E 'KUBE-|CNI-' || true)"
  [[ "$n" == 0 ]] || { log "ip6tables still has $n KUBE-/CNI- lines"; leftovers=1; }
  if pgrep -af "$K8S_CACHE_DIR|$run_dir|containerd-shim|/pause|busybox httpd"; then leftovers=1; fi
  if grep -F "$run_dir" /proc/self/mounts; then leftovers=1; fi
  if find /sys/fs/cgroup -maxdepth 2 -name 'kubepods*' | grep .; then leftovers=1; fi
  ((leftovers == 0)) || fail "leftovers after down (listed above)"
  log "clean: no links, KUBE-/CNI- rules, processes, mounts or cgroups left"
}

make_test_image

t=$(now_ms)
rc=0
eval "$("$cluster" up)" || rc=$?
((rc == 0)) || exit "$rc"
cold_up=$(secs "$t")

kubectl get nodes -o wide
"$cluster" import "$test_tar" >/dev/null

# A web server behind a ClusterIP Service, fetched from another pod through
# kube-proxy's rules. busybox's wget crashes on TLS and on -T here (timeouts
# come from `timeout`), so the kubernetes Service (10.96.0.1:443 -> the
# apiserver) is checked with a plain TCP connect.
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: smoke-web}}
spec:
  containers:
  - name: httpd
    image: $test_image
    imagePullPolicy: Never
    command: ["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"]
    ports: [{containerPort: 8080}]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: smoke-web}
spec:
  selector: {app: smoke-web}
  ports: [{port: 80, targetPort: 8080}]
EOF
kubectl wait --for=condition=Ready pod/web --timeout=90s >/dev/null || fail "web pod not Ready"
service_ip="$(kubectl get service smoke-web -o jsonpath='{.spec.clusterIP}')"
log "service smoke-web at $service_ip"

kubectl run client --image="$test_image" --image-pull-policy=Never --restart=Never --command -- \
  /bin/busybox sh -c "timeout 10 wget -q -O - http://$service_ip/; echo | nc -w 3 10.96.0.1 443 >/dev/null && echo kubernetes-service-reachable" >/dev/null
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/client --timeout=60s >/dev/null ||
  { kubectl logs client >&2 || true; fail "client pod did not succeed"; }
out="$(kubectl logs client)"
grep -q "hello from the geecache smoke test" <<<"$out" || fail "ClusterIP fetch gave: $out"
grep -q kubernetes-service-reachable <<<"$out" || fail "kubernetes Service 10.96.0.1:443 not reachable from a pod"
log "pod -> ClusterIP -> pod works; pod -> kubernetes Service works"

exec_out="$(kubectl exec web -- /bin/busybox timeout 10 /bin/busybox wget -q -O - "http://$service_ip/")"
grep -q "hello from" <<<"$exec_out" || fail "kubectl exec gave: $exec_out"
kubectl logs web | grep -q 'response:200' || fail "kubectl logs web shows no request"
log "kubectl exec and kubectl logs work"

# What an in-cluster client does: trust kube-root-ca.crt, present a
# ServiceAccount token, talk to the kubernetes Service address (via kube-proxy's
# OUTPUT rules from the host).
ca_file="$run_dir/smoke-ca.crt"
kubectl get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}' >"$ca_file"
sa_token="$(kubectl create token default)"
code="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ca_file" -H "Authorization: Bearer $sa_token" \
  https://10.96.0.1/api)" || fail "TLS to https://10.96.0.1 with kube-root-ca.crt failed"
[[ "$code" == 200 ]] || fail "ServiceAccount token on https://10.96.0.1/api gave HTTP $code"
log "kube-root-ca.crt verifies the apiserver at 10.96.0.1; ServiceAccount tokens authenticate"

t=$(now_ms)
"$cluster" down
down_time=$(secs "$t")
check_clean
"$cluster" down >/dev/null 2>&1 || fail "a second down failed"

t=$(now_ms)
eval "$("$cluster" up)"
warm_up=$(secs "$t")
t=$(now_ms)
"$cluster" down
down2_time=$(secs "$t")
check_clean

log "times: up ${cold_up}s (first), down ${down_time}s, up ${warm_up}s (again), down ${down2_time}s"
