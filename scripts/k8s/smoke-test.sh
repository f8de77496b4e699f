#!/usr/bin/env bash
# smoke-test.sh proves the local cluster end to end: up, pods, a ClusterIP Service, cluster DNS, logs, exec, tag, an API server restart, down leaving nothing behind, a warm up/down.
#
# Needs root and the packages of install-packages.sh (busybox-static gives the
# test image a shell, wget and httpd). Exit 77 when the machine cannot run the
# cluster; 1 on any failed check. Timings go to stderr at the end.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=versions.sh
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

# Cluster DNS as a pod sees it: its resolv.conf from the kubelet, the Service by
# short name and by FQDN through CoreDNS, the route table it has.
# shellcheck disable=SC2016 # the pod's shell expands $2
kubectl run dns-client --image="$test_image" --image-pull-policy=Never --restart=Never --command -- \
  /bin/busybox sh -c 'cat /etc/resolv.conf
    timeout 10 wget -q -O - http://smoke-web/ && echo short-name-ok
    timeout 10 wget -q -O - http://smoke-web.default.svc.cluster.local/ && echo fqdn-ok
    awk "\$2 == \"00000000\" { print \"has-default-route\" }" /proc/net/route' >/dev/null
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/dns-client --timeout=60s >/dev/null ||
  { kubectl logs dns-client >&2 || true; fail "dns-client pod did not succeed"; }
out="$(kubectl logs dns-client)"
grep -qx "search default.svc.cluster.local svc.cluster.local cluster.local" <<<"$out" || fail "pod resolv.conf has no cluster search list: $out"
grep -qx "nameserver 10.250.0.1" <<<"$out" || fail "pod resolv.conf does not point at CoreDNS: $out"
[[ "$(grep -c '^nameserver' <<<"$out")" == 1 ]] || fail "pod resolv.conf has more than one nameserver: $out"
grep -q short-name-ok <<<"$out" || fail "http://smoke-web/ from a pod failed: $out"
grep -q fqdn-ok <<<"$out" || fail "http://smoke-web.default.svc.cluster.local/ from a pod failed: $out"
! grep -q has-default-route <<<"$out" || fail "pods have a default route: $out"
log "pods resolve smoke-web and smoke-web.default.svc.cluster.local through CoreDNS"

# A name outside cluster.local: NXDOMAIN at once (a resolver that forwarded, or
# timed out, would take seconds). No packet can leave: the binary has no plugin
# that talks to an upstream, CoreDNS's only connection is to the API server,
# and pods have no default route (checked above).
t=$(now_ms)
if ext_out="$(kubectl exec web -- /bin/busybox timeout 10 /bin/busybox wget -q -O - http://example.com/ 2>&1)"; then
  fail "example.com resolved inside the cluster: $ext_out"
fi
ext_ms=$(($(now_ms) - t))
grep -q "bad address 'example.com'" <<<"$ext_out" || fail "example.com failed, but not at name resolution: $ext_out"
((ext_ms < 3000)) || fail "example.com took ${ext_ms} ms to fail (a DNS timeout?)"
plugins="$("$COREDNS_BIN" -plugins)"
for plugin in forward grpc secondary etcd route53 azure clouddns nomad; do
  ! grep -qE "^[[:space:]]*(dns\.)?$plugin\$" <<<"$plugins" || fail "CoreDNS has the $plugin plugin compiled in"
done
coredns_pid="$(cut -d' ' -f1 "$run_dir/pids/coredns.pid")"
sockets="$(ss -Htunap | grep "pid=$coredns_pid,")"
foreign="$(awk '$5 !~ /^(10\.250\.0\.1|127\.0\.0\.1):/ || ($6 != "0.0.0.0:*" && $6 != "10.250.0.1:'"${K8S_APISERVER_PORT:-6443}"'")' <<<"$sockets")"
[[ -z "$foreign" ]] || fail "CoreDNS has sockets beyond the node address and the API server: $foreign"
log "example.com fails in ${ext_ms} ms (NXDOMAIN); CoreDNS has no upstream plugin and talks only to the API server"

# tag: the name a manifest pulls, given to an imported image; a second tag is a no-op.
"$cluster" tag "$test_image" ghcr.io/geecache/smoke:0.1.0 >/dev/null || fail "cluster.sh tag failed"
"$cluster" tag "$test_image" ghcr.io/geecache/smoke:0.1.0 >/dev/null || fail "cluster.sh tag is not idempotent"
kubectl run tagged --image=ghcr.io/geecache/smoke:0.1.0 --image-pull-policy=IfNotPresent --restart=Never --command -- \
  /bin/busybox echo tagged-image-ran >/dev/null
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/tagged --timeout=60s >/dev/null || fail "pod of the tagged image did not run"
log "cluster.sh tag gives an imported image a pullable name"

# apiserver stop/start: kubectl fails while it is down, pods keep running and
# DNS keeps answering from CoreDNS's cache; after start everything works again.
t=$(now_ms)
"$cluster" apiserver stop || fail "cluster.sh apiserver stop failed"
stop_time=$(secs "$t")
if kubectl get pods --request-timeout=3s >/dev/null 2>&1; then fail "kubectl still works with the API server stopped"; fi
if "$cluster" status >/dev/null; then fail "status reports a healthy cluster with the API server stopped"; fi
busybox nslookup smoke-web.default.svc.cluster.local 10.250.0.1 | grep -q "Address: $service_ip" ||
  fail "CoreDNS stopped answering with the API server down"
t=$(now_ms)
"$cluster" apiserver start || fail "cluster.sh apiserver start failed"
start_time=$(secs "$t")
kubectl get pods >/dev/null || fail "kubectl fails after apiserver start"
[[ "$(kubectl get pod web -o jsonpath='{.status.phase} {.status.containerStatuses[0].restartCount}')" == "Running 0" ]] ||
  fail "pod web did not keep running through the API server restart"
exec_out="$(kubectl exec web -- /bin/busybox timeout 10 /bin/busybox wget -q -O - http://smoke-web/)"
grep -q "hello from" <<<"$exec_out" || fail "DNS + Service after the API server restart gave: $exec_out"
"$cluster" status >/dev/null || fail "status is unhealthy after apiserver start"
log "apiserver stop (${stop_time}s) / start (${start_time}s): kubectl down then up, pods and DNS untouched"

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
